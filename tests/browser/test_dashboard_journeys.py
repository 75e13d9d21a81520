"""The dashboard in the browser: a manager reads it, changes the period, downloads a CSV; an
employee finds their own idea on the leaderboard."""

from __future__ import annotations

import csv
import io
from pathlib import Path

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
def company_with_a_success(app):
    """The demo company, where Emma's idea was put into practice today."""
    seed_people()
    emma = db.session.scalar(sa.select(User).where(User.email == "employee@example.com"))
    max_ = db.session.scalar(sa.select(User).where(User.email == "manager@example.com"))
    draft = ideas.IdeaDraft(
        "Call back within the hour", "Waiting.", "Promise a time.", Lens.CARE, None
    )
    idea = ideas.submit_idea(emma, draft)
    for step in (Status.UNDER_REVIEW, Status.APPROVED, Status.IN_PROGRESS):
        ideas.change_status(max_, idea, ideas.Decision(step))
    ideas.change_status(
        max_,
        idea,
        ideas.Decision(Status.IMPLEMENTED, note="Callbacks kept.", implemented_on=utcnow().date()),
    )
    db.session.commit()


def test_a_manager_reads_the_dashboard_changes_the_period_and_downloads(
    page: Page, live_server, company_with_a_success
):
    sign_in(page, live_server.url, "manager@example.com")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Dashboard").click()
    headline = page.locator("#headline-number")
    expect(headline).to_have_text("1")
    expect(page.get_by_role("img", name="Ideas put into practice per month")).to_be_visible()

    # A period before anything happened: the headline and the chart change.
    page.get_by_label("Period", exact=True).select_option(label="Custom dates")
    page.get_by_label("From (custom)").fill("2025-01-01")
    page.get_by_label("To (custom)").fill("2025-03-31")
    page.get_by_role("button", name="Show").click()
    expect(headline).to_have_text("0")
    # 12 months. `.first`: once in CI under load both charts (wide and phone) were in the
    # accessibility tree at once, the stylesheet's display:none not yet applied.
    expect(page.get_by_role("img", name="Apr 2024 to Mar 2025").first).to_be_visible()

    with page.expect_download() as download:
        page.get_by_role("link", name="CSV").nth(2).click()  # the departments table
    assert download.value.suggested_filename == "dashboard-departments-2025-01-01-to-2025-03-31.csv"
    content = Path(download.value.path()).read_text(encoding="utf-8-sig")
    header, *rows = csv.reader(io.StringIO(content))
    assert header[:6] == [
        "team",
        "kind",
        "active staff",
        "submitted",
        "put into practice",
        "per 100 staff",
    ]
    assert ["Logistics", "Back office"] in [row[:2] for row in rows]

    # A reversed range is explained beside the field.
    page.get_by_label("From (custom)").fill("2025-03-31")
    page.get_by_label("To (custom)").fill("2025-01-01")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_text("The last day comes before the first")).to_be_visible()


def test_an_employee_sees_their_idea_on_the_leaderboard(
    page: Page, live_server, company_with_a_success
):
    sign_in(page, live_server.url, "employee@example.com")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Leaderboard").click()
    you = page.locator("#people-leaderboard").get_by_role("row", name="Emma Employee (you)")
    expect(you).to_contain_text("1")
    expect(page.locator("#departments-by-count").get_by_role("row").nth(1)).to_contain_text(
        "Customer Service"
    )


def test_a_manager_clicks_the_headline_number_and_reads_the_stories_behind_it(
    page: Page, live_server, company_with_a_success
):
    sign_in(page, live_server.url, "manager@example.com")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Dashboard").click()
    page.get_by_role("link", name="1 idea put into practice: read what changed").click()
    expect(page.get_by_role("heading", name="What changed", level=1)).to_be_visible()
    expect(page.get_by_role("heading", name="1 idea put into practice")).to_be_visible()
    story = page.get_by_role("article", name="Call back within the hour")
    expect(story).to_contain_text("Callbacks kept.")  # what changed, in the manager's words
    expect(story).to_contain_text("Idea by Emma Employee")
    expect(story).to_contain_text("Customer Service")  # the team it counts for

    # On a phone the stories fit the screen: nothing scrolls sideways.
    page.set_viewport_size({"width": 375, "height": 800})
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    # The same period picker: before anything happened there is no story, and it says so.
    page.get_by_label("Period", exact=True).select_option(label="Custom dates")
    page.get_by_label("From (custom)").fill("2025-01-01")
    page.get_by_label("To (custom)").fill("2025-03-31")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_text("No idea was put into practice in this period yet.")).to_be_visible()
