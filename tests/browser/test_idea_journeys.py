"""An idea's life in the browser: submitted, listed, voted on, taken to practice."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from playwright.sync_api import Page, expect

from serviceideas.database import utcnow
from serviceideas.demo.people import seed_people
from serviceideas.extensions import db
from serviceideas.ideas import services as ideas
from serviceideas.ideas.models import Idea, Lens
from serviceideas.people.models import User
from tests.browser.test_people_journeys import sign_in

pytestmark = pytest.mark.browser


@pytest.fixture
def demo_company(app):
    seed_people()
    db.session.commit()


def test_an_idea_from_submission_to_practice(page: Page, live_server, demo_company, browser):
    base = live_server.url

    # An employee submits an idea and sees it listed.
    sign_in(page, base, "backoffice@example.com")
    nav = page.get_by_role("navigation", name="Main")
    nav.get_by_role("link", name="Ideas", exact=True).click()
    page.get_by_role("button", name="Submit an idea").click()
    page.get_by_label("Title").fill("Tell stores which deliveries are late")
    page.get_by_label("The problem, as the customer (or the colleague) experiences it").fill(
        "Store staff learn about a late delivery when the customer is at the counter."
    )
    page.get_by_label("What we could change").fill("Share the route tracker with every store.")
    page.get_by_label("Remove a “go away”").check()
    page.get_by_label("Who benefits").select_option(label="Stores (internal)")
    page.get_by_role("button", name="Submit idea").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Tell stores which deliveries are late"
    )
    idea_url = page.url
    nav.get_by_role("link", name="Ideas", exact=True).click()
    card = page.locator(".idea-card", has_text="Tell stores which deliveries are late")
    expect(card).to_contain_text("Submitted")
    expect(card).to_contain_text("Logistics")

    # A colleague votes: the count changes without the page reloading.
    colleague = browser.new_context().new_page()
    sign_in(colleague, base, "employee@example.com")
    colleague.goto(idea_url)
    colleague.evaluate("window.loadedOnce = true")
    vote = colleague.locator("#vote").get_by_role("button", name="Vote")
    expect(vote).to_have_attribute("aria-pressed", "false")
    vote.click()
    voted = colleague.locator("#vote").get_by_role("button", name="Voted")
    expect(voted).to_have_attribute("aria-pressed", "true")
    expect(colleague.locator("#vote")).to_contain_text("1 vote")
    assert colleague.evaluate("window.loadedOnce") is True  # no reload happened
    colleague.get_by_label("Your comment").fill("This happens to us every Friday.")
    colleague.get_by_role("button", name="Post comment").click()
    expect(colleague.locator("#comments")).to_contain_text("This happens to us every Friday.")
    assert colleague.evaluate("window.loadedOnce") is True
    colleague.context.close()

    # A manager takes it from submitted to implemented, with a note.
    manager = browser.new_context().new_page()
    sign_in(manager, base, "manager@example.com")
    manager.get_by_role("navigation", name="Main").get_by_role("link", name="Review queue").click()
    manager.get_by_role("link", name="Tell stores which deliveries are late").click()
    for step, note in [
        ("Under review", "Looking at it this week."),
        ("Approved", "Yes. No pilot: all stores at once."),
        ("In progress", "IT is connecting the tracker."),
    ]:
        manager.get_by_label("Move to").select_option(label=step)
        manager.get_by_label("Note").fill(note)
        manager.get_by_role("button", name="Change status").click()
        expect(manager.locator("#idea-status")).to_have_text(step)

    manager.get_by_label("Move to").select_option(label="Implemented")
    manager.get_by_label("Note").fill("Every store sees late deliveries; counter complaints fell.")
    manager.get_by_label("Put into practice on").fill(utcnow().date().isoformat())
    manager.get_by_role("button", name="Change status").click()
    expect(manager.locator("#idea-status")).to_have_text("Implemented")
    expect(manager.get_by_role("heading", name=re.compile("Put into practice on"))).to_be_visible()

    # The history shows each step, who took it and the note.
    history = manager.locator("#history")
    expect(history.locator("li")).to_have_count(5)
    expect(history).to_contain_text("Bo Backoffice submitted it")
    expect(history).to_contain_text("moved it from submitted to under review")
    expect(history).to_contain_text("moved it from in progress to implemented")
    expect(history).to_contain_text("counter complaints fell")
    manager.context.close()


def test_a_bad_idea_keeps_what_was_typed(page: Page, live_server, demo_company):
    sign_in(page, live_server.url, "employee@example.com")
    page.goto(f"{live_server.url}/ideas/new")
    page.get_by_label("Title").fill("Half an idea")
    page.get_by_role("button", name="Submit idea").click()
    expect(page.get_by_text("Please check the fields marked below.")).to_be_visible()
    expect(page.get_by_text("Choose a lens.")).to_be_visible()
    expect(page.get_by_label("Title")).to_have_value("Half an idea")
    # the refused form has an address of its own (no new history entry): reloading it
    # shows the same form and the same reasons, and sends nothing
    expect(page).to_have_url(re.compile(r"/ideas/new\?refused=[\w-]+$"))
    reloaded = page.reload()
    assert reloaded is not None and reloaded.status == 422  # a page showing a refused form
    expect(page.get_by_text("Choose a lens.")).to_be_visible()
    expect(page.get_by_label("Title")).to_have_value("Half an idea")


@pytest.fixture
def waiting_idea(demo_company) -> int:
    """An idea just submitted, waiting for its first decision."""
    from serviceideas.ideas import services as ideas
    from serviceideas.ideas.models import Lens
    from serviceideas.people.services import find_user

    author = find_user("employee@example.com")
    draft = ideas.IdeaDraft(
        title="Call customers back instead of holding",
        problem="Customers hold for twenty minutes at lunchtime.",
        proposal="Offer a call back at a time they choose.",
        lens=Lens.CARE,
        beneficiary=None,
    )
    idea_id = ideas.submit_idea(author, draft).id
    db.session.commit()
    return idea_id


def test_the_review_form_shows_only_the_fields_the_chosen_step_needs(
    page: Page, live_server, waiting_idea, browser
):
    sign_in(page, live_server.url, "manager@example.com")
    page.goto(f"{live_server.url}/ideas/{waiting_idea}")
    move_to = page.get_by_label("Move to")
    expect(move_to).to_have_value("")  # nothing decided by default
    options = move_to.locator("option")
    expect(options).to_have_text(
        ["Choose…", "Under review", "Put into practice (it already happened)", "Declined", "Merged"]
    )
    merge_into = page.get_by_label("Merge into")
    implemented_on = page.get_by_label("Put into practice on")
    expect(merge_into).to_be_hidden()
    expect(implemented_on).to_be_hidden()

    # By keyboard: the merge target appears for "Merged" only, and is then the next stop.
    move_to.focus()
    move_to.select_option("merged")
    expect(merge_into).to_be_visible()
    expect(merge_into).to_be_enabled()
    page.get_by_label("Note").focus()
    page.keyboard.press("Tab")
    expect(merge_into).to_be_focused()
    move_to.select_option("under_review")
    expect(merge_into).to_be_hidden()
    expect(merge_into).to_be_disabled()  # out of the tab order and not sent

    # Without JavaScript every field shows, its label saying when it applies.
    plain = browser.new_context(java_script_enabled=False).new_page()
    sign_in(plain, live_server.url, "manager@example.com")
    plain.goto(f"{live_server.url}/ideas/{waiting_idea}")
    expect(plain.get_by_label("Merge into (only for Merged)")).to_be_visible()
    expect(plain.get_by_label("Put into practice on (only for Implemented)")).to_be_visible()
    plain.context.close()


@pytest.mark.parametrize("javascript", [True, False], ids=["with-js", "without-js"])
def test_a_manager_overtaken_by_another_decides_again_in_one_click(
    live_server, waiting_idea, browser, javascript
):
    base = live_server.url
    max_ = browser.new_context(java_script_enabled=javascript).new_page()
    sign_in(max_, base, "manager@example.com")
    max_.goto(f"{base}/ideas/{waiting_idea}")
    ada = browser.new_context().new_page()
    sign_in(ada, base, "admin@example.com")
    ada.goto(f"{base}/ideas/{waiting_idea}")

    # Ada decides first.
    ada.get_by_label("Move to").select_option(label="Under review")
    ada.get_by_label("Note").fill("Looking at it with the phone team.")
    ada.get_by_role("button", name="Change status").click()
    expect(ada.locator("#idea-status")).to_have_text("Under review")

    # Max, on the page as it was, declines: nothing is saved, nothing he wrote is lost.
    max_.get_by_label("Move to").select_option(label="Declined")
    max_.get_by_label("Note").fill("Tried in 2019; customers missed the calls.")
    max_.get_by_role("button", name="Change status").click()
    expect(max_.get_by_role("alert")).to_contain_text("Your decision was not saved: Ada Admin")
    review = max_.locator("#review")
    expect(review).to_contain_text("Changed while you were deciding")
    expect(review).to_contain_text("Ada Admin moved it from submitted to under review")
    expect(review).to_contain_text("Looking at it with the phone team.")
    expect(max_.locator("#idea-status")).to_have_text("Under review")
    expect(max_.get_by_label("Move to")).to_have_value("declined")
    expect(max_.get_by_label("Note")).to_have_value("Tried in 2019; customers missed the calls.")

    # One click decides again, on the idea as it is now.
    max_.get_by_role("button", name="Change status").click()
    expect(max_.locator("#idea-status")).to_have_text("Declined")
    expect(max_.locator("#history")).to_contain_text("Tried in 2019; customers missed the calls.")
    max_.context.close()
    ada.context.close()


def fill_an_idea(page: Page, title: str) -> None:
    page.get_by_label("Title").fill(title)
    page.get_by_label("The problem, as the customer (or the colleague) experiences it").fill(
        "Customers ring twice because nobody calls back."
    )
    page.get_by_label("What we could change").fill("Call back within the hour.")
    page.get_by_label("Care").check()
    page.get_by_label("Who benefits").select_option(label="External customers")


def ideas_titled(title: str) -> int:
    db.session.commit()  # read what the server's requests committed
    return db.session.scalar(sa.select(sa.func.count()).where(Idea.title == title))


@pytest.mark.parametrize("javascript", [True, False], ids=["htmx", "without JavaScript"])
def test_double_clicking_submit_idea_makes_one_idea(browser, live_server, demo_company, javascript):
    page = browser.new_context(java_script_enabled=javascript).new_page()
    sign_in(page, live_server.url, "employee@example.com")
    page.goto(f"{live_server.url}/ideas/new")
    fill_an_idea(page, "Call back within the hour")
    sent = []
    page.on("request", lambda request: request.method == "POST" and sent.append(request.url))
    page.get_by_role("button", name="Submit idea").dblclick()
    expect(page.get_by_role("heading", level=1)).to_have_text("Call back within the hour")
    # (without JavaScript both requests go out: each answer says the idea is in, once)
    expect(page.get_by_text("your idea is in").first).to_be_visible()
    assert sent  # at least one request went out (without JavaScript, often two)
    assert ideas_titled("Call back within the hour") == 1
    page.context.close()


def test_a_vote_shows_in_both_places_keeps_the_focus_and_survives_a_reload(
    page: Page, live_server, demo_company
):
    author = db.session.scalar(sa.select(User).where(User.email == "backoffice@example.com"))
    draft = ideas.IdeaDraft("Texts before delivery", "Waiting.", "Send a text.", Lens.CARE, None)
    idea = ideas.submit_idea(author, draft)
    db.session.commit()
    sign_in(page, live_server.url, "employee@example.com")
    page.goto(f"{live_server.url}/ideas/{idea.id}")
    top, side = page.locator("#vote-top"), page.locator("#vote")

    top.get_by_role("button", name="Vote").click()
    expect(top.get_by_role("button", name="Voted")).to_be_focused()
    expect(side.get_by_role("button", name="Voted")).to_have_attribute("aria-pressed", "true")
    expect(side).to_contain_text("1 vote")
    expect(page.locator("#announcer")).to_have_text("Your vote is counted: 1 vote.")

    page.reload()
    expect(top.get_by_role("button", name="Voted")).to_have_attribute("aria-pressed", "true")
    side.get_by_role("button", name="Voted").click()  # one click takes it back
    expect(side.get_by_role("button", name="Vote")).to_be_focused()
    expect(top.get_by_role("button", name="Vote")).to_have_attribute("aria-pressed", "false")
    expect(top).to_contain_text("0 votes")

    # On the list, each card has its button, showing the same vote.
    page.goto(f"{live_server.url}/ideas")
    card = page.locator(f"#idea-{idea.id}")
    card.get_by_role("button", name="Vote").click()
    expect(card.get_by_role("button", name="Voted")).to_be_focused()
    expect(card).to_contain_text("1 vote (yours among them)")
    page.goto(f"{live_server.url}/ideas/{idea.id}")
    expect(top.get_by_role("button", name="Voted")).to_have_attribute("aria-pressed", "true")


def test_a_posted_comment_empties_the_box_and_keeps_the_focus_there(
    page: Page, live_server, demo_company
):
    author = db.session.scalar(sa.select(User).where(User.email == "backoffice@example.com"))
    draft = ideas.IdeaDraft("Texts before delivery", "Waiting.", "Send a text.", Lens.CARE, None)
    idea = ideas.submit_idea(author, draft)
    db.session.commit()
    sign_in(page, live_server.url, "employee@example.com")
    page.goto(f"{live_server.url}/ideas/{idea.id}")
    box = page.get_by_label("Your comment")
    box.fill("We lose a morning to this every week.")
    page.get_by_role("button", name="Post comment").dblclick()
    comments = page.locator("#comments")
    expect(comments.locator(".comment")).to_have_count(1)
    expect(comments).to_contain_text("We lose a morning to this every week.")
    expect(box).to_have_value("")
    expect(box).to_be_focused()
    expect(page.locator("#announcer")).to_have_text("Your comment is posted.")


def test_a_manager_picks_an_owner_by_name_and_fast_tracks_the_idea(
    page: Page, live_server, waiting_idea, browser
):
    base = live_server.url
    sign_in(page, base, "manager@example.com")
    page.goto(f"{base}/ideas/{waiting_idea}")

    # Typing part of a name offers the people who match; one click names the owner.
    page.get_by_label("Owner", exact=True).press_sequentially("bo back", delay=30)
    pick = page.locator("#owner-matches").get_by_role("button", name=re.compile("Bo Backoffice"))
    expect(pick).to_be_visible()
    pick.click()
    expect(
        page.get_by_role("status").filter(has_text="Owner set to Bo Backoffice.")
    ).to_be_visible()
    expect(page.locator("#idea-owner")).to_have_text("Bo Backoffice")

    # It is already in practice: recorded as implemented in one step, with evidence.
    page.get_by_label("Move to").select_option(label="Put into practice (it already happened)")
    expect(page.get_by_label("Put into practice on")).to_be_visible()
    page.get_by_label("Note").fill("Lunchtime call-backs started last week; holds are gone.")
    page.get_by_label("Put into practice on").fill(utcnow().date().isoformat())
    page.get_by_role("button", name="Change status").click()
    expect(page.locator("#idea-status")).to_have_text("Implemented")
    history = page.locator("#history")
    expect(history.locator("li")).to_have_count(2)
    expect(history).to_contain_text("Max Manager put it into practice directly (it was submitted)")

    # The owner was told, and finds it under Ideas I own.
    owner = browser.new_context().new_page()
    sign_in(owner, base, "backoffice@example.com")
    owner.goto(f"{base}/notifications")
    expect(owner.locator("main")).to_contain_text(
        "Max Manager made you the owner of “Call customers back instead of holding”"
    )
    owner.goto(f"{base}/ideas/mine")
    owner.get_by_role("link", name="Ideas I own").click()
    expect(owner.locator("main")).to_contain_text("Call customers back instead of holding")
    owner.context.close()


def test_anyone_follows_and_unfollows_an_idea_by_keyboard_and_an_unfollow_sticks(
    page: Page, live_server, demo_company
):
    author = db.session.scalar(sa.select(User).where(User.email == "backoffice@example.com"))
    draft = ideas.IdeaDraft("Call back before closing", "Waiting.", "Call back.", Lens.CARE, None)
    idea = ideas.submit_idea(author, draft)
    db.session.commit()
    sign_in(page, live_server.url, "employee@example.com")
    page.goto(f"{live_server.url}/ideas/{idea.id}")
    page.evaluate("window.loadedOnce = true")
    box = page.locator("#follow")

    # By keyboard, without a reload: the button says it now follows and keeps the focus.
    box.get_by_role("button", name="Follow", exact=True).focus()
    page.keyboard.press("Enter")
    following = box.get_by_role("button", name="Following", exact=True)
    expect(following).to_be_focused()
    expect(following).to_have_attribute("aria-pressed", "true")
    expect(page.locator("#announcer")).to_have_text("You follow this idea.")
    assert page.evaluate("window.loadedOnce") is True

    page.reload()  # the state comes from the database
    box.get_by_role("button", name="Following", exact=True).click()
    expect(box.get_by_role("button", name="Follow", exact=True)).to_be_focused()
    expect(page.locator("#announcer")).to_have_text("You no longer follow this idea.")

    # Voting afterwards does not make them follow again: the unfollow was their choice.
    page.locator("#vote").get_by_role("button", name="Vote").click()
    expect(page.locator("#vote").get_by_role("button", name="Voted")).to_be_visible()
    page.reload()
    expect(box.get_by_role("button", name="Follow", exact=True)).to_have_attribute(
        "aria-pressed", "false"
    )
