"""Departments, people, roles and passwords, without HTTP."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from serviceideas.errors import RuleViolation
from serviceideas.extensions import db
from serviceideas.people import services
from serviceideas.people.models import Department, DepartmentKind, Role, User
from serviceideas.people.signals import joined_department


@pytest.fixture
def joins():
    """Every joined_department signal sent during the test, as (email, department name)."""
    seen: list[tuple[str, str]] = []

    def receiver(people):
        seen.extend((person.email, person.department.name) for person in people)

    joined_department.connect(receiver)
    yield seen
    joined_department.disconnect(receiver)


def test_department_names_are_unique_whatever_their_case(app):
    services.create_department("Logistics", DepartmentKind.BACK_OFFICE)
    with pytest.raises(RuleViolation, match="already a department") as refused:
        services.create_department("  logistics ", DepartmentKind.FRONT_LINE)
    assert refused.value.field == "name"


def test_a_name_taken_since_it_was_checked_is_refused_and_the_rest_is_kept(app, monkeypatch):
    """Someone else adds the same name between the check and the insert: the database's
    unique constraint refuses it, as a rule naming the field, and only that is undone."""
    services.create_department("Logistics", DepartmentKind.BACK_OFFICE)
    kept = services.create_department("Stores", DepartmentKind.FRONT_LINE)
    monkeypatch.setattr(services, "find_department", lambda name: None)  # the check misses it
    with pytest.raises(RuleViolation, match="already a department") as refused:
        services.create_department("Logistics", DepartmentKind.FRONT_LINE)
    assert refused.value.field == "name"
    with pytest.raises(RuleViolation, match="already a department"):
        services.update_department(kept, "Logistics", DepartmentKind.FRONT_LINE)
    db.session.commit()  # the transaction is still good: the first two are kept
    names = db.session.scalars(sa.select(Department.name).order_by(Department.name)).all()
    assert names == ["Logistics", "Stores"]


def test_an_email_taken_since_it_was_checked_is_refused_beside_the_email(
    app, make_department, monkeypatch
):
    department = make_department()
    services.create_user(email="ann@example.com", name="Ann", department=department)
    monkeypatch.setattr(services, "find_user", lambda email: None)
    with pytest.raises(RuleViolation, match="already exists") as refused:
        services.create_user(email="ann@example.com", name="Ann 2", department=department)
    assert refused.value.field == "email"
    db.session.commit()
    assert db.session.scalars(sa.select(User.name)).all() == ["Ann"]


def test_department_can_be_renamed_and_change_kind(app):
    department = services.create_department("Stores", DepartmentKind.FRONT_LINE)
    services.update_department(department, "Shops", DepartmentKind.BACK_OFFICE)
    db.session.commit()
    assert services.find_department("SHOPS").kind is DepartmentKind.BACK_OFFICE


def test_renaming_keeps_own_name_with_other_case(app):
    department = services.create_department("Field service", DepartmentKind.FRONT_LINE)
    services.update_department(department, "Field Service", DepartmentKind.FRONT_LINE)
    assert department.name == "Field Service"


def test_emails_are_unique_case_insensitively(app, make_department):
    department = make_department()
    user = services.create_user(email=" Ann@Example.COM ", name="Ann", department=department)
    assert user.email == "ann@example.com"
    with pytest.raises(RuleViolation, match="already exists"):
        services.create_user(email="ANN@example.com", name="Ann 2", department=department)
    assert services.find_user("ANN@EXAMPLE.COM") is user


def test_the_database_itself_refuses_a_second_email_and_upper_case(app, make_department):
    department = make_department()
    db.session.add(User(email="bo@example.com", name="Bo", department=department))
    db.session.commit()
    db.session.add(User(email="bo@example.com", name="Bo again", department=department))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
    # Bypass the model's normalisation: the CHECK constraint still refuses.
    with pytest.raises(IntegrityError):
        db.session.execute(
            sa.insert(User).values(
                email="Cy@Example.com", name="Cy", department_id=department.id, session_token="t"
            )
        )
    db.session.rollback()


@pytest.mark.parametrize(
    ("email", "name", "field"),
    [
        ("not-an-email", "Ann", "email"),
        ("", "Ann", "email"),
        ("ann@example.com", "   ", "name"),
        ("ann@example.com", "x" * 121, "name"),
    ],
)
def test_bad_people_are_refused_with_the_field_named(app, make_department, email, name, field):
    with pytest.raises(RuleViolation) as refused:
        services.create_user(email=email, name=name, department=make_department())
    assert refused.value.field == field
    assert db.session.scalar(sa.select(sa.func.count(User.id))) == 0


def test_roles_add_up_and_admins_hold_every_power(app, make_department):
    user = services.create_user(
        email="t@example.com", name="T", department=make_department(), roles={Role.TRAINER}
    )
    assert user.roles == (Role.EMPLOYEE, Role.TRAINER)
    assert user.has_role(Role.TRAINER) and not user.has_role(Role.MANAGER)
    user.set_roles({Role.ADMIN})
    assert all(user.has_role(role) for role in Role)


def test_new_people_and_moves_signal_joining_a_department(app, make_department, joins):
    first, second = make_department("First"), make_department("Second")
    user = services.create_user(email="m@example.com", name="M", department=first)
    services.update_user(user, name="M", department=first, roles=())
    services.update_user(user, name="M", department=second, roles=())
    assert joins == [("m@example.com", "First"), ("m@example.com", "Second")]


def test_an_admin_cannot_remove_their_own_admin_role_or_deactivate_themselves(app, make_user):
    admin = make_user(Role.ADMIN)
    with pytest.raises(RuleViolation, match="own admin role"):
        services.update_user(
            admin, name=admin.name, department=admin.department, roles=(), acting=admin
        )
    with pytest.raises(RuleViolation, match="deactivate yourself"):
        services.set_active(admin, admin, False)
    assert admin.is_admin and admin.active


def test_deactivating_keeps_the_person_and_ends_their_sessions(app, make_user):
    admin, person = make_user(Role.ADMIN), make_user()
    session_id = person.get_id()
    services.set_active(admin, person, False)
    db.session.commit()
    assert db.session.get(User, person.id) is not None
    assert services.load_signed_in_user(session_id) is None
    services.set_active(admin, person, True)
    assert services.load_signed_in_user(person.get_id()) is person


def test_authenticate_checks_the_password(app, make_user):
    person = make_user(password="a long enough password")
    assert services.authenticate(person.email.upper(), "a long enough password") is person
    assert services.authenticate(person.email, "wrong password!") is None
    assert services.authenticate("nobody@example.com", "a long enough password") is None


def test_passwords_have_a_minimum_length(app, make_user):
    with pytest.raises(RuleViolation, match="at least 10"):
        services.set_password(make_user(), "short")


def test_password_link_works_once(app, make_user):
    person = make_user(password=None)
    token = services.password_set_token(person)
    assert services.user_for_password_token(token) is person
    services.set_password(person, "my new password is long")
    db.session.commit()
    assert services.user_for_password_token(token) is None


def test_password_link_expires_and_refuses_tampering(app, make_user):
    person = make_user(password=None)
    token = services.password_set_token(person)
    assert services.user_for_password_token(token + "x") is None
    assert services.user_for_password_token("garbage") is None
    app.config["PASSWORD_LINK_MAX_AGE"] = -1
    assert services.user_for_password_token(token) is None


def test_password_link_does_not_work_for_a_deactivated_person(app, make_user):
    person = make_user(password=None, active=False)
    assert services.user_for_password_token(services.password_set_token(person)) is None


def test_session_ids_are_checked_against_the_token(app, make_user):
    person = make_user()
    assert services.load_signed_in_user(person.get_id()) is person
    assert services.load_signed_in_user(f"{person.id}:forged") is None
    assert services.load_signed_in_user(str(person.id)) is None
    assert services.load_signed_in_user("x:y") is None


@pytest.mark.parametrize(
    "password", ["password123", "QWERTYUIOP", "aaaaaaaaaaaa", "abababababab", "serviceideas123"]
)
def test_common_passwords_are_refused(app, make_user, password):
    with pytest.raises(RuleViolation, match="first an attacker would try"):
        services.set_password(make_user(), password)


def test_a_password_built_from_the_email_is_refused(app, make_user):
    person = make_user(email="margaret.hamilton@example.com")
    with pytest.raises(RuleViolation, match="email address"):
        services.set_password(person, "margaret.hamilton!2026")
    services.set_password(person, "a sentence nobody guesses")
