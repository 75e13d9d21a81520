"""The request sequences Microsoft Entra ID and Okta send when they provision people, replayed
as they send them (their payloads, their spelling of PATCH paths and operations), and checked
against the responses RFC 7644 prescribes. Every request leaves one line in the log."""

from __future__ import annotations

import sqlalchemy as sa

from serviceideas.extensions import db
from serviceideas.people.models import User
from tests.scim.conftest import (
    ENTERPRISE,
    LIST_RESPONSE,
    MEDIA_TYPE,
    PATCH_OP,
    USER_SCHEMA,
    body,
    log,
    scim_error,
)

MANAGER = "26118915-6090-4610-87a4-e5e0a8d3c4b6"  # Entra ID sends a manager as a bare id


def person(person_id):
    db.session.expire_all()
    return db.session.get(User, int(person_id))


def listed(response, total):
    """An RFC 7644 ListResponse (section 3.4.2) holding `total` Users."""
    assert response.status_code == 200 and response.mimetype == MEDIA_TYPE
    answer = body(response)
    assert answer["schemas"] == [LIST_RESPONSE]
    assert answer["totalResults"] == total
    assert answer["startIndex"] == 1
    assert answer["itemsPerPage"] == len(answer["Resources"]) == total
    return answer["Resources"]


def a_user(response, status=200):
    """A User resource (RFC 7643, section 4.1) as the answer to a request."""
    assert response.status_code == status, body(response)
    assert response.mimetype == MEDIA_TYPE
    user = body(response)
    assert USER_SCHEMA in user["schemas"]
    assert user["id"].isdigit()
    assert user["meta"]["resourceType"] == "User"
    assert user["meta"]["location"].endswith(f"/scim/v2/Users/{user['id']}")
    return user


def entra_patch(*operations):
    return {"schemas": [PATCH_OP], "Operations": list(operations)}


def test_microsoft_entra_id_provisions_updates_and_deprovisions(directory, token, make_department):
    make_department("Sales")
    make_department("Customer Support")

    # "Test connection" asks for a user who cannot exist.
    probe = 'userName eq "a8f3e6c0-5f7e-4b8a-9d6b-2f1e4c7d9a01"'
    assert listed(directory.get("/Users", query_string={"filter": probe}), 0) == []

    # A person comes into scope: looked up by userName, then created.
    lookup = {"filter": 'userName eq "Adele.Vance@contoso.com"'}
    assert listed(directory.get("/Users", query_string=lookup), 0) == []
    created = a_user(
        directory.post(
            "/Users",
            {
                "schemas": [USER_SCHEMA, ENTERPRISE],
                "externalId": "Adele.Vance",
                "userName": "Adele.Vance@contoso.com",
                "active": True,
                "displayName": "Adele Vance",
                "emails": [{"primary": True, "type": "work", "value": "Adele.Vance@contoso.com"}],
                "meta": {"resourceType": "User"},
                "name": {"formatted": "Adele Vance", "familyName": "Vance", "givenName": "Adele"},
                "roles": [],
                "title": "Retail Manager",
                "preferredLanguage": "en-US",
                "addresses": [{"type": "work", "locality": "Seattle", "country": "US"}],
                "phoneNumbers": [{"type": "work", "value": "+1 425 555 0109"}],
                ENTERPRISE: {"department": "Sales", "employeeNumber": "4711"},
            },
        ),
        status=201,
    )
    adele_id = created["id"]
    adele = person(adele_id)
    assert (adele.email, adele.name, adele.department.name) == (
        "adele.vance@contoso.com",
        "Adele Vance",
        "Sales",
    )

    # The next cycle finds her, case aside, and reads her.
    (found,) = listed(
        directory.get("/Users", query_string={"filter": 'userName eq "adele.vance@CONTOSO.com"'}),
        1,
    )
    assert found["id"] == adele_id and found["active"] is True
    assert a_user(directory.get(f"/Users/{adele_id}"))["userName"] == "adele.vance@contoso.com"

    # Her name, address and department change: Entra's paths, its capitalised op names.
    changed = a_user(
        directory.patch(
            f"/Users/{adele_id}",
            entra_patch(
                {"op": "Replace", "path": "name.givenName", "value": "Adèle"},
                {"op": "Replace", "path": "name.familyName", "value": "Vance-Smith"},
                {"op": "Replace", "path": "displayName", "value": "Adèle Vance-Smith"},
                {
                    "op": "Replace",
                    "path": 'emails[type eq "work"].value',
                    "value": "Adele.VanceSmith@contoso.com",
                },
                {"op": "Add", "path": f"{ENTERPRISE}:department", "value": "Customer Support"},
                {"op": "Add", "path": f"{ENTERPRISE}:employeeNumber", "value": "4712"},
                # What the app does not keep is accepted and changes nothing, whatever its shape.
                {"op": "Add", "path": f"{ENTERPRISE}:manager", "value": MANAGER},
                {"op": "Add", "path": 'phoneNumbers[type eq "mobile"].value', "value": "+1 555"},
            ),
        )
    )
    adele = person(adele_id)
    assert (adele.name, adele.department.name) == ("Adèle Vance-Smith", "Customer Support")
    assert changed[ENTERPRISE] == {"department": "Customer Support"}

    # Her sign-in name changes, then her externalId and department as one value object.
    a_user(
        directory.patch(
            f"/Users/{adele_id}",
            entra_patch(
                {"op": "Replace", "path": "userName", "value": "Adele.VanceSmith@contoso.com"},
                {"op": "Replace", "path": "externalId", "value": "Adele.VanceSmith"},
                {"op": "Replace", "value": {ENTERPRISE: {"department": "sales"}}},
                {"op": "Remove", "path": f"{ENTERPRISE}:manager", "value": [{"value": MANAGER}]},
            ),
        )
    )
    adele = person(adele_id)
    assert (adele.email, adele.scim_external_id, adele.department.name) == (
        "adele.vancesmith@contoso.com",
        "Adele.VanceSmith",
        "Sales",
    )

    # She leaves: her account is disabled, with Entra's string boolean.
    disabled = a_user(
        directory.patch(
            f"/Users/{adele_id}",
            entra_patch({"op": "Replace", "path": "active", "value": "False"}),
        )
    )
    assert disabled["active"] is False and person(adele_id).active is False

    # Out of scope at last: deleted, which only deactivates.
    assert directory.delete(f"/Users/{adele_id}").status_code == 204
    assert a_user(directory.get(f"/Users/{adele_id}"))["active"] is False

    lines = log()
    assert [(line.method, line.status) for line in lines] == [
        ("GET", 200),
        ("GET", 200),
        ("POST", 201),
        ("GET", 200),
        ("GET", 200),
        ("PATCH", 200),
        ("PATCH", 200),
        ("PATCH", 200),
        ("DELETE", 204),
        ("GET", 200),
    ]
    assert {line.token_id for line in lines} == {token[0].id}
    assert [line.person_id for line in lines] == [None, None] + [int(adele_id)] * 8
    assert lines[2].outcome == "Created adele.vance@contoso.com"
    assert lines[7].outcome == "Deactivated adele.vancesmith@contoso.com"


def test_entra_ids_second_create_of_the_same_person_is_a_uniqueness_error(directory, sales):
    user = {
        "schemas": [USER_SCHEMA, ENTERPRISE],
        "externalId": "Lee.Gu",
        "userName": "Lee.Gu@contoso.com",
        "active": "True",
        "displayName": "Lee Gu",
        "name": {"formatted": "Lee Gu", "familyName": "Gu", "givenName": "Lee"},
        ENTERPRISE: {"department": "Sales"},
    }
    assert directory.post("/Users", user).status_code == 201
    error = scim_error(directory.post("/Users", user), 409, "uniqueness")
    assert "already exists" in error["detail"]


def test_okta_provisions_with_put_and_deactivates_with_a_value_object(directory, make_department):
    make_department("Engineering")
    make_department("Research")

    lookup = {"filter": 'userName eq "test.user@example.org"', "startIndex": 1, "count": 100}
    assert listed(directory.get("/Users", query_string=lookup), 0) == []

    created = a_user(
        directory.post(
            "/Users",
            {
                "schemas": [USER_SCHEMA, ENTERPRISE],
                "userName": "test.user@example.org",
                "name": {"givenName": "Test", "familyName": "User"},
                "emails": [{"primary": True, "value": "test.user@example.org", "type": "work"}],
                "displayName": "Test User",
                "locale": "en-US",
                "externalId": "00ujl29u0le5T6Aj10h7",
                "groups": [],
                "password": "1mz050nq",
                "active": True,
                ENTERPRISE: {"department": "Engineering"},
            },
        ),
        status=201,
    )
    user_id = created["id"]
    assert (person(user_id).name, person(user_id).department.name) == ("Test User", "Engineering")

    (found,) = listed(directory.get("/Users", query_string=lookup), 1)
    assert found["id"] == user_id
    current = a_user(directory.get(f"/Users/{user_id}"))

    # A profile change: Okta PUTs the whole user back, with what it read.
    current["name"] = {"givenName": "Another", "familyName": "User"}
    current["displayName"] = "Another User"
    current[ENTERPRISE] = {"department": "Research"}
    current["password"] = "1mz050nq"
    replaced = a_user(directory.put(f"/Users/{user_id}", current))
    assert replaced["name"] == {"formatted": "Another User"}
    assert (person(user_id).name, person(user_id).department.name) == ("Another User", "Research")

    # Deactivation: a replace without a path, its value an object.
    deactivate = {
        "schemas": [PATCH_OP],
        "Operations": [{"op": "replace", "value": {"active": False}}],
    }
    assert a_user(directory.patch(f"/Users/{user_id}", deactivate))["active"] is False
    assert person(user_id).active is False

    # Reactivation, and an import of everyone a page at a time.
    reactivate = {
        "schemas": [PATCH_OP],
        "Operations": [{"op": "replace", "value": {"active": True}}],
    }
    assert a_user(directory.patch(f"/Users/{user_id}", reactivate))["active"] is True
    everyone = body(directory.get("/Users", query_string={"startIndex": 1, "count": 100}))
    assert user_id in {user["id"] for user in everyone["Resources"]}

    # Okta's PUT-only mode deactivates with the whole user, active false.
    current = a_user(directory.get(f"/Users/{user_id}"))
    current["active"] = False
    assert a_user(directory.put(f"/Users/{user_id}", current))["active"] is False

    assert [(line.method, line.status) for line in log()] == [
        ("GET", 200),
        ("POST", 201),
        ("GET", 200),
        ("GET", 200),
        ("PUT", 200),
        ("PATCH", 200),
        ("PATCH", 200),
        ("GET", 200),
        ("GET", 200),
        ("PUT", 200),
    ]
    assert db.session.scalar(sa.select(sa.func.count(User.id))) == 2  # the admin, the user
