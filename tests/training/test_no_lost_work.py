"""Nothing a person typed into training is lost: an answer sent after its assignment was
withdrawn, a completion after the module changed, a refused form and Back, a draft, and two
trainers editing one module (docs/product.md, "Training")."""

from __future__ import annotations

import re
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa

from serviceideas.database import utcnow
from serviceideas.extensions import db
from serviceideas.people.models import Role
from serviceideas.refusals import KEPT_FOR, RefusedForm
from serviceideas.training import services
from serviceideas.training.models import AnswerDraft, Assignment, Audience, Module, Reflection

LONG_ANSWER = (
    "The team I serve is the warehouse. They wait for my orders every morning, and when I am "
    "late they stand idle. I had never counted that as a customer waiting. " * 3
).strip()
MODULE = {
    "title": "Who waits for you",
    "summary": "Internal customers.",
    "body": "First paragraph.\n\nSecond paragraph.",
    "kind": "reflection",
    "prompt": "Who waits for your work?",
    "minutes": "20",
}


def text(response):
    return response.get_data(as_text=True)


def follow(client, response):
    assert response.status_code == 303, text(response)
    return client.get(response.headers["Location"])


def hidden(page, name):
    found = re.search(rf'<input[^>]*name="{name}"[^>]*value="([^"]*)"', page)
    assert found, f"no hidden {name}"
    return found.group(1)


def ids(page):
    return Counter(re.findall(r'\sid="([^"]+)"', page))


@pytest.fixture
def trainer(make_user):
    return make_user(Role.TRAINER, name="Tara Trainer")


# Withdrawing an assignment while someone writes


def test_an_answer_sent_after_its_assignment_was_withdrawn_is_kept_as_a_draft(
    client_as, make_enrolment, trainer
):
    enrolment = make_enrolment("reflection")
    learner = client_as(enrolment.user)
    page = text(learner.get(f"/training/enrolments/{enrolment.id}"))
    client_as(trainer).post(
        f"/training/assignments/{enrolment.assignment_id}/withdraw", data={"confirmed": "yes"}
    )

    response = learner.post(
        f"/training/enrolments/{enrolment.id}/complete",
        data={"answer": LONG_ANSWER, "module_version": hidden(page, "module_version")},
    )
    assert response.status_code == 303
    assert response.headers["Location"] == f"/training/enrolments/{enrolment.id}"
    shown = text(learner.get(response.headers["Location"]))
    assert "This training was withdrawn while you were writing" in shown
    assert "I had never counted that as a customer waiting." in shown
    assert "Turn this into a service idea" in shown
    draft = db.session.get(AnswerDraft, enrolment.id)
    assert draft is not None and draft.text == LONG_ANSWER
    assert db.session.get(Reflection, enrolment.id) is None  # not sent to trainers
    db.session.refresh(enrolment)
    assert not enrolment.is_done

    # It stays on the learner's list, outside their progress; trainers never see it.
    mine = text(learner.get("/training"))
    assert "Withdrawn, with your draft" in mine and "Draft saved" in mine
    assert enrolment.assignment.module.title in mine
    assert "0 of 0 done" in mine
    inbox = text(client_as(trainer).get("/training/reflections?show=all"))
    assert "I had never counted" not in inbox


def test_a_reading_confirmed_after_withdrawal_is_told_so_without_an_error(
    client_as, make_enrolment, trainer
):
    enrolment = make_enrolment()
    client_as(trainer).post(
        f"/training/assignments/{enrolment.assignment_id}/withdraw", data={"confirmed": "yes"}
    )
    learner = client_as(enrolment.user)
    response = learner.post(f"/training/enrolments/{enrolment.id}/complete")
    assert "there is nothing left to complete" in text(follow(learner, response))


def test_withdrawing_asks_first_saying_how_many_have_it_unfinished_or_started(
    client_as, make_user, make_module, trainer
):
    module = make_module("reflection", author=trainer)
    people = [make_user() for _ in range(4)]
    assignment = services.create_assignment(
        trainer, module, services.AssignmentDraft(Audience.PEOPLE, people=people, due_days=10)
    )
    enrolments = {e.user_id: e for e in db.session.scalars(sa.select(services.Enrolment))}
    services.complete(people[0], enrolments[people[0].id], LONG_ANSWER)
    services.save_draft(people[1], enrolments[people[1].id], "A beginning.")
    db.session.commit()
    client = client_as(trainer)

    listing = text(client.get("/training/assignments"))
    assert f'href="/training/assignments/{assignment.id}/withdraw"' in listing
    page = text(client.get(f"/training/assignments/{assignment.id}/withdraw"))
    assert "3 people have it unfinished" in page
    assert "1 person has started" in page
    assert "1 person has completed it" in page

    # A withdrawal not sent from the confirmation (an old page, a stray request) asks again,
    # saying nothing was done.
    response = client.post(f"/training/assignments/{assignment.id}/withdraw")
    assert response.status_code == 422
    again = text(response)
    assert "Nothing was done" in again and "3 people have it unfinished" in again
    db.session.refresh(assignment)
    assert assignment.withdrawn_at is None

    form = {"confirmed": hidden(page, "confirmed")}
    done = text(
        follow(client, client.post(f"/training/assignments/{assignment.id}/withdraw", data=form))
    )
    assert "drafts stay with the people who wrote them" in done
    db.session.refresh(assignment)
    assert assignment.withdrawn_at is not None
    assert db.session.get(AnswerDraft, enrolments[people[1].id].id) is not None


# The version a completion records


def test_a_completion_records_the_version_the_learner_read_and_says_what_changed(
    client_as, make_enrolment, trainer
):
    enrolment = make_enrolment("reflection")
    module = enrolment.assignment.module
    learner = client_as(enrolment.user)
    page = text(learner.get(f"/training/enrolments/{enrolment.id}"))
    assert hidden(page, "module_version") == "1"

    # While the learner writes, a trainer rewrites the text.
    services.update_module(
        trainer,
        module,
        services.ModuleDraft(
            title=module.title,
            summary=module.summary,
            body="Everyone serves someone.\n\nA new second thought.",
            kind=module.kind,
            prompt="What did you notice, and who noticed it first?",
            minutes=module.minutes,
        ),
    )
    db.session.commit()
    assert module.version == 2

    response = learner.post(
        f"/training/enrolments/{enrolment.id}/complete",
        data={"answer": LONG_ANSWER, "module_version": hidden(page, "module_version")},
    )
    shown = text(follow(learner, response))
    db.session.refresh(enrolment)
    assert enrolment.completed_version == 1
    assert "This module changed while you were working on it" in shown
    assert "Completed against version 1" in shown
    assert "See what changed" in shown
    assert '<ins><span class="visually-hidden">Added: </span>A new second thought.</ins>' in shown
    assert "What did you notice?</del>" in shown
    assert LONG_ANSWER[:60] in shown  # their answer is kept as written


def test_a_page_opened_before_forms_carried_the_version_records_the_current_one(
    client_as, make_enrolment
):
    enrolment = make_enrolment()
    learner = client_as(enrolment.user)
    for version in ("", "0", "99", "²", "abc"):
        enrolment.completed_at = enrolment.completed_version = None
        db.session.commit()
        response = learner.post(
            f"/training/enrolments/{enrolment.id}/complete", data={"module_version": version}
        )
        assert response.status_code == 303
        db.session.refresh(enrolment)
        assert enrolment.completed_version == 1


def test_an_answer_is_kept_when_the_module_became_a_reading_meanwhile(
    client_as, make_enrolment, trainer
):
    enrolment = make_enrolment("reflection")
    module = enrolment.assignment.module
    learner = client_as(enrolment.user)
    page = text(learner.get(f"/training/enrolments/{enrolment.id}"))
    services.update_module(
        trainer,
        module,
        services.ModuleDraft(
            title=module.title,
            summary=module.summary,
            body=module.body,
            kind=services.ModuleKind.READING,
            prompt=None,
            minutes=module.minutes,
        ),
    )
    db.session.commit()
    learner.post(
        f"/training/enrolments/{enrolment.id}/complete",
        data={"answer": "Short, but mine.", "module_version": hidden(page, "module_version")},
    )
    reflection = db.session.get(Reflection, enrolment.id)
    assert reflection is not None and reflection.text == "Short, but mine."


def test_ids_are_unique_on_training_forms(client_as, make_enrolment, trainer):
    enrolment = make_enrolment("reflection")
    make_enrolment("reflection", answer=LONG_ANSWER)
    make_enrolment("reflection", answer=LONG_ANSWER + " Another.")
    pages = [
        text(client_as(enrolment.user).get(f"/training/enrolments/{enrolment.id}")),
        text(client_as(trainer).get(f"/training/modules/{enrolment.assignment.module_id}/edit")),
        text(client_as(trainer).get("/training/reflections?show=all")),
    ]
    for page in pages:
        repeated = {name: n for name, n in ids(page).items() if n > 1}
        assert repeated == {}


# Refused forms, and Back


def test_a_refused_answer_lives_at_an_address_that_can_be_shown_again(client_as, make_enrolment):
    enrolment = make_enrolment("reflection")
    learner = client_as(enrolment.user)
    short = "x" * 49
    response = learner.post(f"/training/enrolments/{enrolment.id}/complete", data={"answer": short})
    assert response.status_code == 303
    address = response.headers["Location"]
    assert address.startswith(f"/training/enrolments/{enrolment.id}?refused=")
    for _visit in range(2):  # Back, Forward or Reload: a GET, the same page, nothing sent
        again = learner.get(address)
        assert again.status_code == 422  # a refused form, shown again
        assert "Write at least 50 characters" in text(again) and "(you have 49)" in text(again)
        assert re.search(rf">\s*{short}</textarea>", text(again))
    # Without the refusal in the address, the page is as new.
    plain = learner.get(f"/training/enrolments/{enrolment.id}")
    assert plain.status_code == 200 and short not in text(plain)

    # Once the answer is in, the refused copies of the private text are gone.
    learner.post(f"/training/enrolments/{enrolment.id}/complete", data={"answer": LONG_ANSWER})
    assert db.session.scalar(sa.select(sa.func.count()).select_from(RefusedForm)) == 0


def test_a_refused_form_is_shown_only_to_its_author_on_its_own_page(client_as, make_user):
    first, second = make_user(Role.TRAINER), make_user(Role.TRAINER)
    author = client_as(first)
    response = author.post("/training/modules/new", data={**MODULE, "minutes": "0"})
    address = response.headers["Location"]
    shown = author.get(address)
    assert shown.status_code == 422 and "Internal customers." in text(shown)
    # Someone else's refusal, or one for another page, restores nothing: a page as ever (200).
    other = client_as(second).get(address)
    assert other.status_code == 200 and "Internal customers." not in text(other)
    token = address.split("refused=")[1]
    elsewhere = author.get(f"/training/modules?refused={token}")
    assert elsewhere.status_code == 200 and "Internal customers." not in text(elsewhere)
    # Nor does one kept past its day.
    db.session.execute(sa.update(RefusedForm).values(refused_at=utcnow() - 2 * KEPT_FOR))
    db.session.commit()
    expired = author.get(address)
    assert expired.status_code == 200 and "Internal customers." not in text(expired)


def test_a_refused_assignment_keeps_every_choice(client_as, trainer, make_module, make_department):
    module = make_module(author=trainer)
    team = make_department("Stores")
    client = client_as(trainer)
    response = client.post(
        f"/training/modules/{module.id}/assign",
        data={
            "audience": "departments",
            "departments": [str(team.id)],
            "due_kind": "fixed",
            "due_on": "2020-01-01",
            "repeat": "none",
        },
    )
    page = text(follow(client, response))
    assert "The due date has passed" in page
    assert re.search(r'value="departments"[^>]*checked|checked[^>]*value="departments"', page)
    assert re.search(rf'value="{team.id}"[^>]*checked|checked[^>]*value="{team.id}"', page)
    assert 'value="2020-01-01"' in page


# Drafts


def test_a_learner_saves_a_draft_and_finds_it_again(client_as, make_enrolment, make_user):
    enrolment = make_enrolment("reflection")
    learner = client_as(enrolment.user)
    response = learner.post(
        f"/training/enrolments/{enrolment.id}/complete",
        data={"answer": "Half a thought", "save_draft": "Save as draft"},
    )
    assert response.status_code == 303
    page = text(learner.get(f"/training/enrolments/{enrolment.id}"))
    assert "Draft saved" in page or "You saved a draft" in page
    assert re.search(r">\s*Half a thought</textarea>", page)
    db.session.refresh(enrolment)
    assert not enrolment.is_done
    assert "Half a thought" not in text(
        client_as(make_user(Role.TRAINER)).get("/training/reflections?show=all")
    )

    learner.post(f"/training/enrolments/{enrolment.id}/complete", data={"answer": LONG_ANSWER})
    assert db.session.get(AnswerDraft, enrolment.id) is None


def test_an_empty_draft_is_refused_beside_the_answer(client_as, make_enrolment):
    enrolment = make_enrolment("reflection")
    learner = client_as(enrolment.user)
    response = learner.post(
        f"/training/enrolments/{enrolment.id}/complete",
        data={"answer": "   ", "save_draft": "Save as draft"},
    )
    assert "There is nothing to save yet." in text(follow(learner, response))


# Two trainers editing one module


def test_saving_over_a_colleagues_change_is_refused_with_both_texts_kept(client_as, make_user):
    first, second = make_user(Role.TRAINER), make_user(Role.TRAINER)
    a, b = client_as(first), client_as(second)
    created = a.post("/training/modules/new", data=MODULE)
    module_id = int(created.headers["Location"].rsplit("/", 1)[1])
    edit = f"/training/modules/{module_id}/edit"
    opened_by_a = hidden(text(a.get(edit)), "revision")
    opened_by_b = hidden(text(b.get(edit)), "revision")

    saved = b.post(edit, data={**MODULE, "summary": "B's summary.", "revision": opened_by_b})
    assert saved.status_code == 303 and "?refused" not in saved.headers["Location"]

    response = a.post(edit, data={**MODULE, "summary": "A's summary.", "revision": opened_by_a})
    assert response.headers["Location"].startswith(f"{edit}?refused=")
    page = text(a.get(response.headers["Location"]))
    assert "Someone else saved a change" in page
    assert "A&#39;s summary.</textarea>" in page  # A's text, in the form
    assert "What is saved now" in page and "B&#39;s summary." in page
    assert db.session.get(Module, module_id).summary == "B's summary."

    # Having seen it, A saves again, on purpose.
    again = a.post(
        edit, data={**MODULE, "summary": "A's summary.", "revision": hidden(page, "revision")}
    )
    assert again.status_code == 303 and "?refused" not in again.headers["Location"]
    module = db.session.get(Module, module_id)
    db.session.refresh(module)
    assert module.summary == "A's summary."


def test_a_change_saved_between_reading_and_writing_is_refused(trainer, make_module):
    module = make_module(author=trainer)
    opened_at = module.revision
    # Another request saves the module after this one loaded it.
    db.session.execute(
        sa.update(Module)
        .where(Module.id == module.id)
        .values(revision=Module.revision + 1)
        .execution_options(synchronize_session=False)
    )
    with pytest.raises(services.RuleViolation, match="Someone else saved"):
        services.update_module(
            trainer,
            module,
            services.ModuleDraft(
                title="Mine", summary="s", body="b", kind=module.kind, prompt=None, minutes=5
            ),
            opened_at=opened_at,
        )
    db.session.rollback()


def test_assignment_flash_counts_people_in_words(client_as, trainer, make_module, make_user):
    module = make_module(author=trainer)
    person = make_user()
    client = client_as(trainer)
    response = client.post(
        f"/training/modules/{module.id}/assign",
        data={
            "audience": "people",
            "people": person.email,
            "due_kind": "relative",
            "due_days": "14",
            "repeat": "none",
        },
    )
    assert "1 person enrolled" in text(follow(client, response))
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Assignment)) == 1


# Feedback in the inbox


def test_refused_feedback_comes_back_beside_its_reflection_with_its_text(
    client_as, trainer, make_enrolment
):
    enrolment = make_enrolment("reflection", answer=LONG_ANSWER)
    make_enrolment("reflection", answer=LONG_ANSWER + " Another one.")
    client = client_as(trainer)
    too_long = "Thank you for this. " + "x" * 4000  # over the limit of 4,000 characters
    response = client.post(
        f"/training/reflections/{enrolment.id}/feedback",
        data={"feedback": too_long, "reflection": str(enrolment.id)},
        headers={"Referer": "http://localhost/training/reflections?show=all"},
    )
    assert response.status_code == 303
    address = response.headers["Location"]
    assert address.startswith("/training/reflections?show=all&refused=")
    assert address.endswith(f"#reflection-{enrolment.id}")
    shown = client.get(address)
    assert shown.status_code == 422  # many reflections, and one refused form among them
    page = text(shown)
    assert "Field cannot be longer than 4000 characters." in page
    assert page.count("Thank you for this.") == 1  # beside its own reflection only
    assert page.index(f'id="reflection-{enrolment.id}"') < page.index("Thank you for this.")
    assert db.session.get(Reflection, enrolment.id).feedback is None


def test_refused_feedback_through_htmx_swaps_in_place_at_an_address_to_come_back_to(
    client_as, trainer, make_enrolment
):
    enrolment = make_enrolment("reflection", answer=LONG_ANSWER)
    client = client_as(trainer)
    response = client.post(
        f"/training/reflections/{enrolment.id}/feedback",
        data={"feedback": " ", "reflection": str(enrolment.id)},
        headers={"HX-Request": "true", "HX-Current-URL": "http://localhost/training/reflections"},
    )
    assert response.status_code == 422
    assert f'id="reflection-{enrolment.id}"' in text(response)
    assert response.headers["HX-Replace-Url"].startswith("/training/reflections?refused=")
    assert "This field is required." in text(client.get(response.headers["HX-Replace-Url"]))

    # Sent again and taken: the address loses the refusal, so Reload shows the inbox as it is
    # (it answered 422 with nothing refused on it).
    refused_at = "http://localhost" + response.headers["HX-Replace-Url"]
    taken = client.post(
        f"/training/reflections/{enrolment.id}/feedback",
        data={"feedback": "Good catch.", "reflection": str(enrolment.id)},
        headers={"HX-Request": "true", "HX-Current-URL": refused_at},
    )
    assert taken.status_code == 200
    assert taken.headers["HX-Replace-Url"] == f"/training/reflections#reflection-{enrolment.id}"
    assert client.get(taken.headers["HX-Replace-Url"]).status_code == 200
    plain = client.post(
        f"/training/reflections/{enrolment.id}/feedback",
        data={"feedback": "Good catch, again.", "reflection": str(enrolment.id)},
        headers={"HX-Request": "true", "HX-Current-URL": "http://localhost/training/reflections"},
    )
    assert "HX-Replace-Url" not in plain.headers  # nothing to take out of the address


def test_an_answer_refused_just_before_a_withdrawal_is_still_shown_to_copy(
    client_as, make_enrolment, trainer
):
    enrolment = make_enrolment("reflection")
    learner = client_as(enrolment.user)
    response = learner.post(
        f"/training/enrolments/{enrolment.id}/complete", data={"answer": "Too short, mine."}
    )
    client_as(trainer).post(
        f"/training/assignments/{enrolment.assignment_id}/withdraw", data={"confirmed": "yes"}
    )
    page = text(learner.get(response.headers["Location"]))
    assert "This training was withdrawn" in page
    assert re.search(
        r'<textarea id="kept-draft" rows="8" readonly>\s*Too short, mine.</textarea>', page
    )


# One form, one record


def test_an_assignment_sent_twice_is_made_once(client_as, trainer, make_module, make_user):
    module = make_module(author=trainer)
    people = [make_user(), make_user()]
    client = client_as(trainer)
    page = text(client.get(f"/training/modules/{module.id}/assign"))
    form = {
        "audience": "people",
        "people": ", ".join(p.email for p in people),
        "due_kind": "relative",
        "due_days": "14",
        "repeat": "none",
        "submission_token": hidden(page, "submission_token"),
    }
    first = client.post(f"/training/modules/{module.id}/assign", data=form)
    second = client.post(f"/training/modules/{module.id}/assign", data=form)
    assert first.status_code == second.status_code == 303
    assert "2 people enrolled" in text(follow(client, second))
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Assignment)) == 1
    enrolments = sa.select(sa.func.count()).select_from(services.Enrolment)
    assert db.session.scalar(enrolments) == 2

    # Changed after going back, the same form is another assignment.
    client.post(f"/training/modules/{module.id}/assign", data={**form, "due_days": "30"})
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Assignment)) == 2


def test_a_new_module_sent_twice_is_made_once(client_as, trainer):
    client = client_as(trainer)
    token = hidden(text(client.get("/training/modules/new")), "submission_token")
    first = client.post("/training/modules/new", data={**MODULE, "submission_token": token})
    second = client.post("/training/modules/new", data={**MODULE, "submission_token": token})
    assert first.headers["Location"] == second.headers["Location"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Module)) == 1
    client.post(
        "/training/modules/new", data={**MODULE, "title": "Other", "submission_token": token}
    )
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Module)) == 2


def test_the_same_assignment_and_module_edits_racing_leave_one_of_each(
    client_as, trainer, make_module, make_user
):
    """Requests at once, on the real database: a double-sent Assign makes one assignment, and
    of two saves opened at the same revision one wins and the other is refused; never a 500."""
    module = make_module(author=trainer)
    people = [make_user() for _ in range(3)]
    module_id = module.id
    clients = [client_as(trainer) for _ in range(6)]
    page = text(clients[0].get(f"/training/modules/{module_id}/assign"))
    assign_form = {
        "audience": "people",
        "people": ", ".join(p.email for p in people),
        "due_kind": "relative",
        "due_days": "14",
        "repeat": "none",
        "submission_token": hidden(page, "submission_token"),
    }
    revision = hidden(text(clients[0].get(f"/training/modules/{module_id}/edit")), "revision")
    statuses: list[int] = []
    saved: list[str] = []

    def assign(n: int) -> None:
        response = clients[n].post(f"/training/modules/{module_id}/assign", data=assign_form)
        statuses.append(response.status_code)

    def edit(n: int) -> None:
        response = clients[3 + n].post(
            f"/training/modules/{module_id}/edit",
            data={**MODULE, "kind": "reading", "summary": f"Edit {n}", "revision": revision},
        )
        statuses.append(response.status_code)
        if "?refused" not in response.headers.get("Location", "?refused"):
            saved.append(f"Edit {n}")

    with ThreadPoolExecutor(max_workers=6) as pool:
        jobs = [pool.submit(assign, n) for n in range(3)]
        jobs += [pool.submit(edit, n) for n in range(3)]
        for job in jobs:
            job.result()

    assert set(statuses) == {303}
    db.session.commit()  # end this test's own snapshot and read afresh
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Assignment)) == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(services.Enrolment)) == 3
    assert len(saved) == 1
    assert db.session.get(Module, module_id).summary == saved[0]
