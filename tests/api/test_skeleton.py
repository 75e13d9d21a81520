"""What every API request meets before any resource: the token, the problem details, and the
OpenAPI document."""

from __future__ import annotations

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
