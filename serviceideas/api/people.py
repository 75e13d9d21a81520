"""The API's people and departments, for admins (docs/product.md, "Resources"): what the admin
pages list and change, through the same queries, services and policies, so every rule of
theirs holds (an admin gives themselves no role and does not switch themselves off; each
role given or taken away is recorded, as made on the admin page)."""

from __future__ import annotations

import base64
import binascii
import json
from http import HTTPStatus
from typing import Any

import marshmallow as ma
from flask import Response, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext

from serviceideas.api import resource_blueprint
from serviceideas.api.auth import acting_user, requires
from serviceideas.api.models import Scope
from serviceideas.api.paging import AFTER, BROKEN, PageArgsSchema, page_size, paged
from serviceideas.api.people_schemas import (
    DepartmentChangeSchema,
    DepartmentPageSchema,
    DepartmentSchema,
    NewDepartmentSchema,
    PersonChangeSchema,
    PersonListArgsSchema,
    PersonPageSchema,
    PersonSchema,
)
from serviceideas.api.problems import problem, refusal
from serviceideas.errors import RuleViolation
from serviceideas.extensions import db
from serviceideas.people import queries, services
from serviceideas.people.models import Department, Role, RoleChangeSource, User
from serviceideas.people.policies import can_administer
from serviceideas.urls import DATABASE_INT_MAX, absolute
from serviceideas.writes import commit_or_refuse

blp = resource_blueprint("api_people", __name__, "people and departments")

# Role changes made through the API are recorded as the admin page's: the API is that page's
# twin, and a source of its own would be a schema change (RoleChangeSource is a column type).
SOURCE = RoleChangeSource.ADMIN_PAGE


def _not_an_admin() -> Response | None:
    if can_administer(acting_user()):
        return None
    return problem(HTTPStatus.FORBIDDEN, gettext("Only admins manage people and departments."))


def _answer_refusal(error: RuleViolation, default_field: str) -> Response:
    """A service's refusal (a name already another department's too, as on the admin page):
    422, beside the field it names, else `default_field`."""
    return refusal(RuleViolation(error.message, error.field or default_field))


def _cursor(values: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


def _cursor_values(cursor: str, length: int) -> list[Any]:
    """The values a `_cursor` of `length` carries; a cursor this app did not write is refused."""
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, binascii.Error):
        raise RuleViolation(str(BROKEN), AFTER) from None
    if not isinstance(raw, list) or len(raw) != length or not isinstance(raw[0], str):
        raise RuleViolation(str(BROKEN), AFTER)
    if length == 2 and (type(raw[1]) is not int or not 1 <= raw[1] <= DATABASE_INT_MAX):
        raise RuleViolation(str(BROKEN), AFTER)
    return raw


# People


def _person(person: User) -> dict[str, Any]:
    return {
        "id": person.id,
        "email": person.email,
        "name": person.name,
        "department": {
            "id": person.department.id,
            "name": person.department.name,
            "kind": person.department.kind,
        },
        "roles": [role.value for role in person.roles if role is not Role.EMPLOYEE],
        "active": person.is_active,
        "created_at": person.created_at,
        "updated_at": person.updated_at,
    }


@blp.route("/people")
@requires(Scope.ADMIN)
@blp.arguments(PersonListArgsSchema, location="query", unknown=ma.RAISE)
@blp.response(200, PersonPageSchema)
def people(args: dict[str, Any]) -> ResponseReturnValue:
    """People by name, with the admin list's filters: part of the name or e-mail, a
    department, a role given, active (the default), deactivated or all. Admins only."""
    if (refused := _not_an_admin()) is not None:
        return refused
    try:
        after = _cursor_values(args[AFTER], 2) if args.get(AFTER) else None
    except RuleViolation as error:
        return refusal(error)
    size = page_size(args)
    status = args["status"]
    found = queries.people_page(
        text=args["q"],
        department_id=args["department"],
        role=Role(args["role"]) if args["role"] else None,
        active=None if status == "all" else status == "active",
        after=(after[0], after[1]) if after else None,
        limit=size + 1,
    )
    last = found[size - 1] if len(found) > size else None
    cursor = _cursor([last.name, last.id]) if last else None
    return paged([_person(person) for person in found[:size]], cursor)


@blp.route("/people/<id:user_id>")
@requires(Scope.ADMIN)
@blp.response(200, PersonSchema)
def person(user_id: int) -> ResponseReturnValue:
    """One person. Admins only."""
    if (refused := _not_an_admin()) is not None:
        return refused
    return _person(db.get_or_404(User, user_id))


@blp.route("/people/<id:user_id>", methods=["PATCH"])
@requires(Scope.ADMIN)
@blp.arguments(PersonChangeSchema)
@blp.response(200, PersonSchema)
def change_person(body: dict[str, Any], user_id: int) -> ResponseReturnValue:
    """Change a person's name, department, roles (given besides employee) or whether they are
    active, as the admin page does, all or nothing. An admin may not give themselves a role,
    take away their own admin role or deactivate themselves; every role given or taken away
    is recorded and the person told. Admins only."""
    if (refused := _not_an_admin()) is not None:
        return refused
    admin = acting_user()
    person = db.get_or_404(User, user_id)
    department = person.department
    if "department_id" in body:
        chosen = db.session.get(Department, body["department_id"])
        if chosen is None:
            message = gettext("No department has this id.")
            return problem(422, message, errors={"department_id": [message]})
        department = chosen
    roles = {Role(value) for value in body["roles"]} if "roles" in body else person.granted_roles

    def change() -> None:
        services.update_user(
            person,
            name=body.get("name", person.name),
            department=department,
            roles=roles,
            acting=admin,
            source=SOURCE,
        )
        if "active" in body:
            services.set_active(admin, person, body["active"])

    outcome = commit_or_refuse(change, flash_refusal=False)
    if outcome.refusal is not None:
        return _answer_refusal(outcome.refusal, "active")  # set_active names no field
    return _person(person)


# Departments


def _department(department: Department, headcount: int) -> dict[str, Any]:
    return {
        "id": department.id,
        "name": department.name,
        "kind": department.kind,
        "headcount": headcount,
        "created_at": department.created_at,
    }


@blp.route("/departments")
@requires(Scope.ADMIN)
@blp.arguments(PageArgsSchema, location="query", unknown=ma.RAISE)
@blp.response(200, DepartmentPageSchema)
def departments(args: dict[str, Any]) -> ResponseReturnValue:
    """Every department by name, with its number of active staff. Admins only."""
    if (refused := _not_an_admin()) is not None:
        return refused
    try:
        after = _cursor_values(args[AFTER], 1)[0] if args.get(AFTER) else None
    except RuleViolation as error:
        return refusal(error)
    size = page_size(args)
    rows = queries.departments_page(after=after, limit=size + 1)
    cursor = _cursor([rows[size - 1][0].name]) if len(rows) > size else None
    return paged([_department(d, headcount) for d, headcount in rows[:size]], cursor)


@blp.route("/departments", methods=["POST"])
@requires(Scope.ADMIN)
@blp.arguments(NewDepartmentSchema)
@blp.response(201, DepartmentSchema)
def new_department(body: dict[str, Any]) -> ResponseReturnValue:
    """Add a department (its name unique, ignoring case). Admins only."""
    if (refused := _not_an_admin()) is not None:
        return refused
    outcome = commit_or_refuse(
        lambda: services.create_department(body["name"], body["kind"]), flash_refusal=False
    )
    if outcome.refusal is not None:
        return _answer_refusal(outcome.refusal, "name")
    made = outcome.kept
    return (
        _department(made, 0),
        201,
        {"Location": absolute(url_for("api_people.department", department_id=made.id))},
    )


@blp.route("/departments/<id:department_id>")
@requires(Scope.ADMIN)
@blp.response(200, DepartmentSchema)
def department(department_id: int) -> ResponseReturnValue:
    """One department. Admins only."""
    if (refused := _not_an_admin()) is not None:
        return refused
    found = db.get_or_404(Department, department_id)
    return _department(found, queries.headcount_of(found))


@blp.route("/departments/<id:department_id>", methods=["PATCH"])
@requires(Scope.ADMIN)
@blp.arguments(DepartmentChangeSchema)
@blp.response(200, DepartmentSchema)
def change_department(body: dict[str, Any], department_id: int) -> ResponseReturnValue:
    """Rename a department (its name unique, ignoring case) or change its kind. Admins
    only."""
    if (refused := _not_an_admin()) is not None:
        return refused
    found = db.get_or_404(Department, department_id)
    name, kind = body.get("name", found.name), body.get("kind", found.kind)
    outcome = commit_or_refuse(
        lambda: services.update_department(found, name, kind), flash_refusal=False
    )
    if outcome.refusal is not None:
        return _answer_refusal(outcome.refusal, "name")
    return _department(found, queries.headcount_of(found))
