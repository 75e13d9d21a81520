"""Training in the browser: a trainer writes, publishes and assigns a module to a back-office
team; a member completes it with a reflection and turns it into an idea; the trainer answers;
the learner reads the answer; coverage moves."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from serviceideas.database import utcnow
from serviceideas.demo.people import seed_people
from serviceideas.extensions import db
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
    expect(learner.get_by_text("Write at least 50 characters")).to_be_visible()
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
