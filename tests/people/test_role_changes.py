"""Nobody gives themselves a role; every role change is recorded and the person is told
(docs/product.md, "Roles"; SECURITY.md, "Giving oneself a role")."""

from __future__ import annotations

import sqlalchemy as sa

from serviceideas.extensions import db
from serviceideas.notifications.models import Notification
from serviceideas.people.models import Role, RoleChange, User
from tests.people.conftest import refused, text


def role_changes():
    return list(db.session.scalars(sa.select(RoleChange).order_by(RoleChange.id)))


def test_an_admin_cannot_give_themselves_the_trainer_role(as_admin, admin):
    response = as_admin.post(
        f"/admin/users/{admin.id}",
        data={"name": admin.name, "department": admin.department_id, "roles": ["admin", "trainer"]},
    )
    assert "Another admin must give you a role." in text(refused(as_admin, response))
    db.session.refresh(admin)
    assert admin.granted_roles == {Role.ADMIN}
    assert role_changes() == []


def test_an_admin_may_take_away_their_own_other_roles(client_as, make_user):
    admin = make_user(roles=(Role.ADMIN, Role.TRAINER))
    response = client_as(admin).post(
        f"/admin/users/{admin.id}",
        data={"name": admin.name, "department": admin.department_id, "roles": ["admin"]},
    )
    assert response.status_code == 303
    db.session.refresh(admin)
    assert admin.granted_roles == {Role.ADMIN}
    [change] = role_changes()
    assert (change.role, change.granted, change.actor_id) == (Role.TRAINER, False, admin.id)


def test_an_admin_cannot_give_themselves_a_role_through_the_staff_import(as_admin, admin):
    csv = (
        "email,name,department,roles\n"
        f"{admin.email},{admin.name},{admin.department.name},admin trainer\n"
    )
    response = as_admin.post("/admin/import", data={"text": csv, "apply": "Import"})
    page = text(response)
    assert "1 error" in page
    assert "Another admin must give you a role." in page
    db.session.refresh(admin)
    assert admin.granted_roles == {Role.ADMIN}
    assert role_changes() == []


def test_another_admin_gives_the_role_and_it_is_recorded_and_told(as_admin, admin, make_user):
    other = make_user(Role.ADMIN, name="Bea Boss")
    response = as_admin.post(
        f"/admin/users/{other.id}",
        data={"name": other.name, "department": other.department_id, "roles": ["admin", "trainer"]},
    )
    assert response.status_code == 303
    db.session.refresh(other)
    assert other.granted_roles == {Role.ADMIN, Role.TRAINER}
    [change] = role_changes()
    assert (change.person_id, change.actor_id, change.role, change.granted, change.source) == (
        other.id,
        admin.id,
        Role.TRAINER,
        True,
        "admin page",
    )
    assert change.changed_at is not None
    [notice] = db.session.scalars(sa.select(Notification).where(Notification.user_id == other.id))
    assert "Ada Admin" in notice.title and "trainer" in notice.title.lower()


def test_the_staff_import_records_role_changes_of_others(as_admin, admin, make_user):
    person = make_user(name="Cai Clerk")
    csv = (
        "email,name,department,roles\n"
        f"{person.email},{person.name},{person.department.name},manager\n"
    )
    response = as_admin.post("/admin/import", data={"text": csv, "apply": "Import"})
    assert "1 updated" in text(response)
    [change] = role_changes()
    assert (change.person_id, change.actor_id, change.role, change.granted, change.source) == (
        person.id,
        admin.id,
        Role.MANAGER,
        True,
        "staff import",
    )


def test_the_audit_page_lists_role_changes_for_admins_only(as_admin, admin, make_user, client_as):
    other = make_user(name="Dee Doer")
    as_admin.post(
        f"/admin/users/{other.id}",
        data={"name": other.name, "department": other.department_id, "roles": ["trainer"]},
    )
    page = text(as_admin.get("/admin/role-changes"))
    assert "Dee Doer" in page and "Ada Admin" in page and "Trainer" in page
    assert "/admin/role-changes" in text(as_admin.get("/admin/users"))
    assert client_as(make_user(Role.TRAINER)).get("/admin/role-changes").status_code == 403
    assert client_as(other).get("/admin/role-changes").status_code == 403


def test_the_command_line_is_the_break_glass_path(app):
    from serviceideas.people import services

    person = services.create_user(
        email="root@example.com",
        name="Root",
        department=services.create_department("Ops", _kind()),
        roles={Role.ADMIN},
    )
    services.update_user(
        person, name="Root", department=person.department, roles={Role.ADMIN, Role.TRAINER}
    )
    db.session.commit()
    assert db.session.get(User, person.id).granted_roles == {Role.ADMIN, Role.TRAINER}
    assert [(c.role, c.granted, c.actor_id, c.source) for c in role_changes()] == [
        (Role.ADMIN, True, None, "command line"),
        (Role.TRAINER, True, None, "command line"),
    ]


def _kind():
    from serviceideas.people.models import DepartmentKind

    return DepartmentKind.BACK_OFFICE
