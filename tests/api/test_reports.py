"""The API's report figures: the dashboard's and leaderboard's own, for the same periods and
the same people (docs/product.md, "Metrics")."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from serviceideas.api.models import Scope
from serviceideas.database import utcnow
from serviceideas.extensions import db
from serviceideas.ideas.models import Idea, Status
from serviceideas.people.models import DepartmentKind, Role
from tests.conftest import count_queries, table_rows

HEADLINE = re.compile(r'id="headline-number">(\d+)<')
SUBMITTED = re.compile(r"<h3>Ideas submitted</h3>\s*<p class=\"mid-number\">(\d+)</p>")
REPORTS = ("headline", "trend", "departments", "leaderboard")


@pytest.fixture
def company(make_department, make_user, make_idea):
    """Two front-line and one back-office idea put into practice, one declined; one of the
    authors hid their name."""
    stores = make_department("Stores", DepartmentKind.FRONT_LINE)
    payroll = make_department("Payroll", DepartmentKind.BACK_OFFICE)
    ada = make_user(name="Ada Stores", department=stores)
    bo = make_user(name="Bo Payroll", department=payroll)
    quiet = make_user(name="Quiet Person", department=stores)
    manager = make_user(Role.MANAGER, department=stores)
    for author in (ada, ada, bo, quiet):
        make_idea(Status.IMPLEMENTED, author=author, reviewer=manager)
    make_idea(Status.DECLINED, author=bo, reviewer=manager)
    hidden = db.session.scalars(sa.select(Idea).where(Idea.author_id == quiet.id)).one()
    hidden.name_hidden = True
    db.session.commit()
    return {"ada": ada, "bo": bo, "quiet": quiet, "manager": manager}


def test_the_headline_is_the_dashboards(api_as, client_as, company):
    employee = company["bo"]
    figures = api_as(employee).get("/reports/headline?period=year")
    assert figures.status_code == 200
    body = figures.get_json()
    page = client_as(employee).get("/dashboard?period=year").get_data(as_text=True)
    assert body["implemented"] == int(HEADLINE.search(page).group(1)) == 4
    assert body["submitted"] == int(SUBMITTED.search(page).group(1)) == 5
    assert body["period"]["kind"] == "year"
    assert body["period"]["label"] == str(utcnow().year)
    assert body["change"] == body["implemented"] - body["implemented_before"]
    assert body["days_to_practice"]["ideas"] == 4
    assert "nps" not in str(body).lower()


def test_the_trend_counts_each_month_as_the_dashboard(api_as, client_as, company):
    body = api_as(company["bo"]).get("/reports/trend").get_json()
    assert len(body["months"]) == 12
    this_month = utcnow().strftime("%Y-%m")
    assert {"month": this_month, "implemented": 4} in body["months"]
    assert sum(point["implemented"] for point in body["months"]) == 4
    download = client_as(company["bo"]).get("/insights/trend.csv").get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(download)))[1:]
    assert [[p["month"], str(p["implemented"])] for p in body["months"]] == rows


def test_back_office_stands_beside_the_front_line(api_as, client_as, company):
    body = api_as(company["bo"]).get("/reports/departments?period=month").get_json()
    kinds = {row["name"]: row for row in body["kinds"]}
    assert [row["kind"] for row in body["kinds"]] == ["front_line", "back_office", None]
    assert kinds["Front line"]["implemented"] == 3
    assert kinds["Back office"]["implemented"] == 1
    assert kinds["Everyone"]["implemented"] == 4
    payroll = next(row for row in body["departments"] if row["name"] == "Payroll")
    assert payroll["kind"] == "back_office"
    assert payroll["submitted"] == 2
    assert payroll["per_100_staff"] == 100.0
    page = client_as(company["bo"]).get("/dashboard?period=month").get_data(as_text=True)
    shown = next(row for row in table_rows(page) if row[0] == "Payroll")
    assert shown[2:5] == [
        str(payroll["staff"]),
        str(payroll["submitted"]),
        str(payroll["implemented"]),
    ]


def test_the_leaderboard_keeps_hidden_authors_off_it(api_as, client_as, company):
    body = api_as(company["bo"]).get("/reports/leaderboard").get_json()
    people = [(row["rank"], row["name"], row["implemented"]) for row in body["people"]]
    assert people == [(1, "Ada Stores", 2), (2, "Bo Payroll", 1)]
    assert body["people"][0]["credits"] == [
        {"department": "Stores", "kind": "front_line", "implemented": 2}
    ]
    assert body["people"][0]["department_now"] == "Stores"
    # The hidden author's idea counts for their department.
    assert body["departments_by_count"][0]["name"] == "Stores"
    assert body["departments_by_count"][0]["implemented"] == 3
    page = client_as(company["ada"]).get("/leaderboard").get_data(as_text=True)
    assert "Quiet Person" not in page
    ranked = [row[1] for row in table_rows(page) if row and row[0] in ("1", "2")]
    assert ranked[:2] == ["Ada Stores (you)", "Bo Payroll"]


def test_a_custom_period_is_checked_as_on_the_pages(api_as, company):
    api = api_as(company["bo"])
    today = utcnow().date()
    week = api.get(f"/reports/headline?period=custom&start={today - timedelta(days=7)}&end={today}")
    assert week.status_code == 200
    assert week.get_json()["implemented"] == 4
    for query, field in [
        ("period=custom", "start"),
        (f"period=custom&start={today}", "end"),
        (f"period=custom&start={today}&end={today - timedelta(days=1)}", "end"),
        ("period=fortnight", "period"),
        ("perod=month", "perod"),  # a typo is refused, not read as this quarter
        ("period=custom&start=someday", "start"),
        ("period=custom&start=1999-01-01&end=1999-12-31", "start"),
        (f"period=month&start={today}", "start"),  # dates only with custom, never ignored
        (f"end={today}", "end"),
        ("period=year&period=month", "period"),  # once only, never the first of two
    ]:
        response = api.get(f"/reports/trend?{query}")
        assert response.status_code == 422, query
        assert response.content_type == "application/problem+json"
        assert field in response.get_json()["errors"], query


def test_reports_need_a_token_with_the_read_scope(api_as, make_user):
    for report in REPORTS:
        assert api_as(None).get(f"/reports/{report}").status_code == 401
        writer = api_as(make_user(), scopes=(Scope.WRITE,))
        assert writer.get(f"/reports/{report}").status_code == 403
        # Everyone signed in sees the dashboard and the leaderboard: an employee too.
        assert (
            api_as(make_user(), scopes=(Scope.READ,)).get(f"/reports/{report}").status_code == 200
        )


def test_the_reports_run_a_fixed_number_of_queries(api_as, make_user, make_idea, make_department):
    api = api_as(make_user())
    api.get("/reports/headline")  # the token's first use is stamped once, and counted once

    def counts() -> list[int]:
        found = []
        for report in REPORTS:
            with count_queries() as log:
                assert api.get(f"/reports/{report}").status_code == 200
            found.append(log.count)
        return found

    make_idea(Status.IMPLEMENTED)
    few = counts()
    manager = make_user(Role.MANAGER)
    for _ in range(3):
        department = make_department()
        for _ in range(2):
            make_idea(Status.IMPLEMENTED, author=make_user(department=department), reviewer=manager)
    assert counts() == few
