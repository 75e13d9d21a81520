"""The training deadline rules at their boundaries, each read through two of its users.

*Overdue* (due before today, not done) is used by My training's grouping and by coverage's
figures and CSV; *due soon* (today up to DUE_SOON_DAYS ahead) by My training's grouping;
*late* (done after the due day) by My training's label and the CSV (docs/product.md,
"Training deadlines").
"""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, time, timedelta

import pytest

from serviceideas.database import utcnow
from serviceideas.extensions import db
from serviceideas.people.models import DepartmentKind, Role
from serviceideas.training import queries, services
from serviceideas.training.models import DUE_SOON_DAYS

DUE = 14  # days from enrolment to due date, for every enrolment here


def text(response):
    return response.get_data(as_text=True)


@pytest.fixture
def trainer(make_user):
    return make_user(Role.TRAINER)


@pytest.fixture
def today():
    return utcnow().date()


@pytest.fixture
def team(make_department):
    return make_department("Boundary team", DepartmentKind.FRONT_LINE)


@pytest.fixture
def due(make_user, make_module, make_enrolment, team, today):
    """Make an enrolment of a new learner in `team`, titled `title`, due on `due_on`."""

    def make(title, due_on, learner=None):
        return make_enrolment(
            learner=learner or make_user(department=team, name=f"Learner {title}"),
            module=make_module(title=title),
            due_days=DUE,
            today=due_on - timedelta(days=DUE),
        )

    return make


def late_column(client):
    """{module: late} from the coverage CSV."""
    data = client.get("/training/coverage.csv").get_data().decode("utf-8-sig")
    rows = csv.DictReader(io.StringIO(data))
    return {row["module"]: row["late"] for row in rows}


def my_training_sections(page):
    """{section: [module titles]} as My training shows them."""
    sections = re.findall(r'<section aria-labelledby="section-(\w+)">(.*?)</section>', page, re.S)
    return {
        name: re.findall(r'<h3><a href="[^"]+">([^<]+)</a></h3>', body) for name, body in sections
    }


def test_overdue_starts_the_day_after_the_due_date(client_as, make_user, trainer, due, team, today):
    learner = make_user(department=team)
    due("Due yesterday", today - timedelta(days=1), learner)
    due("Due today", today, learner)

    # My training: grouped by the rule, on the page and in the query behind it.
    mine = queries.my_training(learner, today)
    assert [item.title for item in mine.overdue] == ["Due yesterday"]
    assert [item.title for item in mine.due_soon] == ["Due today"]
    sections = my_training_sections(text(client_as(learner).get("/training")))
    assert sections["overdue"] == ["Due yesterday"]
    assert sections["soon"] == ["Due today"]

    # Coverage: one enrolment due so far, and it is the overdue one.
    (row,) = [row for row in queries.coverage_by_department(today) if row.key == team.id]
    assert (row.assigned, row.due, row.completed, row.overdue) == (2, 1, 0, 1)
    assert late_column(client_as(trainer)) == {"Due yesterday": "yes", "Due today": "no"}


def test_due_soon_ends_after_the_last_day_of_the_window(client_as, make_user, due, team, today):
    learner = make_user(department=team)
    due("Last day of the window", today + timedelta(days=DUE_SOON_DAYS), learner)
    due("Day after the window", today + timedelta(days=DUE_SOON_DAYS + 1), learner)

    mine = queries.my_training(learner, today)
    assert [item.title for item in mine.due_soon] == ["Last day of the window"]
    assert [item.title for item in mine.later] == ["Day after the window"]
    sections = my_training_sections(text(client_as(learner).get("/training")))
    assert sections == {"soon": ["Last day of the window"], "later": ["Day after the window"]}

    # Neither is due so far: coverage counts no overdue.
    (row,) = [row for row in queries.coverage_by_department(today) if row.key == team.id]
    assert (row.due, row.overdue) == (0, 0)


def complete_on(enrolment, day):
    """Complete `enrolment` late in the evening (UTC) of `day`: still that day."""
    when = datetime.combine(day, time(23, 0), UTC)
    services.complete(enrolment.user, enrolment, "", now=when)
    db.session.commit()


def test_late_means_done_after_the_due_day(client_as, trainer, due, today):
    on_the_day = due("Done on the due day", today - timedelta(days=3))
    day_after = due("Done the day after", today - timedelta(days=3))
    complete_on(on_the_day, on_the_day.due_on)
    complete_on(day_after, day_after.due_on + timedelta(days=1))

    # My training labels the late one, and only it.
    for enrolment, late in ((on_the_day, False), (day_after, True)):
        (item,) = queries.my_training(enrolment.user, today).done
        assert item.was_late is late
        page = text(client_as(enrolment.user).get("/training"))
        assert ('<span class="late">late</span>' in page) is late

    # The CSV says the same, though both were done before today.
    assert late_column(client_as(trainer)) == {
        "Done on the due day": "no",
        "Done the day after": "yes",
    }
