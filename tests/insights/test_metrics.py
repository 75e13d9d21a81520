"""Every dashboard and leaderboard figure against a small company counted by hand.

The company, for the second quarter of 2026 (1 April – 30 June):

    department   kind         active staff           ideas (author, submitted → outcome)
    Stores       front line   ana, cy, dee           A ana 20 Mar → implemented 1 Apr (first day)
                                                     D ana  1 Jun → implemented 1 Jul (after)
                                                     F cy  15 Apr → declined
    IT           back office  bo, ivy (+ gone, left) B bo  10 Apr → implemented 30 Jun (last day)
                                                     C gone 1 May → implemented 5 May
                                                     G bo  10 May → merged into H
    Finance      back office  fin                    E fin  1 Mar → implemented 31 Mar (before)
                                                     H fin 20 May → still submitted
    Head office  back office  nobody (max, left)     (max reviewed everything, then left)

Votes: dee on H (21 May), ivy on A (25 Mar). Comment: ivy on B (5 Jul).
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from serviceideas.extensions import db
from serviceideas.ideas import services as ideas
from serviceideas.ideas.models import Lens, Stalled, Status
from serviceideas.insights import metrics
from serviceideas.insights.periods import PeriodKind, calendar_period
from serviceideas.people import services as people
from serviceideas.people.models import DepartmentKind, Role
from tests.conftest import count_queries

Q2 = calendar_period(PeriodKind.QUARTER, date(2026, 5, 15))


def at(day: str, hour: int = 10) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC)


@pytest.fixture
def company(app, make_department, make_user):
    stores = make_department("Stores", DepartmentKind.FRONT_LINE)
    it = make_department("IT", DepartmentKind.BACK_OFFICE)
    finance = make_department("Finance", DepartmentKind.BACK_OFFICE)
    head = make_department("Head office", DepartmentKind.BACK_OFFICE)
    p = {
        "ana": make_user(name="Ana", department=stores),
        "cy": make_user(name="Cy", department=stores),
        "dee": make_user(name="Dee", department=stores),
        "bo": make_user(name="Bo", department=it),
        "ivy": make_user(name="Ivy", department=it),
        "gone": make_user(name="Gone", department=it),
        "fin": make_user(name="Fin", department=finance),
        "max": make_user(Role.MANAGER, name="Max", department=head),
    }

    def submit(author, title, day):
        draft = ideas.IdeaDraft(title, "Problem.", "Change.", Lens.CARE, None)
        return ideas.submit_idea(p[author], draft, now=at(day))

    def implement(idea, day):
        for step in (Status.UNDER_REVIEW, Status.APPROVED, Status.IN_PROGRESS):
            ideas.change_status(p["max"], idea, ideas.Decision(step), now=at(day, 8))
        decision = ideas.Decision(
            Status.IMPLEMENTED, note="It works.", implemented_on=date.fromisoformat(day)
        )
        ideas.change_status(p["max"], idea, decision, now=at(day, 9))

    e = submit("fin", "E", "2026-03-01")
    a = submit("ana", "A", "2026-03-20")
    ideas.set_vote(p["ivy"], a, True, now=at("2026-03-25"))
    implement(e, "2026-03-31")
    implement(a, "2026-04-01")
    b = submit("bo", "B", "2026-04-10")
    f = submit("cy", "F", "2026-04-15")
    ideas.change_status(
        p["max"], f, ideas.Decision(Status.DECLINED, note="No."), now=at("2026-04-20")
    )
    c = submit("gone", "C", "2026-05-01")
    implement(c, "2026-05-05")
    g = submit("bo", "G", "2026-05-10")
    h = submit("fin", "H", "2026-05-20")
    ideas.set_vote(p["dee"], h, True, now=at("2026-05-21"))
    ideas.change_status(
        p["max"], g, ideas.Decision(Status.MERGED, merge_into=h), now=at("2026-05-22")
    )
    d = submit("ana", "D", "2026-06-01")
    implement(b, "2026-06-30")
    implement(d, "2026-07-01")
    ideas.add_comment(p["ivy"], b, "Great.", now=at("2026-07-05"))
    for leaver in ("gone", "max"):
        people.set_active(p["ana"], p[leaver], False)
    db.session.commit()
    return p


def test_headline(company):
    assert metrics.headline(Q2) == metrics.Headline(
        implemented=3, implemented_before=1, all_time=5, submitted=6, submitted_before=2
    )


def test_trend_is_the_twelve_months_to_the_end_of_the_period(company):
    trend = metrics.trend(Q2)
    assert trend[0] == (date(2025, 7, 1), 0)
    assert trend[-1] == (date(2026, 6, 1), 1)
    assert [n for _, n in trend] == [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1]


def test_the_trend_counts_each_month_whole_and_a_long_period_month_by_month(company):
    from serviceideas.insights.periods import parse_period

    today = date(2026, 11, 1)
    to_mid_june = parse_period("custom", "2026-04-01", "2026-06-15", today=today)
    assert metrics.trend(to_mid_june)[-1] == (date(2026, 6, 1), 1)  # B, 30 June, counts
    long = parse_period("custom", "2025-03-15", "2026-07-31", today=today)
    trend = metrics.trend(long)
    assert (trend[0][0], trend[-1][0], len(trend)) == (date(2025, 3, 1), date(2026, 7, 1), 17)
    assert sum(n for _, n in trend) == 5


def figures(rows):
    return [(r.name, r.staff, r.submitted, r.implemented, r.per_100_staff) for r in rows]


def test_departments_and_kinds(company):
    assert figures(metrics.by_department(Q2)) == [
        ("Finance", 1, 1, 0, 0.0),
        ("Head office", 0, 0, 0, None),
        ("IT", 2, 3, 2, 100.0),
        ("Stores", 3, 2, 1, 33.3),
    ]
    assert figures(metrics.by_kind(Q2)) == [
        ("Front line", 3, 2, 1, 33.3),
        ("Back office", 3, 4, 2, 66.7),
        ("Everyone", 6, 6, 3, 50.0),
    ]


def test_time_to_practice(company):
    # C: 4 days, A: 12 days, B: 81 days
    assert metrics.time_to_practice(Q2) == metrics.TimeToPractice(3, 12.0, 81)
    previous = metrics.time_to_practice(Q2.previous())  # E: 30 days
    assert previous == metrics.TimeToPractice(1, 30.0, 30)


def test_funnel_in_one_query(company):
    with count_queries() as log:
        statuses, stalled = metrics.funnel(Stalled(at("2026-07-25"), days=30))  # since 25 Jun
    assert log.count == 1
    assert statuses == {
        Status.SUBMITTED: 1,
        Status.UNDER_REVIEW: 0,
        Status.APPROVED: 0,
        Status.IN_PROGRESS: 0,
        Status.IMPLEMENTED: 5,
        Status.DECLINED: 1,
        Status.MERGED: 1,
    }
    assert stalled == 1  # H has waited since 22 May


def test_participation(company):
    rows = [(r.label, r.staff, r.taking_part, r.percent) for r in metrics.participation(Q2)]
    # front: ana (D), cy (F), dee (vote); back: bo (B, G), fin (H); gone has left
    assert rows == [("Front line", 3, 3, 100), ("Back office", 3, 2, 67), ("Everyone", 6, 5, 83)]


def test_people_leaderboard_breaks_ties_by_who_got_there_first(company):
    leaders = [
        (x.rank, x.name, x.implemented, x.active, [c.department for c in x.credits])
        for x in metrics.people_leaderboard(Q2)
    ]
    assert leaders == [
        (1, "Ana", 1, True, ["Stores"]),
        (2, "Gone", 1, False, ["IT"]),
        (3, "Bo", 1, True, ["IT"]),
    ]


def test_department_leaderboards(company):
    by_count, by_rate = metrics.department_leaderboards(Q2)
    assert [t.name for t in by_count] == ["IT", "Stores", "Finance", "Head office"]
    assert [t.name for t in by_rate] == ["IT", "Stores", "Finance", "Head office"]


def test_people_activity_for_managers(company):
    rows = {
        r.name: (r.submitted, r.implemented, r.votes, r.comments)
        for r in metrics.people_activity(Q2)
    }
    assert rows == {
        "Fin": (1, 0, 0, 0),
        "Bo": (2, 1, 0, 0),
        "Ivy": (0, 0, 0, 0),
        "Ana": (1, 1, 0, 0),
        "Cy": (1, 0, 0, 0),
        "Dee": (0, 0, 1, 0),
    }


def test_the_pages_and_csv_show_the_same_numbers(company, client_as, make_user):
    client = client_as(company["ana"])
    query = "period=custom&start=2026-04-01&end=2026-06-30"
    page = client.get(f"/dashboard?{query}").get_data(as_text=True)
    assert '<p class="big-number" id="headline-number">3</p>' in page
    assert "against 20 Jan" not in page  # the previous custom period is labelled by its dates
    csv = client.get(f"/insights/departments.csv?{query}")
    assert (
        "dashboard-departments-2026-04-01-to-2026-06-30.csv" in csv.headers["Content-Disposition"]
    )
    assert csv.get_data().decode("utf-8-sig").splitlines() == [
        '"team","kind","active staff","submitted","put into practice","per 100 staff"',
        '"Finance","Back office","1","1","0","0.0"',
        '"Head office","Back office","0","0","0",""',
        '"IT","Back office","2","3","2","100.0"',
        '"Stores","Front line","3","2","1","33.3"',
    ]
    leaders = client.get(f"/leaderboard?{query}").get_data(as_text=True)
    assert "Ana (you)" in leaders
    speed = client.get(f"/insights/speed.csv?{query}").get_data().decode("utf-8-sig").splitlines()
    assert speed[1] == '"3","12.0","81"'


def test_a_custom_period_compares_with_as_many_days_just_before(company):
    from serviceideas.insights.periods import parse_period

    period = parse_period("custom", "2026-04-01", "2026-06-30", today=date(2026, 11, 1))
    before = period.previous()
    assert period.days == before.days == 91
    assert (before.start, before.end) == (date(2025, 12, 31), date(2026, 3, 31))
