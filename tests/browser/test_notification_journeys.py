"""The bell in the browser: a manager implements an idea; its author sees the count rise on
the page they have open, and the notification leads to the idea. And the calendar feed,
turned on from the settings."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from playwright.sync_api import Page, expect

from serviceideas.database import utcnow
from serviceideas.demo.people import seed_people
from serviceideas.extensions import db
from serviceideas.ideas import services as ideas
from serviceideas.ideas.models import Lens, Status
from serviceideas.people.models import User
from tests.browser.test_people_journeys import sign_in

pytestmark = pytest.mark.browser


@pytest.fixture
def app_settings():
    return {"WTF_CSRF_ENABLED": True, "BELL_REFRESH_SECONDS": 1}


@pytest.fixture
def idea_in_progress(app):
    seed_people()
    emma = db.session.scalar(sa.select(User).where(User.email == "employee@example.com"))
    max_ = db.session.scalar(sa.select(User).where(User.email == "manager@example.com"))
    draft = ideas.IdeaDraft("Texts before delivery", "Waiting.", "Send a text.", Lens.CARE, None)
    idea = ideas.submit_idea(emma, draft)
    for step in (Status.UNDER_REVIEW, Status.APPROVED, Status.IN_PROGRESS):
        ideas.change_status(max_, idea, ideas.Decision(step))
    db.session.commit()
    return idea.id


def test_the_author_sees_the_bell_rise_and_follows_it_to_the_idea(
    page: Page, live_server, idea_in_progress, browser
):
    base = live_server.url
    sign_in(page, base, "employee@example.com")
    bell = page.locator("#bell")
    expect(bell).to_have_attribute("aria-label", "Notifications: 3 unread")
    page.goto(f"{base}/notifications")
    page.get_by_role("button", name="Mark all as read").click()
    expect(bell).to_have_attribute("aria-label", "Notifications: 0 unread")

    manager = browser.new_context().new_page()
    sign_in(manager, base, "manager@example.com")
    manager.goto(f"{base}/ideas/{idea_in_progress}")
    manager.get_by_label("Move to").select_option(label="Implemented")
    manager.get_by_label("Note").fill("Every customer now gets a text the evening before.")
    manager.get_by_label("Put into practice on").fill(utcnow().date().isoformat())
    manager.get_by_role("button", name="Change status").click()
    expect(manager.locator("#idea-status")).to_have_text("Implemented")
    manager.context.close()

    # No reload: the bell asks again by itself.
    expect(page.locator("#bell")).to_have_attribute(
        "aria-label", "Notifications: 1 unread", timeout=8000
    )
    page.locator("#bell").click()
    # Opening marks it read, so it is a button (a POST) that looks like a link.
    page.get_by_role("button", name=re.compile("has been put into practice")).click()
    expect(page).to_have_url(re.compile(rf"/ideas/{idea_in_progress}#history$"))
    expect(page.get_by_role("heading", name=re.compile("Put into practice on"))).to_be_visible()
    expect(page.locator("#bell")).to_have_attribute("aria-label", "Notifications: 0 unread")


def test_a_learner_turns_on_the_calendar_feed_and_can_replace_its_link(
    page: Page, live_server, app
):
    seed_people()
    db.session.commit()
    base = live_server.url
    sign_in(page, base, "employee@example.com")
    page.goto(f"{base}/notifications/settings")
    expect(page.get_by_label("Calendar link")).to_have_count(0)
    page.get_by_role("button", name="Turn on my calendar feed").click()
    expect(page.get_by_text("Your calendar link is ready")).to_be_visible()
    link = page.get_by_label("Calendar link")
    first = link.input_value()
    assert re.search(r"/calendar/[^/]+\.ics$", first)
    page.get_by_role("button", name=re.compile("Make a new link")).click()
    expect(page.get_by_text("the old one no longer works")).to_be_visible()
    assert page.get_by_label("Calendar link").input_value() != first
