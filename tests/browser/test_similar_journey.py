"""Similar ideas in the browser: an employee typing a title is shown the idea already there,
looks at it and comes back to what they typed, and votes for it instead; a manager merges a
duplicate by searching for the title of the idea that stays."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from playwright.sync_api import Page, expect

from serviceideas.demo.people import seed_people
from serviceideas.extensions import db
from serviceideas.ideas import services as ideas
from serviceideas.ideas.models import Idea, Lens, Status, Vote
from serviceideas.people.models import User
from tests.browser.test_people_journeys import sign_in

pytestmark = pytest.mark.browser

STAYS = "Call customers back instead of keeping them on hold"
DUPLICATE = "Ring back callers when every line is busy"


def person(email: str) -> User:
    return db.session.scalars(sa.select(User).where(User.email == email)).one()


@pytest.fixture
def two_ideas(app):
    seed_people()
    author = person("backoffice@example.com")
    made = [
        ideas.submit_idea(
            author,
            ideas.IdeaDraft(
                title=title,
                problem="Customers wait on hold for twenty minutes and hang up.",
                proposal="Offer to call them back when an agent is free.",
                lens=Lens.CARE,
                beneficiary=None,
            ),
        )
        for title in (STAYS, DUPLICATE)
    ]
    db.session.commit()
    return made[0].id, made[1].id


def test_a_similar_idea_while_typing_and_a_merge_found_by_title(
    page: Page, live_server, two_ideas, browser
):
    stays, duplicate = two_ideas
    base = live_server.url

    # An employee starts an idea: the one already there appears under the title.
    sign_in(page, base, "employee@example.com")
    page.goto(f"{base}/ideas/new")
    title = page.get_by_label("Title")
    problem = page.get_by_label("The problem, as the customer (or the colleague) experiences it")
    problem.fill("People on hold give up.")
    title.press_sequentially("Calling customers back", delay=20)
    similar = page.locator("#similar-ideas")
    expect(similar).to_contain_text("similar idea")
    link = similar.get_by_role("link", name=f"#{stays} {STAYS}")
    expect(link).to_be_visible()

    # They look at it and come back: what they typed is still there.
    link.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(STAYS)
    page.go_back()
    expect(title).to_have_value("Calling customers back")
    expect(problem).to_have_value("People on hold give up.")

    # They vote for it instead, by keyboard, without leaving the form.
    title.press("End")
    title.press_sequentially(" sooner", delay=20)
    vote = page.locator(f"#similar-vote-{stays}").get_by_role("button")
    expect(vote).to_have_text(re.compile("Vote for this instead"))
    vote.focus()
    page.keyboard.press("Enter")
    expect(vote).to_have_text(re.compile("You voted"))
    expect(vote).to_have_attribute("aria-pressed", "true")
    expect(page.locator(f"#similar-vote-{stays}")).to_contain_text("1 vote")
    expect(title).to_have_value("Calling customers back sooner")
    db.session.rollback()  # read what the server committed since
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Vote)) == 1

    # A manager merges the duplicate into it, found by typing words from its title.
    manager = browser.new_context().new_page()
    sign_in(manager, base, "manager@example.com")
    manager.goto(f"{base}/ideas/{duplicate}")
    manager.get_by_label("Move to").select_option("merged")
    manager.get_by_label("Merge into").press_sequentially("keeping them on", delay=20)
    choice = manager.get_by_role("button", name=re.compile(rf"Merge into #{stays} "))
    expect(choice).to_be_visible()
    choice.click()
    expect(manager.get_by_text(f"Idea #{duplicate} is now merged.")).to_be_visible()
    db.session.rollback()
    merged = db.session.get(Idea, duplicate)
    assert merged.status is Status.MERGED and merged.merged_into_id == stays
    manager.context.close()
