"""Dashboard and leaderboard pages: periods, bad input, CSV, access and query counts."""

from __future__ import annotations

from datetime import date

import pytest

from serviceideas.ideas.models import Status
from serviceideas.insights.periods import (
    PeriodKind,
    calendar_period,
    months_up_to,
    parse_period,
    whole_months,
)
from serviceideas.people.models import Role
from tests.conftest import count_queries


@pytest.mark.parametrize(
    ("kind", "start", "end"),
    [
        ("quarter", date(2026, 10, 1), date(2026, 12, 31)),
        ("month", date(2026, 11, 1), date(2026, 11, 30)),
        ("year", date(2026, 1, 1), date(2026, 12, 31)),
        (None, date(2026, 10, 1), date(2026, 12, 31)),
    ],
)
def test_calendar_periods_contain_today(kind, start, end):
    period = parse_period(kind, None, None, today=date(2026, 11, 25))
    assert (period.start, period.end) == (start, end)


def test_previous_calendar_periods():
    q1 = calendar_period(PeriodKind.QUARTER, date(2026, 2, 10))
    assert (q1.previous().start, q1.previous().end) == (date(2025, 10, 1), date(2025, 12, 31))
    march = calendar_period(PeriodKind.MONTH, date(2026, 3, 31))
    assert (march.previous().start, march.previous().end) == (date(2026, 2, 1), date(2026, 2, 28))


def test_whole_months_and_the_months_up_to_a_day():
    period = whole_months(date(2025, 12, 17), date(2026, 2, 3))
    assert (period.start, period.end) == (date(2025, 12, 1), date(2026, 2, 28))
    assert months_up_to(date(2026, 2, 3), 3) == [
        date(2025, 12, 1),
        date(2026, 1, 1),
        date(2026, 2, 1),
    ]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("period=custom&start=2026-06-30&end=2026-04-01", "The last day comes before the first"),
        ("period=custom&start=2026-13-01&end=2026-12-31", "Give the first day as a date"),
        ("period=custom&start=2026-01-01", "Give the last day as a date"),
        ("period=custom&start=2099-01-01&end=2099-12-31", "has not begun yet"),
        ("period=custom&start=2001-01-01&end=2026-01-01", "at most five years"),
        ("period=fortnight", "Choose a quarter, a month, a year or custom dates."),
    ],
)
def test_bad_periods_get_a_clear_message(client_as, make_user, query, message):
    client = client_as(make_user())
    for url in (f"/dashboard?{query}", f"/leaderboard?{query}", f"/insights/trend.csv?{query}"):
        response = client.get(url)
        assert response.status_code == 400, url
        assert message in response.get_data(as_text=True)


def test_unknown_csv_table_is_a_404_and_people_are_for_managers(client_as, make_user):
    employee = client_as(make_user())
    assert employee.get("/insights/nonsense.csv").status_code == 404
    assert employee.get("/insights/people.csv").status_code == 403
    assert client_as(make_user(Role.MANAGER)).get("/insights/people.csv").status_code == 200


@pytest.mark.parametrize(
    "table",
    [
        "trend",
        "kinds",
        "departments",
        "funnel",
        "participation",
        "speed",
        "leaders",
        "departments-by-count",
        "departments-per-100",
    ],
)
def test_every_table_downloads_with_the_period_in_its_name(client_as, make_user, table):
    response = client_as(make_user()).get(f"/insights/{table}.csv?period=month")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert f"serviceideas-{table}-" in response.headers["Content-Disposition"]


def test_dashboard_and_leaderboard_run_a_fixed_number_of_queries(
    client_as, make_user, make_idea, make_department
):
    client = client_as(make_user(Role.MANAGER))
    urls = ["/dashboard", "/leaderboard", "/dashboard/people", "/insights/departments.csv"]

    def queries():
        counts = []
        for url in urls:
            with count_queries() as log:
                assert client.get(url).status_code == 200
            counts.append(log.count)
        return counts

    make_idea(Status.IMPLEMENTED)
    few = queries()
    for _n in range(5):
        department = make_department()
        for _ in range(3):
            make_idea(Status.IMPLEMENTED, author=make_user(department=department))
        make_idea(Status.DECLINED)
    assert queries() == few


def test_an_employee_sees_the_dashboard_but_not_each_persons_part(client_as, make_user):
    client = client_as(make_user())
    assert client.get("/dashboard").status_code == 200
    assert client.get("/leaderboard").status_code == 200
    assert client.get("/dashboard/people").status_code == 403
    assert "Each person's part" not in client.get("/dashboard").get_data(as_text=True)
