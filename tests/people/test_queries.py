"""What the people pages ask of the database, without HTTP."""

from __future__ import annotations

from serviceideas.extensions import db
from serviceideas.people import queries
from serviceideas.people.models import DepartmentKind, Role
from tests.conftest import count_queries


def test_headcount_counts_active_people_in_one_query(app, make_department, make_user):
    department = make_department("Finance", DepartmentKind.BACK_OFFICE)
    make_user(department=department)
    make_user(department=department, active=False)
    with count_queries() as log:
        rows = queries.departments_with_headcount()
    assert ("Finance", 1) in [(d.name, n) for d, n in rows]
    assert log.count == 1


def test_people_matching_each_filter(app, make_department, make_user):
    it = make_department("IT", DepartmentKind.BACK_OFFICE)
    grace = make_user(name="Grace Hopper", email="amazing@example.com", department=it)
    make_user(name="Alan Turing", department=it, roles=(Role.TRAINER,), active=False)
    make_user(name="Ada Lovelace", email="grace.notes@example.com")

    def names(**filters):
        return [person.name for person in db.session.scalars(queries.people_matching(**filters))]

    assert names(text="GRACE") == ["Ada Lovelace", "Grace Hopper"]  # name or email, any case
    assert names(department_id=it.id) == ["Grace Hopper"]
    assert names(department_id=it.id, active=None) == ["Alan Turing", "Grace Hopper"]
    assert names(active=False) == ["Alan Turing"]
    assert names(role=Role.TRAINER, active=None) == ["Alan Turing"]
    assert names(text="100%") == []
    assert grace.name in names()
