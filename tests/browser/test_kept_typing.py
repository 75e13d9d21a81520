"""Nothing typed is lost when the session ends while someone writes: the reflection sent after
signing out in another tab is refused with a way back, and the text is on the form again after
signing in; the idea form (htmx) says the same; another person signing in in that tab finds
nothing of it; a look-up made while typing after the session ended brings the page back with
its text after signing in (docs/architecture.md, "Text typed when the session ends")."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from playwright.sync_api import Page, expect

from serviceideas.demo.people import DEMO_PASSWORD, seed_people
from serviceideas.extensions import db
from serviceideas.people.models import User

pytestmark = pytest.mark.browser

REFLECTION = (
    "The stores call us three times a morning to ask where the van is. They are our customers "
    "and we answer with a tracking number they cannot open."
)
BACK = "What you typed before you were signed out is back. Send it when ready."


def copies_kept(page: Page) -> list[str]:
    return page.evaluate(
        "Object.keys(sessionStorage).filter((key) => key.startsWith('serviceideas:typed:'))"
    )


def sign_in_here(page: Page, email: str) -> None:
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_text_sent_after_the_session_ended_comes_back_after_signing_in(
    page: Page, live_server, app, make_enrolment
):
    seed_people()
    db.session.commit()
    employee = db.session.scalar(sa.select(User).where(User.email == "employee@example.com"))
    enrolment = make_enrolment("reflection", learner=employee)
    base = live_server.url
    form_page = f"{base}/training/enrolments/{enrolment.id}"

    page.goto(f"{base}/login?next=/training/enrolments/{enrolment.id}")
    sign_in_here(page, "employee@example.com")
    page.get_by_label("Your answer").fill(REFLECTION)

    # Meanwhile, in another tab, they sign out (everywhere).
    other = page.context.new_page()
    other.goto(f"{base}/logout")
    other.get_by_role("main").get_by_role("button", name="Sign out").click()
    other.close()

    page.get_by_role("button", name="Submit my answer").click()
    expect(page.get_by_text("You were signed out, so this was not sent.")).to_be_visible()
    expect(page.get_by_text("What you typed is kept in this tab")).to_be_visible()
    page.get_by_role("button", name="Sign in again").click()
    sign_in_here(page, "employee@example.com")

    expect(page).to_have_url(form_page)
    expect(page.get_by_label("Your answer")).to_have_value(REFLECTION)
    expect(page.get_by_role("status").filter(has_text=BACK)).to_be_visible()
    assert copies_kept(page) == []  # put back, so no longer kept
    page.get_by_role("button", name="Submit my answer").click()
    expect(page.get_by_text("Done:")).to_be_visible()

    # The idea form (htmx) keeps its text in place, says why it was not sent, and keeps a copy;
    # someone else signing in in this tab finds neither the copy nor the text.
    page.goto(f"{base}/ideas/new")
    with page.expect_response(lambda answer: "/ideas/similar" in answer.url):
        page.get_by_label("Title").fill("Tracking links the stores can open")  # looked up
    page.context.clear_cookies()
    page.get_by_role("button", name="Submit idea").click()
    error = page.get_by_role("alert").filter(has_text="You were signed out")
    expect(error).to_contain_text("What you typed is kept in this tab")
    expect(page.get_by_label("Title")).to_have_value("Tracking links the stores can open")
    assert len(copies_kept(page)) == 1
    error.get_by_role("link", name="Sign in again").click()
    sign_in_here(page, "manager@example.com")

    expect(page).to_have_url(f"{base}/ideas/new")
    expect(page.get_by_label("Title")).to_have_value("")
    expect(page.get_by_text(BACK)).to_have_count(0)
    assert copies_kept(page) == []

    # A look-up made while typing finds the session ended: the page goes to sign in, and the
    # text comes back on it.
    page.context.clear_cookies()
    page.get_by_label("Title").fill("Shelf labels in large print")
    expect(page).to_have_url(re.compile(r"/login\?next="))
    sign_in_here(page, "manager@example.com")
    expect(page).to_have_url(f"{base}/ideas/new")
    expect(page.get_by_label("Title")).to_have_value("Shelf labels in large print")
    expect(page.get_by_role("status").filter(has_text=BACK)).to_be_visible()
