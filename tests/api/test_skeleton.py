"""What every API request meets before any resource: the token, the problem details, and the
OpenAPI document."""

from __future__ import annotations

import re

from serviceideas.people.models import Role
from tests.api.conftest import API_ROOT


def test_the_openapi_document_is_3_1_and_public(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = response.get_json()
    assert document["openapi"] == "3.1.0"
    assert document["components"]["securitySchemes"]["token"]["scheme"] == "bearer"


def test_an_unknown_address_under_the_api_is_a_problem_not_a_page(api_as, make_user):
    response = api_as(make_user(Role.EMPLOYEE)).get("/no-such-thing")
    assert response.status_code == 404
    assert response.content_type == "application/problem+json"
    assert response.get_json()["status"] == 404


def test_a_body_that_is_not_json_is_a_problem_naming_the_body(api_as, make_user):
    response = api_as(make_user(Role.EMPLOYEE)).post(
        "/ideas", data=b"\x00", headers={"Content-Type": "application/json"}
    )
    assert response.status_code in {400, 422}
    assert response.content_type == "application/problem+json"
    assert response.get_json()["errors"] == {"json": ["Invalid JSON body."]}


def test_links_point_at_the_base_url_whatever_host_the_request_named(api_as, make_user, make_idea):
    """Paging links and Location headers are built from BASE_URL, never from the Host header a
    caller chooses (as every absolute link of the app: serviceideas/urls.py, `absolute`)."""
    make_idea(), make_idea()
    api = api_as(make_user(Role.EMPLOYEE))
    listed = api.get("/ideas?limit=1", headers={"Host": "localhost"})
    assert listed.get_json()["links"]["next"].startswith(API_ROOT + "/ideas?")
    assert listed.headers["Link"].startswith(f"<{API_ROOT}/ideas?")
    submitted = api.post(
        "/ideas",
        headers={"Host": "localhost"},
        json={
            "title": "Tell stores when a delivery will be late",
            "problem": "Stores hear of late deliveries from their customers.",
            "proposal": "Text the store as soon as a truck is late.",
            "lens": "care",
            "beneficiary_department_id": None,
        },
    )
    assert submitted.status_code == 201, submitted.get_json()
    assert submitted.headers["Location"].startswith(API_ROOT + "/ideas/")


def _operations_with_a_body(client):
    """Every API operation that reads a JSON body (its OpenAPI requestBody), with 1 for each
    path parameter."""
    document = client.get("/api/v1/openapi.json").get_json()
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if isinstance(operation, dict) and "requestBody" in operation:
                yield method.upper(), re.sub(r"\{[^}]+\}", "1", path).removeprefix("/api/v1")


def test_json_the_parser_cannot_read_is_a_400_on_every_body(client, api_as, make_user):
    """Nesting deeper than the decoder goes, or a number longer than Python reads, is unreadable
    JSON like any other: 400, never a 500."""
    api = api_as(make_user(roles=(Role.ADMIN, Role.MANAGER, Role.TRAINER)))
    operations = list(_operations_with_a_body(client))
    assert len(operations) > 10
    for body in ('{"body": ' + "[" * 1000 + "]" * 1000 + "}", '{"body": ' + "1" * 5000 + "}"):
        for method, path in operations:
            response = api.open(
                method, path, data=body, headers={"Content-Type": "application/json"}
            )
            assert response.status_code == 400, (method, path, response.status_code)
            assert response.content_type == "application/problem+json"
            assert response.get_json()["errors"] == {"json": ["Invalid JSON body."]}


def test_a_parameter_that_takes_one_value_sent_twice_is_a_422(api_as, make_user):
    """Not the first of them silently: the caller learns the second was not read."""
    api = api_as(make_user(Role.ADMIN))
    for path, name in [
        ("/ideas?sort=newest&sort=votes", "sort"),
        ("/ideas?limit=2&limit=3", "limit"),
        ("/people?status=active&status=inactive", "status"),
    ]:
        response = api.get(path)
        assert response.status_code == 422, path
        assert response.content_type == "application/problem+json"
        assert list(response.get_json()["errors"]) == [name], path
    assert api.get("/ideas?sort=newest&limit=2").status_code == 200
