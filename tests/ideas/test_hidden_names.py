"""Speaking up safely (docs/product.md, "Speaking up safely"): an idea sent without showing its
author's name names them to nobody but themselves, managers and admins — on no page, fragment,
CSV, notification or e-mail — while it still counts for their department. The author may show
their name later, for good.

The author's name is unusual, so that its absence from a page means something.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from serviceideas.database import utcnow
from serviceideas.extensions import db
from serviceideas.ideas import queries
from serviceideas.ideas import services as ideas
from serviceideas.ideas.models import Idea, Status
from serviceideas.ideas.policies import HIDDEN_NAME
from serviceideas.insights.routes import TABLES
from serviceideas.notifications import services as notifications
from serviceideas.notifications.models import Email, Notification
from serviceideas.people.models import DepartmentKind, Role, User

AUTHOR = "Zebedee Quill"
AUTHOR_EMAIL = "zebedee.quill@example.com"
TITLE = "Fold the guest towels in thirds"
HX = {"HX-Request": "true"}


@pytest.fixture
def app_settings() -> dict[str, Any]:
    return {"SMTP_HOST": "localhost"}  # e-mail is queued (never sent here), so it can be read


@dataclass
class World:
    idea: Idea
    author: User
    colleague: User  # voted, so follows the idea, and commented
    teammate: User  # of the team the idea was for: told when it was put into practice
    trainer: User  # reads the author's reflection the idea was started from
    manager: User
    admin: User


def _submit_hidden(client: Any, **fields: str) -> Any:
    form = client.get("/ideas/new").get_data(as_text=True)
    token = re.search(r'name="submission_token"[^>]*value="([^"]+)"', form)
    assert token, "the form carries its token"
    return client.post(
        "/ideas/new",
        data={
            "title": TITLE,
            "problem": "Towels folded in halves do not fit the guest shelves.",
            "proposal": "Fold them in thirds, as the shelves were built for.",
            "lens": "care",
            "name_hidden": "y",
            "submission_token": token.group(1),
            **fields,
        },
    )


@pytest.fixture
def world(client_as, make_user, make_department, make_enrolment) -> World:
    """The author sends an idea with their name hidden, started from their reflection, for an
    internal team; a colleague votes and comments; a manager makes the author its owner, the
    author notes progress, and the idea is put into practice."""
    harbour = make_department("Harbour Desk", DepartmentKind.FRONT_LINE)
    laundry = make_department("Laundry", DepartmentKind.BACK_OFFICE)
    author = make_user(name=AUTHOR, email=AUTHOR_EMAIL, department=harbour)
    colleague = make_user(name="Colleague Cole", department=harbour)
    teammate = make_user(name="Teammate Tess", department=laundry)
    manager = make_user(Role.MANAGER, name="Manager Mo")
    admin = make_user(Role.ADMIN, name="Admin Ada")
    enrolment = make_enrolment(
        "reflection",
        learner=author,
        answer="Guests keep finding towels that do not fit the shelves in their rooms.",
    )
    module = enrolment.assignment.module

    author_client = client_as(author)
    sent = _submit_hidden(author_client, beneficiary=str(laundry.id), origin=f"module:{module.id}")
    assert sent.status_code == 303
    idea = db.session.scalar(sa.select(Idea).where(Idea.title == TITLE))
    assert idea is not None and idea.name_hidden
    assert idea.author_department_id == harbour.id

    colleague_client = client_as(colleague)
    voted = colleague_client.post(
        f"/ideas/{idea.id}/vote", data={"vote": "1", "place": "card"}, headers=HX
    )
    assert voted.status_code == 200
    assert_no_name(voted.get_data(as_text=True), author, "the vote fragment")

    ideas.change_status(manager, idea, ideas.Decision(Status.UNDER_REVIEW, note="Looking."))
    ideas.set_owner(manager, idea, author)
    db.session.commit()
    noted = author_client.post(
        f"/ideas/{idea.id}/progress",
        data={"next_step": "Ask the laundry", "note": "Tried it on floor two."},
    )
    assert noted.status_code == 303
    for step in (Status.APPROVED, Status.IN_PROGRESS, Status.IMPLEMENTED):
        day = utcnow().date() if step is Status.IMPLEMENTED else None
        ideas.change_status(
            manager, idea, ideas.Decision(step, note="Towels fit now.", implemented_on=day)
        )
    db.session.commit()

    commented = colleague_client.post(
        f"/ideas/{idea.id}/comments", data={"body": "Works on my floor too."}, headers=HX
    )
    assert commented.status_code == 200
    assert_no_name(commented.get_data(as_text=True), author, "the comments fragment")
    return World(idea, author, colleague, teammate, module.author, manager, admin)


def assert_no_name(text: str, author: User, where: str) -> None:
    for telling in (AUTHOR, "Zebedee", "Quill", AUTHOR_EMAIL, f"author_id={author.id}"):
        assert telling not in text, f"{where} names the author ({telling!r})"


def pages_about_the_idea(world: World, app: Any) -> dict[str, str]:
    """Every page and fragment that shows the idea (or would, if it named its author), with
    the text each must show, so that a missing name is not just a missing idea."""
    idea = world.idea
    word = "towels"  # the search finds it
    similar = (  # the submit form's similar ideas, where that fragment exists
        {"/ideas/similar?title=Fold+guest+towels+in+thirds": TITLE}
        if "ideas.similar" in app.view_functions
        else {}
    )
    return {
        **similar,
        "/": TITLE,
        "/ideas": TITLE,
        f"/ideas?q={word}": f'href="/ideas/{idea.id}"',  # the title has the word marked
        "/ideas?status=implemented&sort=newest": TITLE,
        f"/ideas?author_id={world.author.id}": "",  # not a filter the list offers: no matter
        f"/ideas/{idea.id}": TITLE,
        "/dashboard?period=month": "",
        "/dashboard/what-changed?period=month": TITLE,
        "/leaderboard?period=month": "",
        "/notifications": "",
    }


def read_as(client: Any, url: str, **headers: str) -> str:
    response = client.get(url, headers=headers)
    assert response.status_code == 200, url
    return response.get_data(as_text=True)


def test_nobody_but_the_author_managers_and_admins_sees_the_name_on_any_page(world, client_as, app):
    for viewer in (world.colleague, world.teammate, world.trainer):
        client = client_as(viewer)
        for url, shown in pages_about_the_idea(world, app).items():
            text = read_as(client, url)
            assert shown in text, f"{url} shows the idea to {viewer.name}"
            assert_no_name(text, world.author, f"{url} for {viewer.name}")
        page = read_as(client, f"/ideas/{world.idea.id}")
        submitted_by = re.search(r'<dd id="idea-author">(.*?)</dd>', page, re.S)
        assert submitted_by and HIDDEN_NAME in submitted_by.group(1)
        assert "Harbour Desk" in submitted_by.group(1)  # the idea counts for it: it shows
        assert "Show my name" not in page
        # The history's first step (the author's), the progress note (theirs) and the owner
        # (them) say so too; the colleague's own comment stays named.
        assert page.count(HIDDEN_NAME) >= 4
        assert "Colleague Cole" in page


def test_every_download_leaves_the_name_out_for_colleagues(world, client_as):
    client = client_as(world.colleague)
    for table in TABLES:
        response = client.get(f"/insights/{table}.csv?period=month")
        if table == "people":  # each person's part: for managers and admins only
            assert response.status_code == 403
            continue
        assert response.status_code == 200, table
        assert_no_name(response.get_data(as_text=True), world.author, f"{table}.csv")
    stories = client.get("/insights/what-changed.csv?period=month").get_data(as_text=True)
    (row,) = csv.DictReader(io.StringIO(stories.lstrip("\ufeff")))
    assert row["title"] == TITLE
    assert row["author"] == HIDDEN_NAME
    assert row["owner"] == HIDDEN_NAME  # the author owns it
    assert row["team (author's department when submitting)"] == "Harbour Desk"


def test_the_trainer_does_not_see_which_idea_the_named_reflection_became(world, client_as):
    inbox = read_as(client_as(world.trainer), "/training/reflections")
    assert AUTHOR in inbox  # the reflection is theirs, and named, as it always was
    assert TITLE not in inbox
    assert f"/ideas/{world.idea.id}" not in inbox


def test_no_notification_or_email_to_anyone_else_names_the_author(world, app):
    notifications.queue_immediate()
    notifications.send_daily_digests(utcnow().date() + timedelta(days=1))
    db.session.commit()
    knowing = {world.author.id, world.manager.id, world.admin.id}
    told = db.session.scalars(sa.select(Notification)).all()
    to_others = [n for n in told if n.user_id not in knowing]
    assert {n.user_id for n in to_others} >= {world.colleague.id, world.teammate.id}
    for notification in to_others:
        assert_no_name(f"{notification.title} {notification.body}", world.author, "a notice")
    emails = [e for e in db.session.scalars(sa.select(Email)) if e.user_id not in knowing]
    assert emails, "the colleague and the teammate are e-mailed"
    for email in emails:
        text = f"{email.subject} {email.text_body} {email.html_body}"
        assert_no_name(text, world.author, f"an e-mail to {email.to_address}")


def test_the_author_managers_and_admins_see_the_name(world, client_as):
    for viewer in (world.author, world.manager, world.admin):
        client = client_as(viewer)
        page = read_as(client, f"/ideas/{world.idea.id}")
        assert f"{AUTHOR}" in page and "(not shown to colleagues)" in page
        assert AUTHOR in read_as(client, "/ideas?status=implemented")
        assert AUTHOR in read_as(client, "/dashboard/what-changed?period=month")
        stories = client.get("/insights/what-changed.csv?period=month").get_data(as_text=True)
        assert AUTHOR in stories
    mine = read_as(client_as(world.author), "/ideas/mine")
    assert TITLE in mine and AUTHOR in mine
    own_page = read_as(client_as(world.author), f"/ideas/{world.idea.id}")
    assert "Show my name" in own_page
    assert "a comment of yours here would tell colleagues that this idea is yours" in own_page
    assert "Show my name" not in read_as(client_as(world.manager), f"/ideas/{world.idea.id}")


def test_asked_for_the_authors_ideas_a_colleague_is_not_shown_the_hidden_one(world):
    asked = queries.IdeaFilters(author_id=world.author.id)
    assert queries.list_ideas(asked, world.colleague).cards == []
    for viewer in (world.author, world.manager, world.admin):
        (card,) = queries.list_ideas(asked, viewer).cards
        assert (card.author_name, card.author_id) == (AUTHOR, world.author.id)
    (card,) = queries.list_ideas(queries.IdeaFilters(), world.colleague).cards
    assert (card.author_name, card.author_id) == (HIDDEN_NAME, None)


def _leaderboard_csv(client: Any, table: str) -> list[dict[str, str]]:
    text = client.get(f"/insights/{table}.csv?period=month").get_data(as_text=True)
    return list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))


def test_the_hidden_idea_counts_for_the_department_but_not_for_the_person(
    world, client_as, make_idea
):
    make_idea(Status.IMPLEMENTED, author=world.colleague, reviewer=world.manager)
    for viewer in (world.colleague, world.manager):
        client = client_as(viewer)
        leaders = _leaderboard_csv(client, "leaders")
        assert [(r["name"], r["put into practice"]) for r in leaders] == [("Colleague Cole", "1")]
        departments = {
            r["team"]: r["put into practice"]
            for r in _leaderboard_csv(client, "departments-by-count")
        }
        assert departments["Harbour Desk"] == "2"  # the hidden idea and the colleague's
    # Each person's part, for managers, counts every idea of theirs.
    people = {r["name"]: r["put into practice"] for r in _leaderboard_csv(client, "people")}
    assert people[AUTHOR] == "1"


def test_only_the_author_shows_their_name_and_only_once(world, client_as):
    url = f"/ideas/{world.idea.id}/show-name"
    for other in (world.colleague, world.manager, world.admin):
        assert client_as(other).post(url).status_code == 403
    db.session.refresh(world.idea)
    assert world.idea.name_hidden

    author = client_as(world.author)
    for _ in range(2):  # showing it again changes nothing
        response = author.post(url)
        assert response.status_code == 303
        assert response.headers["Location"].endswith(f"/ideas/{world.idea.id}")
        db.session.refresh(world.idea)
        assert not world.idea.name_hidden
    colleague = client_as(world.colleague)
    assert AUTHOR in read_as(colleague, f"/ideas/{world.idea.id}")
    assert "Show my name" not in read_as(author, f"/ideas/{world.idea.id}")
    leaders = _leaderboard_csv(colleague, "leaders")
    assert [r["name"] for r in leaders] == [AUTHOR]


def test_the_form_says_who_still_sees_the_name(client_as, make_user):
    form = read_as(client_as(make_user()), "/ideas/new")
    assert "Don&#39;t show my name to colleagues" in form or "Don't show my name" in form
    assert "Managers, admins and you still see your name" in form
    assert "still counts for your team" in form


def test_a_manager_who_hid_their_name_is_not_named_by_their_own_steps(
    client_as, make_user, make_idea
):
    manager = make_user(Role.MANAGER, name=AUTHOR, email=AUTHOR_EMAIL)
    colleague = make_user(name="Colleague Cole")
    assert _submit_hidden(client_as(manager), beneficiary="external").status_code == 303
    idea = db.session.scalar(sa.select(Idea).where(Idea.title == TITLE))
    ideas.change_status(manager, idea, ideas.Decision(Status.UNDER_REVIEW, note="Mine."))
    ideas.set_owner(manager, idea, colleague)
    db.session.commit()
    (notice,) = db.session.scalars(
        sa.select(Notification).where(Notification.user_id == colleague.id)
    )
    assert notice.title == f"A manager made you the owner of “{TITLE}”"
    page = read_as(client_as(colleague), f"/ideas/{idea.id}")
    assert_no_name(page, manager, "the idea page")
    assert page.count(HIDDEN_NAME) >= 3  # who submitted it, and both steps of its history
