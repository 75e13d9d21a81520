"""Every state-changing route refuses a request without a valid CSRF token."""

from __future__ import annotations

import re

import pytest

from serviceideas.people.models import Role
from tests.test_access_matrix import build_url

STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}
# Routes whose proof is something other than a CSRF token, each with the reason.
EXEMPT = {
    # A signed per-person link; mail apps' one-click unsubscribe (RFC 8058) POSTs no token.
    "notifications.unsubscribe",
    # The identity provider's signature on the logout token (tests/people/test_oidc_backchannel.py).
    "oidc.backchannel_logout",
}


@pytest.fixture
def app_settings():
    return {"WTF_CSRF_ENABLED": True}


def state_changing_routes(app):
    return sorted(
        (rule.endpoint, method)
        for rule in app.url_map.iter_rules()
        for method in rule.methods & STATE_CHANGING
        if rule.endpoint not in EXEMPT
        # The SCIM service and the API: a bearer token is the proof, never a cookie, so a
        # forged cross-site request carries nothing (tests/scim and tests/api check tokens).
        and not rule.endpoint.startswith(("scim.", "api_", "api-docs."))
    )


def test_there_are_state_changing_routes_to_check(app):
    assert len(state_changing_routes(app)) >= 8


def test_every_state_changing_route_refuses_a_missing_token(app, client_as, make_user, url_values):
    admin = make_user(Role.ADMIN)
    for endpoint, method in state_changing_routes(app):
        client = client_as(admin)
        response = client.open(build_url(app, endpoint, url_values), method=method, data={})
        assert response.status_code == 400, endpoint
        assert "did not come from this site" in response.get_data(as_text=True), endpoint


def test_a_wrong_token_is_refused_too(app, client_as, make_user):
    client = client_as(make_user(Role.ADMIN))
    response = client.post(
        "/admin/departments",
        data={"name": "X", "kind": "front_line"},
        headers={"X-CSRFToken": "forged"},
    )
    assert response.status_code == 400


def test_the_token_from_the_page_works_in_the_htmx_header(app, client_as, make_user):
    client = client_as(make_user(Role.ADMIN))
    page = client.get("/admin/departments").get_data(as_text=True)
    token = re.search(r'"X-CSRFToken": "([^"]+)"', page).group(1)
    response = client.post(
        "/admin/departments",
        data={"name": "Logistics", "kind": "back_office"},
        headers={"X-CSRFToken": token, "HX-Request": "true"},
    )
    assert response.status_code == 303


def test_csrf_refusal_is_a_fragment_for_htmx(app, client_as, make_user):
    client = client_as(make_user(Role.ADMIN))
    response = client.post("/admin/departments", data={}, headers={"HX-Request": "true"})
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert body.lstrip().startswith('<article id="error"')
