"""What keeps strangers and odd requests from hurting the directory's provisioning: the rate
limit counts only requests without a valid token, and big or odd bodies are refused before
they are read as a User."""

from __future__ import annotations

import pytest

from tests.conftest import count_queries
from tests.scim.conftest import ENTERPRISE, PATCH_OP, Directory, log, new_user, scim_error


def test_strangers_cannot_rate_limit_the_directory(client, directory):
    stranger = Directory(client, "scim_not-a-token")
    for _ in range(30):
        scim_error(stranger.get("/Users"), 401)
    for _ in range(5):
        scim_error(stranger.get("/Users"), 429)
    assert directory.get("/Users").status_code == 200
    patched = directory.patch("/Users/1", {"schemas": [], "Operations": []})
    assert patched.status_code != 429
    # Refused by the limiter, the strangers' requests over the limit write nothing.
    statuses = [line.status for line in log()]
    assert statuses.count(401) == 30 and 429 not in statuses
    assert len(statuses) == 32


def test_a_requests_token_is_looked_up_once(directory):
    with count_queries() as statements:
        assert directory.get("/ServiceProviderConfig").status_code == 200
    lookups = [each for each in statements if "FROM scim_tokens" in each]
    assert len(lookups) == 1


def patch(operations):
    return {"schemas": [PATCH_OP], "Operations": operations}


def test_a_costly_patch_is_refused_before_it_is_read(directory, sales):
    user = directory.post("/Users", new_user()).get_json()
    where = f"/Users/{user['id']}"
    # The reviewer's: many addresses added, then as many replaced one by one through a filter.
    addresses = [{"value": f"a{n}@example.com", "type": "other"} for n in range(60)]
    costly = [{"op": "add", "path": "emails", "value": addresses}] + [
        {"op": "replace", "path": f'emails[value eq "a{n}@example.com"].display', "value": "x"}
        for n in range(60)
    ]
    error = scim_error(directory.patch(where, patch(costly)), 400, "invalidValue")
    assert "at most 50 operations" in error["detail"]
    error = scim_error(directory.patch(where, patch(costly[:2])), 400, "invalidValue")
    assert "at most 10 items" in error["detail"]
    listed = new_user(department=None) | {"emails": addresses[:11]}
    scim_error(directory.put(where, listed), 400, "invalidValue")
    scim_error(
        directory.post("/Users", new_user("joe@example.com") | {"x": [[1] * 11]}),
        400,
        "invalidValue",
    )
    display = {"op": "replace", "path": "displayName", "value": "Jane D."}
    assert directory.patch(where, patch([display] * 50)).status_code == 200


def test_a_body_over_64_kb_is_refused_as_too_large(directory, sales):
    big = new_user() | {"nickName": "x" * (64 * 1024)}
    error = scim_error(directory.post("/Users", big), 413)
    assert "64 KB" in error["detail"]
    assert directory.post("/Users", new_user() | {"nickName": "x" * 60_000}).status_code == 201


def test_a_deeply_nested_body_is_a_400(directory, sales):
    scim_error(directory.post("/Users", "[" * 30_000 + "]" * 30_000), 400, "invalidSyntax")
    nested = '{"userName": "a@example.com", "name": ' + '{"x": ' * 5000 + "1" + "}" * 5001
    assert 400 <= directory.post("/Users", nested).status_code < 500


@pytest.mark.parametrize(
    "fields",
    [
        {"externalId": "b1\x00"},
        {ENTERPRISE: {"department": "Sales\x00"}},
        {"name": {"formatted": "Jane\x00 Doe"}},
        {"nickName\x00": "J"},
    ],
)
def test_a_nul_character_anywhere_in_a_body_is_an_invalid_value(directory, sales, fields):
    error = scim_error(directory.post("/Users", new_user() | fields), 400, "invalidValue")
    assert "NUL" in error["detail"]
    user = directory.post("/Users", new_user()).get_json()
    operation = {"op": "replace", "path": "externalId", "value": "x\x00"}
    scim_error(directory.patch(f"/Users/{user['id']}", patch([operation])), 400, "invalidValue")


def test_a_nul_character_in_the_address_is_logged_escaped(client, directory):
    scim_error(Directory(client, None).get("/Users/%00"), 401)
    scim_error(directory.get("/Users/%00"), 404)
    scim_error(directory.get("/Users?filter=%00"), 400)  # the app's own, for any address
    assert [line.path for line in log()] == [
        "/scim/v2/Users/\\0",
        "/scim/v2/Users/\\0",
        "/scim/v2/Users?filter=%00",
    ]
    assert all("\x00" not in line.outcome for line in log())
