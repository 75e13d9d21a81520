"""Training in the browser: a trainer writes, publishes and assigns a module to a back-office
team; a member completes it with a reflection and turns it into an idea; the trainer answers;
the learner reads the answer; coverage moves. And nothing typed is lost: Back after a refused
answer sends nothing again, and an answer sent after a withdrawal is kept."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from playwright.sync_api import Page, expect

from serviceideas.database import utcnow
from serviceideas.demo.people import seed_people
from serviceideas.extensions import db
from serviceideas.people.models import User
from serviceideas.training import services as training
from serviceideas.training.models import Audience, Module, ModuleKind
from tests.browser.test_accessibility import both_themes
from tests.browser.test_people_journeys import sign_in

pytestmark = pytest.mark.browser

REFLECTION = (
    "The stores call us three times a morning to ask where the van is. They are our customers "
    "and we answer with a tracking number they cannot open."
)


@pytest.fixture
def demo_company(app):
    seed_people()
    db.session.commit()


def logistics_completed(page: Page) -> str:
    row = page.get_by_role("row").filter(has=page.get_by_role("link", name="Logistics"))
    return row.get_by_role("cell").nth(4).inner_text()


def test_a_module_from_writing_to_feedback(page: Page, live_server, demo_company, browser):
    base = live_server.url
    due = (utcnow().date() + timedelta(days=10)).isoformat()

    # The trainer writes a module, checks the preview, publishes and assigns it.
    sign_in(page, base, "trainer@example.com")
    nav = page.get_by_role("navigation", name="Main")
    nav.get_by_role("link", name="Modules").click()
    page.get_by_role("button", name="Write a module").click()
    page.get_by_label("Title").fill("Who is waiting for you?")
    page.get_by_label("Summary").fill("Find the colleagues who depend on your work.")
    page.get_by_label("Text (Markdown)").fill(
        "## Your internal customers\n\nThe store waiting for **your** delivery is a customer."
    )
    page.get_by_label("Reflection — a written answer to the prompt").check()
    page.get_by_label("Prompt for the written answer").fill(
        "Who waits for your work, and what do they need?"
    )
    page.get_by_label("Estimated minutes").fill("20")
    page.get_by_role("button", name="Save and preview").click()
    expect(page.get_by_text("Preview: this is what learners will see")).to_be_visible()
    expect(page.get_by_role("heading", name="Your internal customers")).to_be_visible()
    page.get_by_role("button", name="Publish").click()
    expect(page.get_by_text("is published")).to_be_visible()

    nav.get_by_role("link", name="Coverage").click()
    before = logistics_completed(page)

    page.goto(f"{base}/training/modules")
    page.get_by_role("link", name="Who is waiting for you?").click()
    page.get_by_role("button", name="Assign").click()
    page.get_by_label("These departments (and who joins them)").check()
    page.get_by_label("Logistics").check()
    page.get_by_label("On a fixed date").check()
    page.get_by_label("Due date").fill(due)
    page.get_by_role("button", name="Assign").click()
    expect(
        page.get_by_text(re.compile(r"Assigned Who is waiting for you\?: \d+ people enrolled"))
    ).to_be_visible()

    # A member of Logistics sees it with a progress bar and completes it with a reflection.
    learner = browser.new_context().new_page()
    sign_in(learner, base, "backoffice@example.com")
    learner.get_by_role("navigation", name="Main").get_by_role("link", name="My training").click()
    expect(learner.get_by_role("progressbar")).to_be_visible()
    expect(learner.get_by_text("0 of 1 done")).to_be_visible()
    learner.get_by_role("link", name="Who is waiting for you?").click()
    learner.get_by_label("Your answer").fill("Too short.")
    learner.get_by_role("button", name="Submit my answer").click()
    expect(learner.locator(".field-error")).to_contain_text("Write at least 50 characters")
    expect(learner.get_by_label("Your answer")).to_have_value("Too short.")
    learner.get_by_label("Your answer").fill(REFLECTION)
    learner.get_by_role("button", name="Submit my answer").click()
    expect(learner.get_by_text("Only you and the trainers can read this.")).to_be_visible()

    # ...and starts an idea from it, pre-filled.
    learner.get_by_role("button", name="Turn this into a service idea").click()
    expect(
        learner.get_by_label("The problem, as the customer (or the colleague) experiences it")
    ).to_have_value(REFLECTION)
    learner.get_by_label("Title").fill("Let stores see where their van is")
    learner.get_by_label("What we could change").fill("Give each store the live route view.")
    learner.get_by_label("Care").check()
    learner.get_by_label("Who benefits").select_option(label="Stores (internal)")
    learner.get_by_role("button", name="Submit idea").click()
    expect(learner.get_by_role("heading", level=1)).to_have_text(
        "Let stores see where their van is"
    )

    # The trainer reads it in the inbox and answers.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Reflections").click()
    reflection = page.locator("article.reflection", has_text="three times a morning")
    expect(reflection).to_be_visible()
    reflection.get_by_label("Your feedback").fill(
        "Exactly the point. Your idea is now in the queue."
    )
    reflection.get_by_role("button", name="Send feedback").click()
    expect(page.locator("article.reflection", has_text="three times a morning")).to_contain_text(
        "Feedback given"
    )

    # The learner reads the feedback.
    learner.goto(f"{base}/training")
    expect(learner.get_by_text("1 of 1 done")).to_be_visible()
    learner.get_by_role("link", name="Who is waiting for you?").click()
    expect(learner.get_by_role("heading", name="Feedback from Tara Trainer")).to_be_visible()
    expect(learner.get_by_text("Exactly the point.")).to_be_visible()
    learner.context.close()

    # Coverage moved for Logistics.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Coverage").click()
    assert int(logistics_completed(page)) == int(before) + 1


@pytest.fixture
def reflection_assigned(demo_company):
    """A published reflection assigned to the back-office demo learner."""
    trainer = db.session.scalar(sa.select(User).where(User.email == "trainer@example.com"))
    learner = db.session.scalar(sa.select(User).where(User.email == "backoffice@example.com"))
    module = training.create_module(
        trainer,
        training.ModuleDraft(
            title="Who is waiting for you?",
            summary="Find the colleagues who depend on your work.",
            body="The store waiting for your delivery is a customer.",
            kind=ModuleKind.REFLECTION,
            prompt="Who waits for your work, and what do they need?",
            minutes=20,
        ),
    )
    training.publish(trainer, module)
    assignment = training.create_assignment(
        trainer, module, training.AssignmentDraft(Audience.PEOPLE, people=[learner], due_days=7)
    )
    db.session.commit()
    return assignment


def test_back_after_a_refused_answer_shows_it_again_without_sending_it_again(
    page: Page, live_server, reflection_assigned
):
    base = live_server.url
    posts: list[str] = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
    sign_in(page, base, "backoffice@example.com")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="My training").click()
    page.get_by_role("link", name="Who is waiting for you?").click()
    short = "x" * 49
    page.get_by_label("Your answer").fill(short)
    with page.expect_response(lambda answer: "refused=" in answer.url) as refused:
        page.get_by_role("button", name="Submit my answer").click()
    assert refused.value.status == 422  # the page showing a refused form says so, and shows
    expect(page.locator(".field-error")).to_contain_text("Write at least 50 characters")
    expect(page.get_by_label("Your answer")).to_have_value(short)
    assert "refused=" in page.url
    sent = len(posts)

    # Elsewhere, then Back: the refused answer is there again, and nothing was sent again.
    page.get_by_role("navigation", name="Main").get_by_role(
        "link", name="Ideas", exact=True
    ).click()
    page.go_back()
    expect(page.locator(".field-error")).to_contain_text("Write at least 50 characters")
    expect(page.get_by_label("Your answer")).to_have_value(short)
    # Back once more to the page as first opened, and Forward to the refusal: still no POST.
    page.go_back()
    page.go_forward()
    expect(page.get_by_label("Your answer")).to_have_value(short)
    reloaded = page.reload()
    assert reloaded is not None and reloaded.status == 422
    expect(page.get_by_label("Your answer")).to_have_value(short)
    assert len(posts) == sent

    page.get_by_label("Your answer").fill(REFLECTION)
    page.get_by_role("button", name="Submit my answer").click()
    expect(page.get_by_text("Only you and the trainers can read this.")).to_be_visible()


def test_a_withdrawal_is_confirmed_by_keyboard_without_javascript_and_keeps_the_answer(
    page: Page, live_server, reflection_assigned, browser
):
    base = live_server.url
    sign_in(page, base, "backoffice@example.com")
    page.goto(f"{base}/training")
    page.get_by_role("link", name="Who is waiting for you?").click()
    page.get_by_label("Your answer").fill(REFLECTION)

    # Meanwhile a trainer, without JavaScript and by keyboard, withdraws it.
    trainer = browser.new_context(java_script_enabled=False).new_page()
    sign_in(trainer, base, "trainer@example.com")
    trainer.goto(f"{base}/training/assignments")
    trainer.get_by_role("link", name="Withdraw Who is waiting for you?").focus()
    trainer.keyboard.press("Enter")
    expect(trainer.get_by_text("1 person has it unfinished")).to_be_visible()
    expect(trainer.get_by_text("0 people have started")).to_be_visible()
    trainer.get_by_role("button", name="Withdraw it").focus()
    trainer.keyboard.press("Enter")
    expect(trainer.get_by_text("Withdrawn: Who is waiting for you?")).to_be_visible()
    trainer.context.close()

    # The learner sends the answer they were writing: it is kept for them.
    page.get_by_role("button", name="Submit my answer").click()
    expect(page.get_by_text("withdrawn while you were writing")).to_be_visible()
    expect(page.get_by_label(re.compile("Your draft"))).to_have_value(REFLECTION)
    page.goto(f"{base}/training")
    expect(
        page.get_by_role("heading", name=re.compile("Withdrawn, with your draft"))
    ).to_be_visible()


def test_the_pages_that_keep_what_people_typed_pass_axe_in_both_themes(
    browser, live_server, reflection_assigned
):
    base = live_server.url
    assignment = reflection_assigned
    # axe-core goes in as an inline script, which the app's Content-Security-Policy forbids.
    learner = browser.new_context(bypass_csp=True).new_page()
    trainer = browser.new_context(bypass_csp=True).new_page()
    sign_in(learner, base, "backoffice@example.com")
    sign_in(trainer, base, "trainer@example.com")
    found: list[str] = []

    learner.goto(f"{base}/training")
    learner.get_by_role("link", name="Who is waiting for you?").click()
    learner.get_by_label("Your answer").fill("Too short.")
    learner.get_by_role("button", name="Submit my answer").click()
    expect(learner.locator(".field-error")).to_contain_text("Write at least 50 characters")
    found += both_themes(learner, "a refused answer")

    learner.get_by_label("Your answer").fill("The warehouse waits for my orders.")
    learner.get_by_role("button", name="Save as draft").click()
    expect(learner.get_by_text("Draft saved.")).to_be_visible()

    # The trainer opens the module's edit form; meanwhile a colleague changes the text.
    trainer.goto(f"{base}/training/modules/{assignment.module_id}/edit")
    module = db.session.get(Module, assignment.module_id)
    training.update_module(
        module.author,
        module,
        training.ModuleDraft(
            title=module.title,
            summary=module.summary,
            body=module.body + "\n\nAnd the colleague who answers the phone.",
            kind=module.kind,
            prompt=module.prompt,
            minutes=module.minutes,
        ),
    )
    db.session.commit()
    trainer.get_by_label("Summary").fill("My own summary.")
    trainer.get_by_role("button", name="Save and preview").click()
    expect(trainer.get_by_text("Someone else saved a change")).to_be_visible()
    expect(trainer.get_by_label("Summary")).to_have_value("My own summary.")
    found += both_themes(trainer, "a module edit overtaken by a colleague's")

    learner.reload()
    learner.get_by_text("See what changed since version 1").click()
    expect(learner.locator("#what-changed ins")).to_contain_text("And the colleague who answers")
    found += both_themes(learner, "a draft, with what changed in the module since")

    trainer.goto(f"{base}/training/assignments/{assignment.id}/withdraw")
    expect(trainer.get_by_text("1 person has started")).to_be_visible()
    found += both_themes(trainer, "the withdrawal's confirmation")
    trainer.get_by_role("button", name="Withdraw it").click()

    learner.reload()
    expect(learner.get_by_label(re.compile("Your draft"))).to_have_value(
        "The warehouse waits for my orders."
    )
    found += both_themes(learner, "a draft kept after a withdrawal")
    learner.goto(f"{base}/training")
    found += both_themes(learner, "my training, with a withdrawn draft")
    assert not found, "\n".join(found)


@pytest.fixture
def published_module(demo_company):
    """A published reading, assigned to nobody yet."""
    trainer = db.session.scalar(sa.select(User).where(User.email == "trainer@example.com"))
    module = training.create_module(
        trainer,
        training.ModuleDraft(
            title="The front line is your customer",
            summary="What the back office owes the people who meet customers.",
            body="Every request from a store is a customer waiting.",
            kind=ModuleKind.READING,
            prompt=None,
            minutes=10,
        ),
    )
    training.publish(trainer, module)
    db.session.commit()
    return module


def move_emma_into_a_new_back_office_team(browser, base: str) -> None:
    """An admin, in a browser of their own, creates the back-office department "Quality Lab"
    and moves Emma Employee (front line) into it."""
    admin = browser.new_context().new_page()
    sign_in(admin, base, "admin@example.com")
    admin.goto(f"{base}/admin/departments")
    admin.get_by_label("Name").fill("Quality Lab")
    admin.get_by_label("Back office").check()
    admin.get_by_role("button", name="Add department").click()
    expect(admin.get_by_role("cell", name="Quality Lab", exact=True)).to_be_visible()
    admin.goto(f"{base}/admin/users")
    admin.get_by_label("Search name or email").fill("employee@example.com")
    admin.get_by_role("button", name="Filter").click()
    admin.get_by_role("link", name="Emma Employee").click()
    admin.get_by_label("Department").select_option(label="Quality Lab")
    admin.get_by_role("button", name="Save changes").click()
    admin.context.close()


def test_all_back_office_teams_reaches_a_new_team_and_whoever_moves_into_it(
    page: Page, live_server, published_module, browser
):
    base = live_server.url

    # The trainer assigns the module to all back-office teams: nothing is chosen for them.
    sign_in(page, base, "trainer@example.com")
    page.goto(f"{base}/training/modules/{published_module.id}/assign")
    expect(page.get_by_label("All back-office teams", exact=False)).not_to_be_checked()
    expect(page.get_by_label("Logistics (back office)")).to_be_visible()
    page.get_by_label("All back-office teams", exact=False).check()
    page.get_by_role("button", name="Assign").click()
    expect(
        page.get_by_text(re.compile(r"Assigned The front line is your customer"))
    ).to_be_visible()
    expect(page.get_by_role("cell", name="All back-office teams")).to_be_visible()

    # An admin creates a new back-office department and moves a front-line person into it.
    move_emma_into_a_new_back_office_team(browser, base)

    # She finds the module in My training.
    learner = browser.new_context().new_page()
    sign_in(learner, base, "employee@example.com")
    learner.get_by_role("navigation", name="Main").get_by_role("link", name="My training").click()
    expect(learner.get_by_role("link", name="The front line is your customer")).to_be_visible()
    learner.context.close()


def test_the_loop_from_back_office_training_to_an_idea_put_into_practice(
    page: Page, live_server, demo_company, browser
):
    """Issue 15's whole loop: training aimed at the back office reaches a new team, a
    reflection becomes an idea, a manager records it as already in practice, and the
    dashboard and the author's notifications show it."""
    trainer = db.session.scalar(sa.select(User).where(User.email == "trainer@example.com"))
    module = training.create_module(
        trainer,
        training.ModuleDraft(
            title="Who waits for your work?",
            summary="The people inside the company who are customers of your team.",
            body="Think of one colleague who waits for something you do every week.",
            kind=ModuleKind.REFLECTION,
            prompt="Who waits for your work, and what would make their day easier?",
            minutes=15,
        ),
    )
    training.publish(trainer, module)
    db.session.commit()
    base = live_server.url

    sign_in(page, base, "trainer@example.com")
    page.goto(f"{base}/training/modules/{module.id}/assign")
    page.get_by_label("All back-office teams", exact=False).check()
    page.get_by_role("button", name="Assign").click()
    expect(page.get_by_role("cell", name="All back-office teams")).to_be_visible()

    move_emma_into_a_new_back_office_team(browser, base)

    # Emma, now in a back-office team, reflects and turns her reflection into an idea.
    learner = browser.new_context().new_page()
    sign_in(learner, base, "employee@example.com")
    learner.goto(f"{base}/training")
    learner.get_by_role("link", name="Who waits for your work?").click()
    learner.get_by_label("Your answer").fill(
        "The stores wait for our test reports; a short summary first thing would help them."
    )
    learner.get_by_role("button", name="Submit my answer").click()
    learner.get_by_role("button", name="Turn this into a service idea").first.click()
    expect(learner.get_by_text(re.compile("public", re.IGNORECASE)).first).to_be_visible()
    learner.get_by_label("Title").fill("A morning summary of test reports for the stores")
    learner.get_by_label("What we could change").fill(
        "Send the stores a three-line summary of yesterday's tests at eight."
    )
    learner.locator("input[name=lens]").first.check()
    learner.get_by_label("Who benefits").select_option(index=1)
    learner.get_by_role("button", name="Submit idea").click()
    expect(learner.get_by_text("Started in the module")).to_be_visible()
    idea_url = learner.url

    # A manager records it as already in practice, with its evidence.
    manager = browser.new_context().new_page()
    sign_in(manager, base, "manager@example.com")
    manager.goto(idea_url)
    manager.get_by_label("Move to").select_option(label="Put into practice (it already happened)")
    manager.get_by_label("Note").fill(
        "The summary goes out every morning; the stores asked for it."
    )
    manager.get_by_label("Put into practice on").fill(utcnow().date().isoformat())
    manager.get_by_role("button", name="Change status").click()
    expect(manager.get_by_text("put it into practice directly")).to_be_visible()

    manager.goto(f"{base}/dashboard")
    born = manager.locator("section[aria-labelledby=born-heading]")
    expect(born.get_by_role("row", name="Who waits for your work? 1 1")).to_be_visible()
    manager.context.close()

    learner.goto(f"{base}/notifications")
    expect(
        learner.get_by_text(re.compile("A morning summary of test reports")).first
    ).to_be_visible()
    learner.context.close()
