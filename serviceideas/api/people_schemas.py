"""What the API's people and departments resources read and answer (api/people.py): what the
admin pages show and change."""

from __future__ import annotations

import marshmallow as ma

from serviceideas.api.paging import PageArgsSchema, page_schema
from serviceideas.api.text import Text
from serviceideas.people.models import (
    DEPARTMENT_NAME_MAX,
    GRANTABLE_ROLES,
    NAME_MAX,
    DepartmentKind,
)
from serviceideas.urls import DATABASE_INT_MAX

ROLE_VALUES = [role.value for role in GRANTABLE_ROLES]


STATUSES = ["active", "inactive", "all"]
ID = ma.validate.Range(min=1, max=DATABASE_INT_MAX)


ROLES = {
    "description": "The roles given besides employee (everyone is one): trainer, manager, "
    "admin. An admin holds every power."
}


def _role() -> Text:
    return Text(validate=ma.validate.OneOf(ROLE_VALUES))


class PersonDepartmentSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    name = Text(required=True)
    kind = ma.fields.Enum(DepartmentKind, by_value=True, required=True)


class PersonSchema(ma.Schema):
    """A person, as the admin pages show them."""

    id = ma.fields.Integer(required=True)
    email = Text(required=True)
    name = Text(required=True)
    department = ma.fields.Nested(PersonDepartmentSchema, required=True)
    roles = ma.fields.List(_role(), required=True, metadata=ROLES)
    active = ma.fields.Boolean(
        required=True, metadata={"description": "A deactivated person cannot sign in"}
    )
    created_at = ma.fields.DateTime(required=True)
    updated_at = ma.fields.DateTime(required=True)


PersonPageSchema = page_schema(PersonSchema, "PersonPage")


class PersonListArgsSchema(PageArgsSchema):
    """The admin people list's filters."""

    q = Text(
        load_default=None,
        validate=ma.validate.Length(max=200),
        metadata={"description": "Part of the name or e-mail"},
    )
    department = ma.fields.Integer(load_default=None, validate=ID)
    role = Text(
        load_default=None,
        validate=ma.validate.OneOf(ROLE_VALUES),
        metadata={"description": "Given this role (not merely holding its powers as an admin)"},
    )
    status = Text(
        load_default="active",
        validate=ma.validate.OneOf(STATUSES),
        metadata={"description": "Active (the default), deactivated (inactive), or all"},
    )


class PersonChangeSchema(ma.Schema):
    """What an admin may change about a person; what is left out stays as it is."""

    name = Text(validate=[ma.validate.Length(max=NAME_MAX)])
    department_id = ma.fields.Integer(strict=True, validate=ID)
    roles = ma.fields.List(
        _role(), validate=ma.validate.Length(max=len(ROLE_VALUES)), metadata=ROLES
    )
    active = ma.fields.Boolean(
        metadata={"description": "false deactivates: their sessions and tokens stop at once"}
    )


class DepartmentSchema(ma.Schema):
    """A department, with its number of active staff."""

    id = ma.fields.Integer(required=True)
    name = Text(required=True)
    kind = ma.fields.Enum(DepartmentKind, by_value=True, required=True)
    headcount = ma.fields.Integer(required=True, metadata={"description": "Active staff"})
    created_at = ma.fields.DateTime(required=True)


DepartmentPageSchema = page_schema(DepartmentSchema, "DepartmentPage")


class NewDepartmentSchema(ma.Schema):
    name = Text(required=True, validate=[ma.validate.Length(max=DEPARTMENT_NAME_MAX)])
    kind = ma.fields.Enum(DepartmentKind, by_value=True, required=True)


class DepartmentChangeSchema(ma.Schema):
    """What is left out stays as it is."""

    name = Text(validate=[ma.validate.Length(max=DEPARTMENT_NAME_MAX)])
    kind = ma.fields.Enum(DepartmentKind, by_value=True)
