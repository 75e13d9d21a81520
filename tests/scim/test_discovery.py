"""What the SCIM service says of itself (RFC 7644, section 4): what it supports, the one
resource type it serves (User, with the enterprise extension) and their schemas."""

from __future__ import annotations

from urllib.parse import quote

from tests.scim.conftest import ENTERPRISE, LIST_RESPONSE, MEDIA_TYPE, USER_SCHEMA, body, scim_error


def test_the_service_provider_config_says_what_is_supported(directory):
    response = directory.get("/ServiceProviderConfig")
    assert response.status_code == 200 and response.mimetype == MEDIA_TYPE
    config = body(response)
    assert config["schemas"] == ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"]
    assert config["patch"] == {"supported": True}
    assert config["filter"] == {"supported": True, "maxResults": 200}
    for unsupported in ("bulk", "sort", "changePassword", "etag"):
        assert config[unsupported]["supported"] is False
    (scheme,) = config["authenticationSchemes"]
    assert scheme["type"] == "oauthbearertoken" and scheme["primary"] is True
    assert config["meta"]["location"].endswith("/scim/v2/ServiceProviderConfig")


def test_users_are_the_one_resource_type(directory):
    listed = body(directory.get("/ResourceTypes"))
    assert listed["schemas"] == [LIST_RESPONSE] and listed["totalResults"] == 1
    (user,) = listed["Resources"]
    assert (user["id"], user["name"], user["endpoint"], user["schema"]) == (
        "User",
        "User",
        "/Users",
        USER_SCHEMA,
    )
    assert user["schemaExtensions"] == [{"schema": ENTERPRISE, "required": False}]
    assert body(directory.get("/ResourceTypes/User")) == user
    scim_error(directory.get("/ResourceTypes/Group"), 404)


def test_the_user_and_enterprise_user_schemas_are_published(directory):
    listed = body(directory.get("/Schemas"))
    assert [schema["id"] for schema in listed["Resources"]] == [USER_SCHEMA, ENTERPRISE]
    user = body(directory.get(f"/Schemas/{USER_SCHEMA}"))
    user_name = next(
        attribute for attribute in user["attributes"] if attribute["name"] == "userName"
    )
    assert (user_name["caseExact"], user_name["uniqueness"]) == (False, "server")
    enterprise = body(directory.get(f"/Schemas/{quote(ENTERPRISE)}"))
    assert "department" in {attribute["name"] for attribute in enterprise["attributes"]}
    scim_error(directory.get("/Schemas/urn:ietf:params:scim:schemas:core:2.0:Group"), 404)


def test_discovery_needs_a_token_too(client):
    response = client.get("/scim/v2/ServiceProviderConfig")
    scim_error(response, 401)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
