"""Nothing typed is lost when the session ends while someone writes: the reflection sent after
signing out in another tab is refused with a way back, and the text is on the form again after
signing in; the idea form (htmx) says the same; another person signing in in that tab finds
nothing of it; a look-up made while typing after the session ended brings the page back with
its text after signing in, and Discard takes it out again; an htmx form sent and taken drops
its copy; a module changed by someone else meanwhile gets its form as it is now, the text
shown to copy, not put back over the change; Sign out after the session ended forgets every
copy (docs/architecture.md, "Text typed when the session ends")."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from playwright.sync_api import Page, expect

from serviceideas.demo.people import DEMO_PASSWORD, seed_people
from serviceideas.extensions import db
from serviceideas.people.models import User
from serviceideas.training import services as training

pytestmark = pytest.mark.browser

REFLECTION = (
    "The stores call us three times a morning to ask where the van is. They are our customers "
    "and we answer with a tracking number they cannot open."
)
BACK = "What you typed here earlier was not sent, and is back. Send it when ready."


def copies_kept(page: Page) -> list[str]:
    # The page's text shows before its deferred scripts have run: wait for them (CI read a
    # copy that the sign-in page's script was about to forget).
    page.wait_for_load_state("load")
    return page.evaluate(
        "Object.keys(sessionStorage).filter((key) => key.startsWith('serviceideas:typed:'))"
    )


def copy_kept(page: Page) -> dict:
    """The one copy kept in the tab, as the script stored it."""
    page.wait_for_load_state("load")
    return page.evaluate(
        """JSON.parse(sessionStorage.getItem(Object.keys(sessionStorage).find(
            (key) => key.startsWith('serviceideas:typed:'))))"""
    )


def sign_in_here(page: Page, email: str) -> None:
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_text_sent_after_the_session_ended_comes_back_after_signing_in(
    page: Page, live_server, app, make_enrolment, make_module
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
    assert copy_kept(page)["fields"] == [["answer", REFLECTION]]  # no token, no hidden field
    page.get_by_role("button", name="Sign in again").click()
    sign_in_here(page, "employee@example.com")

    expect(page).to_have_url(form_page)
    expect(page.get_by_label("Your answer")).to_have_value(REFLECTION)
    expect(page.get_by_role("status").filter(has_text=BACK)).to_be_visible()
    assert copies_kept(page) == []  # put back, so no longer kept
    page.get_by_role("button", name="Submit my answer").click()
    expect(page.get_by_text("Done:")).to_be_visible()

    # An htmx form sent and taken drops a copy kept from an earlier failed send of it, which
    # would otherwise come back after the text went through.
    page.goto(f"{base}/ideas/new")
    page.evaluate(
        """sessionStorage.setItem('serviceideas:typed:/ideas/new /ideas/new', JSON.stringify({
            person: document.body.dataset.person, at: Date.now(), sent: false, served: '[]',
            fields: [['title', 'Tracking links']]}))"""
    )
    page.get_by_label("Title").fill("Tracking links")
    page.get_by_label("The problem, as the customer (or the colleague) experiences it").fill(
        "Stores cannot open the tracking number we give them."
    )
    page.get_by_label("What we could change").fill("Send a link they can open.")
    page.get_by_label("Remove a “go away”").check()
    page.get_by_label("Who benefits").select_option(index=1)
    page.get_by_role("button", name="Submit idea").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Tracking links")
    assert copies_kept(page) == []

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
    page.get_by_label("Remove a “go away”").check()  # the choices made come back with the text
    page.get_by_label("Title").fill("Shelf labels in large print")
    expect(page).to_have_url(re.compile(r"/login\?next="))
    # The text put back makes its look-up, as typing it would: it is put back after htmx ran.
    with page.expect_response(lambda answer: "/ideas/similar?title=Shelf" in answer.url):
        sign_in_here(page, "manager@example.com")
    expect(page).to_have_url(f"{base}/ideas/new")
    expect(page.get_by_label("Title")).to_have_value("Shelf labels in large print")
    expect(page.get_by_label("Remove a “go away”")).to_be_checked()
    expect(page.get_by_role("status").filter(has_text=BACK)).to_be_visible()
    page.get_by_role("button", name="Discard").click()
    expect(page.get_by_label("Title")).to_have_value("")
    expect(page.get_by_label("Remove a “go away”")).not_to_be_checked()
    expect(page.get_by_text(BACK)).to_have_count(0)

    # A trainer's edit of a module, refused because the session ended, while a colleague saves
    # the module: after signing in the form shows the colleague's text, and theirs to copy.
    db.session.commit()  # the test's reads start anew, after what the server wrote (SQLite)
    trainer = db.session.scalar(sa.select(User).where(User.email == "trainer@example.com"))
    module = make_module(author=trainer)
    edit = f"{base}/training/modules/{module.id}/edit"
    page.get_by_role("banner").get_by_role("button", name="Sign out").click()
    page.goto(f"{base}/login?next=/training/modules/{module.id}/edit")
    sign_in_here(page, "trainer@example.com")
    page.get_by_label("Title").fill("Answering the stores")
    page.context.clear_cookies()
    page.get_by_role("button", name="Save and preview").click()
    expect(page.get_by_text("What you typed is kept in this tab")).to_be_visible()
    names = [name for name, _ in copy_kept(page)["fields"]]
    assert "title" in names and not {"csrf_token", "revision", "submission_token"} & set(names)
    db.session.commit()
    training.update_module(
        trainer,
        module,
        training.ModuleDraft(
            title="Tracking for the stores",
            summary=module.summary,
            body=module.body,
            kind=module.kind,
            prompt=module.prompt,
            minutes=module.minutes,
        ),
    )
    db.session.commit()
    page.get_by_role("button", name="Sign in again").click()
    sign_in_here(page, "trainer@example.com")
    expect(page).to_have_url(edit)
    changed = page.get_by_role("status").filter(has_text="This page has changed since you typed")
    expect(changed).to_be_visible()
    expect(page.get_by_label("Title", exact=True)).to_have_value("Tracking for the stores")
    page.get_by_text("Show what you typed").click()
    expect(page.get_by_role("textbox", name="Show what you typed")).to_have_value(
        re.compile("Answering the stores")
    )

    # Sign out after the session ended (the idle timeout) forgets what the tab kept.
    page.evaluate(
        """sessionStorage.setItem('serviceideas:typed:/x /x', JSON.stringify({
            person: document.body.dataset.person, at: Date.now(), sent: false,
            fields: [['answer', 'private']]}))"""
    )
    page.context.clear_cookies()
    page.get_by_role("banner").get_by_role("button", name="Sign out").click()
    expect(page.get_by_text("You are signed out.")).to_be_visible()
    assert copies_kept(page) == []


def test_back_to_a_form_already_sent_finds_it_as_served_not_refilled(page: Page, live_server, app):
    """Browsers fill a form in again with what was typed when the person goes Back to it; for
    a form already sent, that was a second idea at one click (an auditor made two)."""
    seed_people()
    db.session.commit()
    base = live_server.url
    page.goto(f"{base}/login?next=/ideas/new")
    sign_in_here(page, "employee@example.com")
    page.locator("[name=title]").fill("Label the returns shelf")
    page.locator("[name=problem]").fill("Returns pile up where nobody looks for them.")
    page.locator("[name=proposal]").fill("A big label, and a place for each kind.")
    page.locator("[name=lens][value=care]").check()
    page.locator("[name=beneficiary]").select_option(index=1)
    page.get_by_role("button", name="Submit idea").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Label the returns shelf")

    page.go_back()
    page.wait_for_load_state("load")
    expect(page.locator("[name=title]")).to_have_value("")
    expect(page.locator("[name=problem]")).to_have_value("")
    # Nothing of the text is kept in the tab: only a digest, to know it again.
    stored = page.evaluate("JSON.stringify(Object.entries(sessionStorage))")
    assert "returns shelf" not in stored and "serviceideas:taken:" in stored
