"""What the company's directory may do to people through SCIM: add them, change them,
deactivate them (docs/product.md, "Staff from the directory"). Every change goes through
people.services, as an admin's would, so its consequences are the same: a move re-enrols
training, a deactivation ends sessions. Functions flush, never commit."""

from __future__ import annotations

from flask import current_app

from serviceideas.errors import RuleViolation
from serviceideas.extensions import db
from serviceideas.people import services as people
from serviceideas.people.models import Department, User
from serviceideas.scim.resources import Wanted

EXTERNAL_ID_MAX = 255


def department_for(name: str | None, current: Department | None = None) -> Department:
    """The department the directory names, matched by name ignoring case; for a name the app
    does not know (or none, for a new person), DEFAULT_DEPARTMENT; without that setting,
    refused: an admin adds the department, or sets the default."""
    if name is None and current is not None:
        return current
    if name is not None:
        department = people.find_department(name)
        if department is not None:
            return department
    default = current_app.config.get("DEFAULT_DEPARTMENT")
    department = people.find_department(default) if default else None
    if department is not None:
        return department
    unknown = f"There is no department named {name!r}" if name else "No department was given"
    if default:
        raise RuleViolation(
            f"{unknown}, and the default department {default!r} "
            "(SERVICEIDEAS_DEFAULT_DEPARTMENT) does not exist either. Add it in serviceideas.",
            "department",
        )
    raise RuleViolation(
        f"{unknown} (the enterprise extension's department). Add the department in "
        "serviceideas, or set SERVICEIDEAS_DEFAULT_DEPARTMENT.",
        "department",
    )


def _external_id(value: str | None) -> str | None:
    if value is not None and len(value) > EXTERNAL_ID_MAX:
        raise RuleViolation(f"externalId is longer than {EXTERNAL_ID_MAX} characters.")
    return value


def add_person(wanted: Wanted) -> User:
    """A new person from the directory, with no role beyond employee (roles are given in the
    app, or by the sign-in's groups claim) and no password (they sign in with the company's
    identity provider)."""
    if wanted.name is None:
        raise RuleViolation(
            "The User has no name: send name.formatted, name.givenName and name.familyName, "
            "or displayName.",
            "name",
        )
    department = department_for(wanted.department)
    external_id = _external_id(wanted.external_id)
    person = people.create_user(email=wanted.email, name=wanted.name, department=department)
    person.scim_external_id = external_id
    db.session.flush()
    if not wanted.active:
        people.set_active(None, person, False)
    return person


def update_person(person: User, wanted: Wanted) -> list[str]:
    """Make the person what the directory wants (a PUT or a PATCH): e-mail, name, department,
    externalId, and active last, so a deactivation ends the sessions whatever else changed.
    Roles stay as they are. What changed, in words, for the request's log line."""
    changes = []
    if people.check_email(wanted.email) != person.email:
        people.change_email(person, wanted.email)
        changes.append("e-mail")
    try:
        department = department_for(wanted.department, current=person.department)
    except RuleViolation:
        if wanted.active:
            raise
        department = person.department  # someone leaving is let go, whatever their department
    name = wanted.name or person.name
    if name != person.name or department.id != person.department_id:
        changes += ["name"] if name != person.name else []
        changes += ["department"] if department.id != person.department_id else []
        people.update_user(
            person, name=name, department=department, roles=person.granted_roles, acting=None
        )
    external_id = _external_id(wanted.external_id)
    if external_id != person.scim_external_id:
        person.scim_external_id = external_id
        db.session.flush()
        changes.append("externalId")
    if wanted.active != person.active:
        people.set_active(None, person, wanted.active)
        changes.append("reactivated" if wanted.active else "deactivated")
    return changes


def deactivate(person: User) -> None:
    """DELETE: the person is deactivated, never erased; everything they wrote stays."""
    people.set_active(None, person, False)
