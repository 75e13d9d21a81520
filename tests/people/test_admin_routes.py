"""The admin pages through HTTP: departments, people, roles, password links, staff import."""

from __future__ import annotations

import io

import pytest
import sqlalchemy as sa

from serviceideas.extensions import db
from serviceideas.people.models import Department, DepartmentKind, Role, User
from tests.conftest import count_queries
from tests.people.conftest import refused, text

# Departments


def test_admin_creates_a_department_and_sees_it_listed(as_admin):
    response = as_admin.post(
        "/admin/departments", data={"name": "Logistics", "kind": "back_office"}
    )
    assert response.status_code == 303
    page = text(as_admin.get("/admin/departments"))
    assert "Logistics" in page and "Back office" in page


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": "", "kind": "front_line"}, "This field is required."),
        ({"name": "x" * 81, "kind": "front_line"}, "Field cannot be longer than 80 characters."),
        ({"name": "Sales", "kind": "marketing"}, "Not a valid choice"),
        ({"name": "SALES", "kind": "front_line"}, "There is already a department called Sales."),
    ],
)
def test_bad_departments_are_refused_beside_the_field(as_admin, make_department, data, message):
    make_department("Sales")
    before = db.session.scalar(sa.select(sa.func.count(Department.id)))
    response = refused(as_admin, as_admin.post("/admin/departments", data=data))
    assert message in text(response)
    assert db.session.scalar(sa.select(sa.func.count(Department.id))) == before


def test_a_department_added_by_someone_else_a_moment_ago_is_refused_beside_the_name(
    as_admin, make_department, monkeypatch
):
    from serviceideas.people import services

    make_department("Logistics")
    before = db.session.scalar(sa.select(sa.func.count(Department.id)))
    monkeypatch.setattr(services, "find_department", lambda name: None)  # not there when checked
    response = refused(
        as_admin,
        as_admin.post("/admin/departments", data={"name": "Logistics", "kind": "front_line"}),
    )
    assert "There is already a department with this name." in text(response)
    assert 'value="Logistics"' in text(response)
    assert db.session.scalar(sa.select(sa.func.count(Department.id))) == before


def test_admin_renames_a_department_and_changes_its_kind(as_admin, make_department):
    department = make_department("Stores")
    response = as_admin.post(
        f"/admin/departments/{department.id}", data={"name": "Shops", "kind": "back_office"}
    )
    assert response.status_code == 303
    db.session.refresh(department)
    assert (department.name, department.kind) == ("Shops", DepartmentKind.BACK_OFFICE)


def test_an_unknown_department_is_a_404(as_admin):
    assert as_admin.get("/admin/departments/9999").status_code == 404


# People


def test_people_list_searches_and_filters(as_admin, make_user, make_department):
    it = make_department("IT", DepartmentKind.BACK_OFFICE)
    make_user(name="Grace Hopper", department=it, roles=(Role.TRAINER,))
    make_user(name="Alan Turing", department=it, active=False)
    make_user(name="Grace Kelly")

    def names(query):
        page = text(as_admin.get(f"/admin/users?{query}"))
        return [n for n in ("Grace Hopper", "Alan Turing", "Grace Kelly") if n in page]

    assert names("q=grace") == ["Grace Hopper", "Grace Kelly"]
    assert names(f"department={it.id}") == ["Grace Hopper"]
    assert names(f"department={it.id}&status=all") == ["Grace Hopper", "Alan Turing"]
    assert names("status=inactive") == ["Alan Turing"]
    assert names("role=trainer") == ["Grace Hopper"]
    assert names("q=100%25") == []


def test_people_list_refuses_nonsense_filters_with_a_400(as_admin):
    assert as_admin.get("/admin/users?role=wizard").status_code == 400
    assert as_admin.get("/admin/users?department=abc").status_code == 400
    assert as_admin.get("/admin/users?page=abc").status_code == 200


def test_people_list_runs_the_same_queries_for_5_or_60_people(as_admin, make_user, app):
    def queries_for_list():
        with count_queries() as queries:
            assert as_admin.get("/admin/users?status=all").status_code == 200
        return queries.count

    for _ in range(4):
        make_user()
    few = queries_for_list()
    for _ in range(55):
        make_user()
    assert queries_for_list() == few


def test_admin_adds_a_person_with_roles(as_admin, make_department):
    department = make_department("Finance", DepartmentKind.BACK_OFFICE)
    response = as_admin.post(
        "/admin/users/new",
        data={
            "email": "New.Person@Example.com",
            "name": "New Person",
            "department": department.id,
            "roles": ["trainer", "manager"],
        },
    )
    assert response.status_code == 303
    person = db.session.scalar(sa.select(User).where(User.email == "new.person@example.com"))
    assert person.granted_roles == {Role.TRAINER, Role.MANAGER}
    assert person.password_hash is None


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"email": "taken@example.com", "name": "Dup"}, "already exists"),
        ({"email": "TAKEN@example.com", "name": "Dup"}, "already exists"),
        ({"email": "nope", "name": "X"}, "not valid"),
        ({"email": "a@example.com", "name": "x" * 121}, "cannot be longer than 120"),
        ({"email": "a@example.com", "name": "X", "department": "9999"}, "Not a valid choice"),
        ({"email": "a@example.com", "name": "X", "roles": ["wizard"]}, "not a valid choice"),
    ],
)
def test_bad_new_people_are_refused_and_the_input_kept(
    as_admin, make_user, make_department, data, message
):
    department = make_department()
    make_user(email="taken@example.com", department=department)
    response = as_admin.post("/admin/users/new", data={"department": department.id, **data})
    page = text(refused(as_admin, response))
    assert message in page
    assert f'value="{data["email"]}"' in page


def test_edit_page_shows_the_current_department_and_roles(as_admin, make_user, make_department):
    make_department("Aardvarks")  # first in the list: must not be what is shown
    person = make_user(Role.TRAINER, department=make_department("Zebras"))
    page = text(as_admin.get(f"/admin/users/{person.id}"))
    assert f'<option value="{person.department_id}" selected>Zebras</option>' in page
    assert 'checked id="roles-0" name="roles" type="checkbox" value="trainer"' in page
    assert 'id="roles-1" name="roles" type="checkbox" value="manager"' in page


def test_edit_department_page_shows_its_kind(as_admin, make_department):
    department = make_department("IT", DepartmentKind.BACK_OFFICE)
    page = text(as_admin.get(f"/admin/departments/{department.id}"))
    assert 'checked id="kind-1" name="kind" required type="radio" value="back_office"' in page


def test_admin_changes_roles_and_department(as_admin, make_user, make_department):
    person, it = make_user(), make_department("IT")
    response = as_admin.post(
        f"/admin/users/{person.id}",
        data={"name": "Renamed", "department": it.id, "roles": ["manager"]},
    )
    assert response.status_code == 303
    db.session.refresh(person)
    assert (person.name, person.department.name, person.roles) == (
        "Renamed",
        "IT",
        (Role.EMPLOYEE, Role.MANAGER),
    )


def test_an_admin_cannot_remove_their_own_admin_role(as_admin, admin):
    response = as_admin.post(
        f"/admin/users/{admin.id}", data={"name": admin.name, "department": admin.department_id}
    )
    assert "own admin role" in text(refused(as_admin, response))
    db.session.refresh(admin)
    assert admin.is_admin


def test_deactivate_and_reactivate(as_admin, make_user, client_as):
    person = make_user()
    their_client = client_as(person)
    assert their_client.get("/").status_code == 200

    as_admin.post(f"/admin/users/{person.id}/deactivate")
    db.session.refresh(person)
    assert not person.active
    assert their_client.get("/").status_code == 302  # their open session has ended
    assert "Nothing they wrote has been removed" in text(as_admin.get(f"/admin/users/{person.id}"))

    as_admin.post(f"/admin/users/{person.id}/reactivate")
    db.session.refresh(person)
    assert person.active


def test_an_admin_cannot_deactivate_themselves(as_admin, admin):
    as_admin.post(f"/admin/users/{admin.id}/deactivate")
    db.session.refresh(admin)
    assert admin.active


def test_password_link_is_shown_to_the_admin_and_works(as_admin, make_user, client):
    person = make_user(password=None)
    page = text(as_admin.post(f"/admin/users/{person.id}/password-link"))
    link = page.split('id="password-link" type="text" readonly value="')[1].split('"')[0]
    path = "/" + link.split("/", 3)[3]
    assert path.startswith("/password/")
    assert client.get(path).status_code == 200


# Staff import through the page


@pytest.fixture
def stores(make_department):
    return make_department("Stores")


CSV = "email,name,department,roles\nann@example.com,Ann Lee,Stores,trainer\nbad,,Nowhere,\n"


def test_import_preview_changes_nothing_and_keeps_the_csv(as_admin, stores):
    response = as_admin.post("/admin/import", data={"text": CSV, "preview": "Preview"})
    page = text(response)
    assert response.status_code == 200
    assert "Preview — nothing has been changed yet" in page
    assert "1 created" in page and "1 error" in page
    assert "ann@example.com,Ann Lee,Stores,trainer" in page  # ready to import after the preview
    assert db.session.scalar(sa.select(sa.func.count(User.id))) == 1  # only the admin


def test_import_by_file_upload_applies_good_rows_and_reports_bad_ones(as_admin, stores):
    response = as_admin.post(
        "/admin/import",
        data={"file": (io.BytesIO(CSV.encode()), "staff.csv"), "apply": "Import"},
        content_type="multipart/form-data",
    )
    page = text(response)
    assert "Import report" in page
    assert "No department called" in page
    assert db.session.scalar(sa.select(User).where(User.email == "ann@example.com")).is_trainer


def test_import_refuses_a_file_that_is_not_utf8(as_admin, stores):
    response = as_admin.post(
        "/admin/import",
        data={"file": (io.BytesIO("é".encode("latin-1")), "staff.csv"), "apply": "Import"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert "not UTF-8" in text(response)


def test_import_without_a_header_changes_nothing(as_admin, stores):
    response = as_admin.post(
        "/admin/import", data={"text": "ann@example.com,Ann,Stores,\n", "apply": "Import"}
    )
    assert response.status_code == 422
    assert "must name the columns" in text(response)


def test_import_with_nothing_says_so(as_admin):
    response = as_admin.post("/admin/import", data={"apply": "Import"})
    assert response.status_code == 422
    assert "Choose a CSV file or paste its contents." in text(response)


def test_an_oversized_upload_gets_a_413_page(as_admin, app):
    app.config["MAX_CONTENT_LENGTH"] = 1024
    response = as_admin.post("/admin/import", data={"text": "x" * 5000, "apply": "Import"})
    assert response.status_code == 413
    assert "Too large" in text(response)
