"""Each rule defined once (docs/architecture.md, "Where each kind of rule lives") gives the same
answer on every page that shows it, right at its boundary.

One test per rule, each through two (or three) of the pages that use it: if a page counted
with a copy of the rule of its own, its figure would part from the other's at the boundary.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from serviceideas.database import utcnow
from serviceideas.extensions import db
from serviceideas.ideas.models import Status
from serviceideas.people.models import Department, DepartmentKind, Role, User
from tests.conftest import table_rows

Client = Callable[[User | None], FlaskClient]


def row(page: str, label: str) -> list[str]:
    """The cells after the first of the one table row whose first cell reads `label`."""
    found = [cells[1:] for cells in table_rows(page) if cells and cells[0] == label]
    assert len(found) == 1, f"{len(found)} rows labelled {label!r}"
    return found[0]


def page_of(client: FlaskClient, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response.get_data(as_text=True)


def noon(day: date) -> datetime:
    return datetime.combine(day, time(12), tzinfo=UTC)


# Stalled (docs/product.md, "Stalled ideas")


def test_stalled_the_dashboard_and_the_review_queue_agree_a_second_either_side(
    app: Flask, make_user: Callable[..., User], make_idea: Callable[..., Any], client_as: Client
) -> None:
    days = app.config["STALLED_AFTER_DAYS"]
    manager = make_user(Role.MANAGER)
    just_stalled = make_idea(title="Waited a second too long")
    not_yet = make_idea(title="A second to spare")
    also_stalled = make_idea(Status.IN_PROGRESS, title="In progress and waited too long")
    settled = make_idea(Status.IMPLEMENTED, title="Put into practice long ago")

    def around_the_boundary() -> None:
        """Put the ideas a second either side of the boundary as of now, just before a page
        asks: the page's own clock runs a few milliseconds later, never a second."""
        boundary = utcnow() - timedelta(days=days)
        just_stalled.status_changed_at = boundary - timedelta(seconds=1)
        also_stalled.status_changed_at = boundary - timedelta(seconds=1)
        not_yet.status_changed_at = boundary + timedelta(seconds=1)
        settled.status_changed_at = boundary - timedelta(days=100)  # not open: never stalled
        db.session.commit()

    client = client_as(manager)
    around_the_boundary()
    dashboard = page_of(client, "/dashboard")
    around_the_boundary()
    review = page_of(client, "/ideas/review")

    on_dashboard = re.search(r"<strong>(\d+)</strong> open ideas? stalled", dashboard)
    in_queue = re.search(r"(\d+) stalled</strong>", review)
    assert on_dashboard and in_queue
    assert on_dashboard[1] == in_queue[1] == "2"
    cards = {
        title: "Stalled" in card
        for card in review.split('<article class="idea-card"')[1:]
        for title in re.findall(r"<h3><a [^>]*>([^<]+)</a></h3>", card)
    }
    assert cards == {  # the cards' flags (the rule in Python) mark the same two
        "Waited a second too long": True,
        "In progress and waited too long": True,
        "A second to spare": False,
    }


# Put into practice in a period (docs/product.md, "Ideas put into practice")


def test_implemented_in_a_period_headline_trend_and_departments_agree_at_its_edges(
    make_department: Callable[..., Department],
    make_user: Callable[..., User],
    make_idea: Callable[..., Any],
    client_as: Client,
) -> None:
    today = utcnow().date()
    first = (today.replace(day=1) - timedelta(days=40)).replace(day=1)  # two months back
    last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    team = make_department("Rules Dept", DepartmentKind.FRONT_LINE)
    author = make_user(department=team)
    for day in (first - timedelta(days=1), first, last, last + timedelta(days=1)):
        make_idea(Status.IMPLEMENTED, author=author, title=f"Done on {day}", now=noon(day))

    client = client_as(author)
    dashboard = page_of(client, f"/dashboard?period=custom&start={first}&end={last}")

    headline = re.search(r'<p class="big-number" id="headline-number">(\d+)</p>', dashboard)
    assert headline and headline[1] == "2"  # the first and the last day; not either side
    assert row(dashboard, first.strftime("%B %Y")) == ["2"]  # the trend's month
    day_before = first - timedelta(days=1)
    assert row(dashboard, day_before.strftime("%B %Y")) == ["1"]  # the month before
    # By department: kind, active staff, submitted, put into practice, per 100 staff
    assert row(dashboard, "Rules Dept") == ["Front line", "1", "2", "2", "200.0"]


# Active staff (docs/product.md, "Active staff")


def test_active_staff_the_dashboard_and_training_coverage_leave_out_a_deactivated_person(
    make_department: Callable[..., Department],
    make_user: Callable[..., User],
    make_idea: Callable[..., Any],
    make_enrolment: Callable[..., Any],
    client_as: Client,
) -> None:
    team = make_department("Rules Dept", DepartmentKind.FRONT_LINE)
    stays = make_user(department=team)
    make_user(department=team)  # stays too
    leaves = make_user(department=team)
    make_idea(Status.IMPLEMENTED, author=stays)  # put into practice today
    long_ago = utcnow().date() - timedelta(days=20)
    make_enrolment(learner=stays, today=long_ago, due_days=14, answer="")
    make_enrolment(learner=leaves, today=long_ago, due_days=14)  # overdue, while they were here
    admin = make_user(Role.ADMIN)
    assert client_as(admin).post(f"/admin/users/{leaves.id}/deactivate").status_code == 303

    manager = client_as(make_user(Role.MANAGER))
    dashboard = page_of(manager, "/dashboard")
    coverage = page_of(manager, "/training/coverage")

    # kind, active staff, submitted, put into practice, per 100 staff: 1 ÷ 2, not 1 ÷ 3
    assert row(dashboard, "Rules Dept") == ["Front line", "2", "1", "1", "50.0"]
    # kind, people, assigned, due so far, completed, overdue, up to date
    assert row(coverage, "Rules Dept") == ["Front line", "2", "1", "1", "1", "0", "100%"]


# Training deadlines (docs/product.md, "Training deadlines")


def test_training_deadlines_my_training_and_coverage_agree_on_yesterday_and_today(
    make_department: Callable[..., Department],
    make_user: Callable[..., User],
    make_module: Callable[..., Any],
    make_enrolment: Callable[..., Any],
    client_as: Client,
) -> None:
    today = utcnow().date()
    learner = make_user(department=make_department("Rules Dept", DepartmentKind.FRONT_LINE))
    for title, due_on in (("Due yesterday", today - timedelta(days=1)), ("Due today", today)):
        make_enrolment(
            learner=learner,
            module=make_module(title=title),
            today=due_on - timedelta(days=14),
            due_days=14,
        )

    mine = page_of(client_as(learner), "/training")
    coverage = page_of(client_as(make_user(Role.TRAINER)), "/training/coverage")

    overdue = re.search(r'<section aria-labelledby="section-overdue">(.*?)</section>', mine, re.S)
    due_soon = re.search(r'<section aria-labelledby="section-soon">(.*?)</section>', mine, re.S)
    assert overdue and due_soon
    assert re.findall(r"<h3><a [^>]*>([^<]+)</a></h3>", overdue[1]) == ["Due yesterday"]
    assert re.findall(r"<h3><a [^>]*>([^<]+)</a></h3>", due_soon[1]) == ["Due today"]
    # kind, people, assigned, due so far, completed, overdue, up to date
    assert row(coverage, "Rules Dept") == ["Front line", "1", "2", "1", "0", "1", "0%"]
