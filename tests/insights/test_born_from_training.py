"""Ideas born from training: submitted and put into practice in a period, in all and per
module, against SQL written out by hand on a small company.

For the second quarter of 2026 (1 April – 30 June), two modules, "Listen" and "Journey":

    idea  started from       submitted   outcome
    i1    Listen             10 Apr      put into practice 20 May          both figures
    i2    Listen             12 Apr      still submitted                   submitted
    i3    Journey            1 Mar       put into practice 2 Apr           put into practice
    i4    Journey            15 May      declined                          submitted
    i5    (no module)        1 May       put into practice 10 May          neither
    i6    Listen             1 Jan       put into practice 15 Mar          neither (before)
    i7    Listen and Journey 3 Jun       put into practice 30 Jun          both, counted once in all
    i8    Journey            30 Jun 23:59 still submitted                  submitted (last minute)
    i9    Listen             1 Jul 00:00  still submitted                  neither (after)
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from serviceideas.database import UTCDateTime
from serviceideas.extensions import db
from serviceideas.ideas import services as ideas
from serviceideas.ideas.models import Lens, Status
from serviceideas.insights import metrics
from serviceideas.insights.periods import PeriodKind, calendar_period
from serviceideas.people.models import Role
from serviceideas.training.models import ModuleIdea
from tests.conftest import count_queries

Q2 = calendar_period(PeriodKind.QUARTER, date(2026, 5, 15))


def at(day: str, hour: int = 10, minute: int = 0) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, minute=minute, tzinfo=UTC)


@pytest.fixture
def company(app, make_user, make_module):
    author = make_user(name="Ana")
    manager = make_user(Role.MANAGER, name="Max")
    listen = make_module("reflection", title="Listen")
    journey = make_module("activity", title="Journey")

    def submit(day, *modules, hour=10, minute=0):
        draft = ideas.IdeaDraft("An idea", "Problem.", "Change.", Lens.LEARN, None)
        idea = ideas.submit_idea(author, draft, now=at(day, hour, minute))
        for module in modules:  # as training records an idea started from a reflection
            db.session.add(ModuleIdea(module_id=module.id, idea_id=idea.id, user_id=author.id))
        return idea

    def implement(idea, day):
        for step in (Status.UNDER_REVIEW, Status.APPROVED, Status.IN_PROGRESS):
            ideas.change_status(manager, idea, ideas.Decision(step), now=at(day, 8))
        decision = ideas.Decision(
            Status.IMPLEMENTED, note="It works.", implemented_on=date.fromisoformat(day)
        )
        ideas.change_status(manager, idea, decision, now=at(day, 9))

    implement(submit("2026-04-10", listen), "2026-05-20")
    submit("2026-04-12", listen)
    implement(submit("2026-03-01", journey), "2026-04-02")
    declined = submit("2026-05-15", journey)
    ideas.change_status(
        manager, declined, ideas.Decision(Status.DECLINED, note="No."), now=at("2026-05-16")
    )
    implement(submit("2026-05-01"), "2026-05-10")
    implement(submit("2026-01-01", listen), "2026-03-15")
    implement(submit("2026-06-03", listen, journey), "2026-06-30")
    submit("2026-06-30", journey, hour=23, minute=59)
    submit("2026-07-01", listen, hour=0)
    db.session.commit()
    return {"listen": listen, "journey": journey}


def by_hand(period):
    """The figures in SQL written out by hand, not built by the code under test: per module,
    then the total with each idea once."""
    params = {
        "first": at(period.start.isoformat(), 0),
        "after": at((period.end + timedelta(days=1)).isoformat(), 0),
        "start": period.start,
        "end": period.end,
    }
    typed = (
        sa.bindparam("first", type_=UTCDateTime()),
        sa.bindparam("after", type_=UTCDateTime()),
    )
    per_module = db.session.execute(
        sa.text(
            "SELECT m.title,"
            " SUM(CASE WHEN i.created_at >= :first AND i.created_at < :after THEN 1 ELSE 0 END),"
            " SUM(CASE WHEN i.status = 'implemented'"
            "  AND i.implemented_on BETWEEN :start AND :end THEN 1 ELSE 0 END)"
            " FROM module_ideas mi JOIN ideas i ON i.id = mi.idea_id"
            " JOIN modules m ON m.id = mi.module_id"
            " GROUP BY m.title"
        ).bindparams(*typed),
        params,
    ).all()
    total = db.session.execute(
        sa.text(
            "SELECT"
            " SUM(CASE WHEN i.created_at >= :first AND i.created_at < :after THEN 1 ELSE 0 END),"
            " SUM(CASE WHEN i.status = 'implemented'"
            "  AND i.implemented_on BETWEEN :start AND :end THEN 1 ELSE 0 END)"
            " FROM ideas i WHERE i.id IN (SELECT idea_id FROM module_ideas)"
        ).bindparams(*typed),
        params,
    ).one()
    modules = {title: (int(s), int(p)) for title, s, p in per_module if s or p}
    return (int(total[0]), int(total[1])), modules


def test_the_figures_match_sql_written_by_hand(company):
    with count_queries() as log:
        born = metrics.born_from_training(Q2)
    assert log.count == 2
    total, modules = by_hand(Q2)
    assert (born.submitted, born.implemented) == total == (5, 3)
    assert (
        {m.title: (m.submitted, m.implemented) for m in born.modules}
        == modules
        == {
            "Listen": (3, 2),  # i1, i2, i7 submitted; i1, i7 put into practice
            "Journey": (3, 2),  # i4, i7, i8 submitted; i3, i7 put into practice
        }
    )


def test_modules_are_listed_by_ideas_put_into_practice_then_submitted(company):
    april = calendar_period(PeriodKind.MONTH, date(2026, 4, 1))
    born = metrics.born_from_training(april)
    assert [(m.title, m.submitted, m.implemented) for m in born.modules] == [
        ("Journey", 0, 1),  # i3, put into practice 2 April
        ("Listen", 2, 0),  # i1 and i2, submitted in April
    ]
    assert by_hand(april) == ((2, 1), {"Journey": (0, 1), "Listen": (2, 0)})


def test_a_period_with_none_has_no_modules(company):
    born = metrics.born_from_training(calendar_period(PeriodKind.MONTH, date(2025, 1, 1)))
    assert born == metrics.BornFromTraining(0, 0, ())


def test_the_dashboard_and_its_csv_show_the_figures_with_how_they_are_counted(
    company, client_as, make_user
):
    client = client_as(make_user())
    query = "period=custom&start=2026-04-01&end=2026-06-30"
    html = client.get(f"/dashboard?{query}").get_data(as_text=True)
    section = html[html.index('id="born-heading"') :]
    assert "5 ideas started from a training module were submitted in the period" in section
    assert "3 put into practice" in section
    assert '<th scope="row">Listen</th><td class="number">3</td><td class="number">2</td>' in (
        section
    )
    assert "How this is counted" in section and "counts once in the total" in section
    response = client.get(f"/insights/born-from-training.csv?{query}")
    assert response.headers["Content-Disposition"] == (
        "attachment; filename=dashboard-ideas-born-from-training-2026-04-01-to-2026-06-30.csv"
    )
    lines = list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    assert lines == [
        ["module", "ideas submitted", "put into practice"],
        ["Journey", "3", "2"],
        ["Listen", "3", "2"],
        ["All modules (each idea once)", "5", "3"],
    ]
