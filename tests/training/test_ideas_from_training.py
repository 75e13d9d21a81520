"""Training that feeds ideas (issue 15), the idea side: an idea started from a reflection names
its module (never the reflection), the module's page lists the ideas started from it, the
reflections inbox shows which reflections became ideas, and the new-idea form says plainly
what becomes public."""

from __future__ import annotations

import pytest

from serviceideas.extensions import db
from serviceideas.ideas import services as ideas
from serviceideas.ideas.models import Lens, Status
from serviceideas.people.models import Role
from tests.conftest import count_queries

SECRET = "I was rude to a caller on Tuesday and I regret how I handled it."


def text(response):
    return response.get_data(as_text=True)


@pytest.fixture
def trainer(make_user):
    return make_user(Role.TRAINER)


def idea_from(enrolment, title="Calm scripts for hard calls"):
    """The learner submits an idea from their reflection, as the new-idea form does."""
    draft = ideas.IdeaDraft(
        title=title,
        problem="Hard calls go badly.",
        proposal="Practise them.",
        lens=Lens.CARE,
        beneficiary=None,
        origin=f"module:{enrolment.assignment.module_id}",
    )
    idea = ideas.submit_idea(enrolment.user, draft)
    db.session.commit()
    return idea


def test_the_idea_page_names_the_module_it_started_in_but_not_the_reflection(
    client_as, make_user, make_enrolment
):
    enrolment = make_enrolment("reflection", answer=SECRET)
    idea = idea_from(enrolment)
    page = text(client_as(make_user()).get(f"/ideas/{idea.id}"))
    title = enrolment.assignment.module.title
    assert f"Started in the module <em>{title}</em>" in page
    assert "rude to a caller" not in page


def test_an_idea_not_started_from_training_names_no_module(client_as, make_user, make_idea):
    idea = make_idea()
    assert "Started in the module" not in text(client_as(make_user()).get(f"/ideas/{idea.id}"))


def test_the_module_page_lists_the_ideas_started_from_it_with_their_status(
    client_as, trainer, make_user, make_enrolment, make_module
):
    module = make_module("reflection")
    first = make_enrolment(module=module, answer=SECRET)
    second = make_enrolment(
        module=module, answer="A different reflection, long enough to count as one."
    )
    idea_from(first, "Calm scripts for hard calls")
    declined = idea_from(second, "A quiet room for breaks")
    ideas.change_status(
        make_user(Role.MANAGER), declined, ideas.Decision(Status.DECLINED, note="No room.")
    )
    db.session.commit()
    client = client_as(trainer)
    with count_queries() as few:
        page = text(client.get(f"/training/modules/{module.id}"))
    assert "Ideas started from this module" in page
    assert "Calm scripts for hard calls" in page and "A quiet room for breaks" in page
    assert ">Declined<" in page and ">Submitted<" in page
    assert SECRET not in page
    for n in range(3):
        more = make_enrolment(
            module=module, answer=f"Another reflection number {n}, long enough to count as one."
        )
        idea_from(more, f"More idea {n}")
    with count_queries() as many:
        assert "More idea 2" in text(client.get(f"/training/modules/{module.id}"))
    assert many.count == few.count
    other = make_module("reflection")
    assert "None yet" in text(client.get(f"/training/modules/{other.id}"))


def test_the_inbox_links_each_reflection_that_became_an_idea(client_as, trainer, make_enrolment):
    became = make_enrolment("reflection", answer=SECRET)
    stayed = make_enrolment(
        "reflection", answer="Nothing came of this one, and that is fine, as it often is."
    )
    idea = idea_from(became)
    client = client_as(trainer)
    with count_queries() as few:
        page = text(client.get("/training/reflections"))
    start = page.index(f'id="reflection-{became.id}"')
    end = page.index("</article>", start)
    assert f'href="/ideas/{idea.id}"' in page[start:end]
    start = page.index(f'id="reflection-{stayed.id}"')
    assert "Became an idea" not in page[start : page.index("</article>", start)]
    for n in range(3):
        idea_from(
            make_enrolment(
                "reflection", answer=f"A reflection {n} that became an idea, long enough to count."
            )
        )
    with count_queries() as many:
        assert text(client.get("/training/reflections")).count("Became an idea") == 4
    assert many.count == few.count
    # Feedback answered with htmx keeps the link.
    answered = client.post(
        f"/training/reflections/{became.id}/feedback",
        data={"feedback": "Thank you."},
        headers={"HX-Request": "true"},
    )
    assert f'href="/ideas/{idea.id}"' in text(answered)


def test_starting_an_idea_from_a_reflection_says_it_will_be_public_and_is_a_copy(
    client_as, make_enrolment
):
    enrolment = make_enrolment("reflection", answer=SECRET)
    client = client_as(enrolment.user)
    origin = f"module:{enrolment.assignment.module_id}"
    form = text(
        client.post("/ideas/new", data={"prefill": "1", "problem": SECRET, "origin": origin})
    )
    assert "This idea will be <strong>public</strong>" in form
    assert "copy of your <strong>private</strong> reflection: edit it before sending" in form
    # A blank form (or one started from a reading, with nothing copied) has nothing to warn of.
    assert "will be <strong>public</strong>" not in text(client.get("/ideas/new"))
    assert "will be <strong>public</strong>" not in text(client.get(f"/ideas/new?origin={origin}"))
