"""Fixtures for the SCIM service's tests: a token an admin made, and a directory (a test client
that sends it as a bearer token, with JSON bodies as directories send them)."""

from __future__ import annotations

import json
from typing import Any

import pytest
import sqlalchemy as sa

from serviceideas.extensions import db
from serviceideas.people.models import Role
from serviceideas.scim import tokens
from serviceideas.scim.models import ScimRequest

SCIM = "/scim/v2"
MEDIA_TYPE = "application/scim+json"
USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
LIST_RESPONSE = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"


class Directory:
    """What a directory's provisioning sends: `Authorization: Bearer …`, JSON bodies as
    application/scim+json, paths relative to /scim/v2."""

    def __init__(self, client: Any, secret: str | None) -> None:
        self.client = client
        self.secret = secret

    def send(self, method: str, path: str, body: Any = None, **kwargs: Any) -> Any:
        headers = {"Accept": MEDIA_TYPE}
        if self.secret is not None:
            headers["Authorization"] = f"Bearer {self.secret}"
        if body is not None:
            kwargs["data"] = body if isinstance(body, str | bytes) else json.dumps(body)
            kwargs["content_type"] = MEDIA_TYPE
        return self.client.open(SCIM + path, method=method, headers=headers, **kwargs)

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.send("GET", path, **kwargs)

    def post(self, path: str, body: Any) -> Any:
        return self.send("POST", path, body)

    def put(self, path: str, body: Any) -> Any:
        return self.send("PUT", path, body)

    def patch(self, path: str, body: Any) -> Any:
        return self.send("PATCH", path, body)

    def delete(self, path: str) -> Any:
        return self.send("DELETE", path)


@pytest.fixture
def admin(make_user):
    return make_user(Role.ADMIN, name="Ada Admin")


@pytest.fixture
def token(admin):
    """A token made by the admin for Entra ID, and its secret."""
    made, secret = tokens.create_token(admin, "Microsoft Entra ID")
    db.session.commit()
    return made, secret


@pytest.fixture
def directory(client, token):
    return Directory(client, token[1])


@pytest.fixture
def sales(make_department):
    return make_department("Sales")


@pytest.fixture
def support(make_department):
    return make_department("Customer Support")


def body(response: Any) -> Any:
    return json.loads(response.get_data(as_text=True))


def scim_error(response: Any, status: int, scim_type: str | None = None) -> dict[str, Any]:
    """Check `response` is an RFC 7644 error (section 3.12) with this status and scimType."""
    assert response.status_code == status, (response.status_code, response.get_data()[:500])
    assert response.mimetype == MEDIA_TYPE
    error = body(response)
    assert error["schemas"] == [ERROR]
    assert error["status"] == str(status)  # a string, as RFC 7644's examples have it
    assert error.get("scimType") == scim_type
    assert error["detail"]
    return error


def log() -> list[ScimRequest]:
    return list(db.session.scalars(sa.select(ScimRequest).order_by(ScimRequest.id)))


def new_user(
    email: str = "jane.doe@example.com",
    *,
    given: str = "Jane",
    family: str = "Doe",
    department: str | None = "Sales",
    external_id: str = "b1c2d3",
    active: Any = True,
) -> dict[str, Any]:
    """A User as Entra ID sends it on creation."""
    user: dict[str, Any] = {
        "schemas": [USER_SCHEMA, ENTERPRISE],
        "externalId": external_id,
        "userName": email,
        "active": active,
        "displayName": f"{given} {family}",
        "emails": [{"primary": True, "type": "work", "value": email}],
        "meta": {"resourceType": "User"},
        "name": {"formatted": f"{given} {family}", "familyName": family, "givenName": given},
    }
    if department is not None:
        user[ENTERPRISE] = {"department": department}
    return user
