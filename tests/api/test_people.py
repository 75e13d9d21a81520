"""People and departments through the API, for admins: the admin pages' lists, changes and
rules."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from serviceideas.api.models import Scope
from serviceideas.extensions import db
from serviceideas.people.models import Department, DepartmentKind, Role, RoleChange, User
from tests.api.conftest import API_ROOT
from tests.conftest import count_queries


@pytest.fixture
def admin(make_user):
    return make_user(Role.ADMIN, name="Ada Admin")


def follow(api, url):
    return api.get(url.removeprefix(API_ROOT)).get_json()


def test_an_admin_lists_people_by_name_in_pages_with_the_lists_filters(
    api_as, make_user, make_department, admin
):
    shop = make_department("Shop")
    ann = make_user(name="Ann Archer", department=shop, email="ann@example.com")
    bob = make_user(Role.TRAINER, name="Bob Baker", department=shop)
    cat = make_user(name="Cat Cooper", active=False, department=shop)
    api = api_as(admin, scopes=(Scope.ADMIN,))

    first = api.get("/people?limit=2")
    assert first.status_code == 200
    body = first.get_json()
    assert [p["name"] for p in body["items"]] == ["Ada Admin", "Ann Archer"]
    assert body["items"][0]["roles"] == ["admin"]
    assert first.headers["Link"] == f'<{body["links"]["next"]}>; rel="next"'
    rest = follow(api, body["links"]["next"])
    assert [p["id"] for p in rest["items"]] == [bob.id]
    assert rest["links"]["next"] is None

    def ids(query):
        return [p["id"] for p in api.get(f"/people?{query}").get_json()["items"]]

    assert ids("q=ANN@") == [ann.id]
    assert ids(f"department={shop.id}&status=all") == [ann.id, bob.id, cat.id]
    assert ids("role=trainer") == [bob.id]
    assert ids("status=inactive") == [cat.id]
    one = api.get(f"/people/{ann.id}").get_json()
    assert one["department"] == {"id": shop.id, "name": "Shop", "kind": "front_line"}
    assert one["active"] is True and one["roles"] == []


def test_bad_filters_are_refused_beside_them(api_as, admin):
    response = api_as(admin).get("/people?role=boss&status=gone&department=0&after=%25")
    assert response.status_code == 422
    assert set(response.get_json()["errors"]) == {"role", "status", "department"}
    typo = api_as(admin).get("/people?stauts=all")  # a typo is not read as no filter
    assert typo.status_code == 422 and "stauts" in typo.get_json()["errors"]
    broken = api_as(admin).get("/people?after=bm9uc2Vuc2U")
    assert broken.status_code == 422 and "after" in broken.get_json()["errors"]


def test_people_and_departments_keep_a_constant_number_of_queries(
    api_as, make_user, make_department, admin
):
    api = api_as(admin)

    def queries():
        counts = []
        for path in ["/people?status=all", "/departments"]:
            with count_queries() as log:
                assert api.get(path).status_code == 200
            counts.append(log.count)
        return counts

    make_user(Role.MANAGER)
    queries()  # the token's first use is stamped on it: not part of the list
    few = queries()
    for _ in range(5):
        make_user(department=make_department(kind=DepartmentKind.BACK_OFFICE))
        make_user(active=False)
    assert queries() == few


def test_without_a_token_nothing_is_answered(api_as, admin):
    api = api_as(None)
    for method, path in [
        ("GET", "/people"),
        ("GET", f"/people/{admin.id}"),
        ("PATCH", f"/people/{admin.id}"),
        ("GET", "/departments"),
        ("POST", "/departments"),
        ("PATCH", f"/departments/{admin.department_id}"),
    ]:
        response = api.open(method, path, json={})
        assert response.status_code == 401, path


def test_only_an_admin_with_the_admin_scope_manages_people(api_as, make_user, admin):
    person = make_user(name="Pat Person")
    callers = [
        api_as(make_user()),
        api_as(make_user(Role.TRAINER)),
        api_as(make_user(Role.MANAGER)),
        api_as(admin, scopes=(Scope.READ, Scope.WRITE, Scope.REVIEW)),
    ]
    for api in callers:
        for method, path, body in [
            ("GET", "/people", None),
            ("GET", f"/people/{person.id}", None),
            ("PATCH", f"/people/{person.id}", {"name": "Taken Over", "roles": ["admin"]}),
            ("GET", "/departments", None),
            ("POST", "/departments", {"name": "Rogue", "kind": "front_line"}),
            ("PATCH", f"/departments/{person.department_id}", {"name": "Renamed"}),
        ]:
            response = api.open(method, path, json=body)
            assert response.status_code == 403, (method, path)
    db.session.refresh(person)
    assert person.name == "Pat Person" and not person.is_admin
    assert db.session.scalar(sa.select(Department).where(Department.name == "Rogue")) is None


def test_an_unknown_person_or_department_is_404(api_as, admin):
    api = api_as(admin)
    for method, path in [
        ("GET", "/people/999999"),
        ("PATCH", "/people/999999"),
        ("GET", "/departments/999999"),
        ("PATCH", "/departments/999999"),
    ]:
        response = api.open(method, path, json={})
        assert response.status_code == 404, path
        assert response.content_type == "application/problem+json"


def test_an_admin_changes_a_person_and_the_role_changes_are_recorded(
    api_as, make_user, make_department, admin
):
    person = make_user(Role.MANAGER, name="Pat Person")
    team = make_department("Team")
    response = api_as(admin).patch(
        f"/people/{person.id}",
        json={"name": "Pat Porter", "department_id": team.id, "roles": ["trainer"]},
    )
    assert response.status_code == 200
    body = response.get_json()
    assert body["name"] == "Pat Porter" and body["department"]["name"] == "Team"
    assert body["roles"] == ["trainer"]
    changes = db.session.scalars(sa.select(RoleChange).order_by(RoleChange.id)).all()
    assert [(c.role, c.granted, c.actor_id, c.source.value) for c in changes] == [
        (Role.TRAINER, True, admin.id, "admin page"),
        (Role.MANAGER, False, admin.id, "admin page"),
    ]


def test_deactivating_a_person_stops_their_tokens(api_as, make_user, admin):
    person = make_user()
    theirs = api_as(person)
    assert theirs.get("/training/enrolments").status_code == 200
    response = api_as(admin).patch(f"/people/{person.id}", json={"active": False})
    assert response.status_code == 200 and response.get_json()["active"] is False
    assert theirs.get("/training/enrolments").status_code == 401


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"roles": ["admin", "trainer"]}, "roles", "Another admin must give you a role."),
        ({"roles": []}, "roles", "You cannot take away your own admin role."),
        ({"active": False, "name": "Ada A."}, "active", "You cannot deactivate yourself."),
    ],
)
def test_an_admin_cannot_give_themselves_a_role_or_switch_themselves_off(
    api_as, admin, change, field, message
):
    response = api_as(admin).patch(f"/people/{admin.id}", json=change)
    assert response.status_code == 422
    assert response.get_json()["errors"][field] == [message]
    db.session.refresh(admin)
    assert admin.name == "Ada Admin" and admin.is_admin and not admin.is_trainer
    assert admin.is_active
    assert db.session.scalar(sa.select(sa.func.count()).select_from(RoleChange)) == 0


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"name": "   "}, "name", "Enter the person's name."),
        ({"roles": ["boss"]}, "roles", "Must be one of"),
        ({"department_id": 999999}, "department_id", "No department has this id."),
        ({"active": "maybe", "email": "x@example.com"}, "active", "Not a valid boolean."),
    ],
)
def test_a_bad_change_is_refused_beside_its_field_and_nothing_is_stored(
    api_as, make_user, admin, change, field, message
):
    person = make_user(name="Pat Person")
    response = api_as(admin).patch(f"/people/{person.id}", json=change)
    assert response.status_code == 422
    assert message in str(response.get_json()["errors"][field])
    db.session.refresh(person)
    assert person.name == "Pat Person" and person.granted_roles == frozenset()


# Departments


def test_an_admin_adds_renames_and_lists_departments(api_as, make_user, admin):
    api = api_as(admin)
    made = api.post("/departments", json={"name": "  Logistics ", "kind": "back_office"})
    assert made.status_code == 201
    logistics = made.get_json()
    assert made.headers["Location"] == f"{API_ROOT}/departments/{logistics['id']}"
    assert (logistics["name"], logistics["kind"], logistics["headcount"]) == (
        "Logistics",
        "back_office",
        0,
    )
    make_user(department=db.session.get(Department, logistics["id"]))
    renamed = api.patch(f"/departments/{logistics['id']}", json={"name": "Warehouse"})
    assert renamed.status_code == 200
    assert renamed.get_json()["headcount"] == 1 and renamed.get_json()["kind"] == "back_office"

    first = api.get("/departments?limit=1").get_json()
    assert [d["name"] for d in first["items"]] == [admin.department.name]
    rest = follow(api, first["links"]["next"])
    assert [d["name"] for d in rest["items"]] == ["Warehouse"]
    assert rest["links"]["next"] is None


def test_a_taken_or_bad_department_name_is_refused_beside_it(api_as, admin):
    api = api_as(admin)
    taken = admin.department.name.upper()
    response = api.post("/departments", json={"name": taken, "kind": "front_line"})
    assert response.status_code == 422
    assert "already a department" in response.get_json()["errors"]["name"][0]
    bad = api.post("/departments", json={"name": "x" * 81, "kind": "kiosk"})
    assert bad.status_code == 422
    assert set(bad.get_json()["errors"]) == {"name", "kind"}
    blank = api.post("/departments", json={"name": "   ", "kind": "front_line"})
    assert blank.status_code == 422 and "name" in blank.get_json()["errors"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Department)) == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 1


def test_a_nul_character_in_any_text_is_refused_beside_it(api_as, make_user, admin):
    """PostgreSQL cannot store it, and JSON bodies do not pass the pages' check at the door."""
    person = make_user(name="Pat Person")
    api = api_as(admin)
    changed = api.patch(f"/people/{person.id}", json={"name": "Pat\x00"})
    assert changed.status_code == 422 and "name" in changed.get_json()["errors"]
    added = api.post("/departments", json={"name": "Shop\x00", "kind": "front_line"})
    assert added.status_code == 422 and "name" in added.get_json()["errors"]
    renamed = api.patch(f"/departments/{person.department_id}", json={"name": "\x00"})
    assert renamed.status_code == 422 and "name" in renamed.get_json()["errors"]
    db.session.refresh(person)
    assert person.name == "Pat Person"
