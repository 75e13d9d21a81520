"""Dashboard and leaderboard pages: periods, bad input, CSV, access and query counts."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import pytest

from serviceideas.database import utcnow
from serviceideas.ideas.models import Status
from serviceideas.insights.periods import (
    PeriodKind,
    calendar_period,
    months_up_to,
    parse_period,
    whole_months,
)
from serviceideas.people.models import DepartmentKind, Role
from tests.conftest import count_queries
from tests.insights.test_leaderboard import tables


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
    ("table", "name"),
    [
        ("trend", "dashboard-put-into-practice-by-month-{month}"),
        ("kinds", "dashboard-front-line-and-back-office-{month}"),
        ("departments", "dashboard-departments-{month}"),
        ("funnel", "dashboard-where-ideas-stand-{today}"),  # as it stands now
        ("participation", "dashboard-taking-part-{month}"),
        ("speed", "dashboard-days-to-practice-{month}"),
        ("training", "dashboard-training-up-to-date-{today}"),  # as it stands now
        ("journey", "dashboard-where-in-the-customers-journey-{month}"),
        ("compass", "dashboard-what-the-changes-did-for-the-customer-{month}"),
        ("leaders", "leaderboard-people-{month}"),
        ("departments-by-count", "leaderboard-departments-{month}"),
        ("departments-per-100", "leaderboard-departments-per-100-staff-{month}"),
        ("people", "each-persons-part-{month}"),
    ],
)
def test_every_table_downloads_for_excel_named_for_what_it_holds_and_when(
    client_as, make_user, table, name
):
    today = utcnow().date()
    response = client_as(make_user(Role.MANAGER)).get(f"/insights/{table}.csv?period=month")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.mimetype_params["charset"] == "utf-8"
    assert response.get_data().startswith(b"\xef\xbb\xbf")  # Excel reads it as UTF-8
    expected = name.format(month=f"{today:%Y-%m}", today=today.isoformat())
    assert response.headers["Content-Disposition"] == f"attachment; filename={expected}.csv"


@pytest.mark.parametrize(
    ("query", "slug"),
    [
        ("period=custom&start=2026-01-15&end=2026-03-31", "2026-01-15-to-2026-03-31"),
        ("period=quarter", "{today.year}-q{quarter}"),
        ("period=year", "{today.year}"),
    ],
)
def test_a_download_names_its_period_as_people_say_it(client_as, make_user, query, slug):
    today = utcnow().date()
    response = client_as(make_user()).get(f"/insights/departments-by-count.csv?{query}")
    expected = slug.format(today=today, quarter=(today.month - 1) // 3 + 1)
    assert response.headers["Content-Disposition"] == (
        f"attachment; filename=leaderboard-departments-{expected}.csv"
    )


def test_downloads_show_labels_not_stored_values(client_as, make_user, make_department, make_idea):
    department = make_department("Stores", DepartmentKind.FRONT_LINE)
    make_idea(Status.UNDER_REVIEW, author=make_user(department=department))
    client = client_as(make_user(Role.MANAGER, department=department))

    def rows(table):
        data = client.get(f"/insights/{table}.csv?period=month").get_data()
        return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))[1:]

    assert ["Under review", "1"] in rows("funnel")
    assert rows("departments")[-1][:2] == ["Stores", "Front line"]
    kinds = [row[:2] for row in rows("kinds")]
    assert kinds[0] == ["Front line", "Front line"] and kinds[-1] == ["Everyone", "All"]
    people = {row[0]: row[2] for row in rows("people")}
    assert set(people.values()) <= {"Front line", "Back office"}
    every_cell = [
        cell
        for table in ("funnel", "departments", "kinds", "people")
        for row in rows(table)
        for cell in row
    ]
    assert not {"front_line", "back_office", "under_review"} & set(every_cell)


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


def test_the_training_download_holds_the_dashboards_training_figures(
    client_as, make_user, make_department, make_enrolment
):
    """The dashboard's "Training up to date" table and its CSV: the same rows, the same
    figures (due so far, overdue, the share up to date as a whole percent)."""
    back_office = make_user(department=make_department(kind=DepartmentKind.BACK_OFFICE))
    long_ago = utcnow().date() - timedelta(days=30)
    make_enrolment(today=long_ago)  # overdue, front line
    make_enrolment(today=long_ago, answer="")  # done, front line
    make_enrolment(today=long_ago, learner=back_office, answer="")
    make_enrolment(learner=back_office)  # not due yet
    client = client_as(make_user())
    page = client.get("/dashboard?period=month").get_data(as_text=True)
    assert 'href="/insights/training.csv?period=month"' in page
    shown = tables(page)["training-table"]
    response = client.get("/insights/training.csv?period=month")
    header, *rows = csv.reader(io.StringIO(response.get_data().decode("utf-8-sig")))
    assert header == ["kind", "due so far", "overdue", "percent up to date"]
    assert rows == [
        [label, due, overdue, share.removesuffix("%").replace("—", "")]
        for label, due, overdue, share in shown
    ]
    assert rows == [
        ["Front line", "2", "1", "50"],
        ["Back office", "1", "0", "100"],
        ["Everyone", "3", "1", "67"],
    ]
