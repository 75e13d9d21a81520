"""Speaking up safely in the browser: an idea sent without the author's name, read by a
colleague, and the name shown later by its author (docs/product.md, "Speaking up safely")."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from serviceideas.demo.people import seed_people
from serviceideas.extensions import db
from tests.browser.test_idea_journeys import fill_an_idea
from tests.browser.test_people_journeys import sign_in

pytestmark = pytest.mark.browser

TITLE = "Answer the phone before the fourth ring"


@pytest.fixture
def demo_company(app):
    seed_people()
    db.session.commit()


def test_an_idea_sent_without_a_name_and_the_name_shown_later(
    page: Page, live_server, demo_company, browser
):
    base = live_server.url
    sign_in(page, base, "backoffice@example.com")
    page.goto(f"{base}/ideas/new")
    fill_an_idea(page, TITLE)
    hide = page.get_by_label("Don't show my name to colleagues")
    expect(hide).to_have_accessible_description(
        "Managers, admins and you still see your name, and the idea still counts for your "
        "team. Comments you post show your name."
    )
    hide.check()
    page.get_by_role("button", name="Submit idea").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(TITLE)
    expect(page.locator("#idea-author")).to_contain_text("Bo Backoffice")
    expect(page.locator("#idea-author")).to_contain_text("(not shown to colleagues)")
    idea_url = page.url

    colleague = browser.new_context().new_page()
    sign_in(colleague, base, "employee@example.com")
    colleague.goto(f"{base}/ideas")
    card = colleague.locator(".idea-card", has_text=TITLE)
    expect(card).to_contain_text("Name not shown")
    expect(card).to_contain_text("Logistics")  # the team it counts for
    colleague.goto(idea_url)
    expect(colleague.locator("#idea-author")).to_contain_text("Name not shown")
    expect(colleague.get_by_text("Show my name")).to_have_count(0)
    expect(colleague.locator("body")).not_to_contain_text("Bo Backoffice")

    # The author shows their name: two steps, and no way back.
    page.get_by_text("Show my name", exact=True).click()
    expect(page.locator("#show-name")).to_contain_text("It cannot be hidden again")
    page.get_by_role("button", name="Yes, show my name").click()
    expect(page.get_by_text("Your name is now shown on this idea.")).to_be_visible()
    expect(page.locator("#idea-author")).not_to_contain_text("not shown")
    expect(page.get_by_text("Show my name", exact=True)).to_have_count(0)

    colleague.reload()
    expect(colleague.locator("#idea-author")).to_contain_text("Bo Backoffice")
    colleague.context.close()
