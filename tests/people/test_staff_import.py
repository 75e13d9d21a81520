"""Staff import from CSV: upsert by email, idempotent, dry run, a report per row."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from serviceideas.extensions import db
from serviceideas.people.models import DepartmentKind, Role, User
from serviceideas.people.models import RowOutcome as Outcome
from serviceideas.people.staff_import import MAX_FIELD, import_staff

HEADER = "email,name,department,roles\n"


@pytest.fixture
def departments(make_department):
    return {
        "Stores": make_department("Stores", DepartmentKind.FRONT_LINE),
        "IT": make_department("IT", DepartmentKind.BACK_OFFICE),
    }


def outcomes(report):
    return [(row.email, row.outcome) for row in report.rows]


def people():
    return {
        u.email: (u.name, u.department.name, u.granted_roles)
        for u in db.session.scalars(sa.select(User))
    }


def test_creates_then_updates_then_changes_nothing(app, departments):
    csv = HEADER + "ann@example.com,Ann Lee,Stores,\nbo@example.com,Bo Ek,it,trainer; manager\n"
    report = import_staff(csv)
    db.session.commit()
    assert outcomes(report) == [
        ("ann@example.com", Outcome.CREATED),
        ("bo@example.com", Outcome.CREATED),
    ]
    assert people()["bo@example.com"] == ("Bo Ek", "IT", {Role.TRAINER, Role.MANAGER})

    again = import_staff(csv)
    db.session.commit()
    assert {row.outcome for row in again.rows} == {Outcome.UNCHANGED}

    moved = import_staff(HEADER + "ANN@example.com,Ann Lee,IT,admin\n")
    db.session.commit()
    assert outcomes(moved) == [("ann@example.com", Outcome.UPDATED)]
    assert people()["ann@example.com"] == ("Ann Lee", "IT", {Role.ADMIN})


def test_dry_run_reports_exactly_and_undoes_what_it_did(app, departments):
    report = import_staff(HEADER + "ann@example.com,Ann,Stores,\n", apply=False)
    db.session.commit()
    assert outcomes(report) == [("ann@example.com", Outcome.CREATED)]
    assert not report.applied
    assert people() == {}


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("not-an-email,Ann,Stores,", "not valid"),
        ("ann@example.com,,Stores,", "Enter the person's name"),
        ("ann@example.com,Ann,Warehouse,", "No department called 'Warehouse'"),
        ("ann@example.com,Ann,,", "department is missing"),
        ("ann@example.com,Ann,Stores,wizard", "Unknown role 'wizard'"),
        ("ann@example.com,Ann", "Expected 4 columns"),
        (f"ann@example.com,{'x' * (MAX_FIELD + 1)},Stores,", "longer than"),
        (f"ann@example.com,{'x' * 121},Stores,", "120 characters"),
    ],
)
def test_a_bad_row_is_reported_and_changes_nothing(app, departments, row, message):
    report = import_staff(HEADER + row + "\nbo@example.com,Bo,IT,\n")
    db.session.commit()
    bad, good = report.rows
    assert bad.outcome is Outcome.ERROR
    assert message in " ".join(bad.messages)
    assert good.outcome is Outcome.CREATED
    assert list(people()) == ["bo@example.com"]


def test_a_row_with_several_problems_reports_them_all(app, departments):
    (row,) = import_staff(HEADER + "nope,,Nowhere,ghost\n").rows
    assert len(row.messages) == 4


def test_the_same_email_twice_in_a_file_is_an_error_on_the_second(app, departments):
    report = import_staff(HEADER + "a@example.com,A,IT,\nA@example.com,A2,IT,\n")
    assert outcomes(report) == [
        ("a@example.com", Outcome.CREATED),
        ("a@example.com", Outcome.ERROR),
    ]


def test_a_missing_header_is_a_problem_with_the_file(app, departments):
    report = import_staff("ann@example.com,Ann,Stores,\n")
    assert report.problems and "missing" in report.problems[0]
    assert report.rows == []


def test_columns_may_come_in_any_order_and_blank_lines_are_ignored(app, departments):
    report = import_staff("Name, Roles ,EMAIL,Department\n\nAnn,,ann@example.com,Stores\n")
    assert outcomes(report) == [("ann@example.com", Outcome.CREATED)]
    assert report.rows[0].line == 3


def test_an_admin_cannot_demote_themselves_by_import(app, departments, make_user):
    admin = make_user(Role.ADMIN, email="boss@example.com", department=departments["IT"])
    report = import_staff(HEADER + "boss@example.com,Boss,IT,\n", acting=admin)
    assert report.rows[0].outcome is Outcome.ERROR
    assert db.session.get(User, admin.id).is_admin


def test_updating_a_deactivated_person_says_so(app, departments, make_user):
    make_user(email="gone@example.com", active=False, department=departments["IT"])
    (row,) = import_staff(HEADER + "gone@example.com,Gone,Stores,\n").rows
    assert row.outcome is Outcome.UPDATED
    assert "deactivated" in row.messages[0]


def test_broken_quoting_stops_the_file_with_a_message(app, departments):
    report = import_staff(HEADER + '"ann@example.com,Ann,Stores,\nbo@example.com,Bo,IT,\n')
    assert report.problems and "not valid CSV" in report.problems[0]
    assert not report.ok


def test_a_column_named_twice_is_a_problem_with_the_file(app, departments):
    report = import_staff("email,email,name,department,roles\na@x.com,b@x.com,A,IT,\n")
    assert report.problems == ["The first line names email more than once."]


def test_values_with_line_breaks_are_refused(app, departments):
    (row,) = import_staff(HEADER + 'ann@example.com,"Ann\nLee",Stores,\n').rows
    assert row.outcome is Outcome.ERROR and "line break" in row.messages[0]


def test_a_file_with_a_problem_imports_nothing_not_even_its_good_rows(app, departments):
    report = import_staff(HEADER + 'bo@example.com,Bo,IT,\n"ann@example.com,Ann,Stores,\n')
    db.session.commit()
    assert outcomes(report) == [("bo@example.com", Outcome.CREATED)]
    assert report.problems and not report.applied
    assert people() == {}
