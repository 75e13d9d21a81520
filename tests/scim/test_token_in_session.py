"""A new SCIM token crosses the session cookie only encrypted: the cookie is signed, not
secret, and copies of it end up in proxies' logs (SECURITY.md, "SCIM tokens")."""

from __future__ import annotations

import re

import pytest

from serviceideas.people.models import Role
from tests.people.conftest import text

TOKENS = "/admin/scim/tokens"


@pytest.fixture
def as_admin(client_as, make_user):
    return client_as(make_user(Role.ADMIN, name="Ada Admin"))


def session_contents(app, client) -> str:
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    assert cookie is not None
    serializer = app.session_interface.get_signing_serializer(app)
    return repr(serializer.loads(cookie.value))


def test_the_cookie_carries_the_new_token_sealed_and_the_page_shows_it_once(app, as_admin):
    made = as_admin.post(TOKENS, data={"name": "Okta"})
    assert made.status_code == 303
    carried = session_contents(app, as_admin)
    assert "scim_new_token" in carried  # waiting for the page...

    page = text(as_admin.get(TOKENS))
    shown = re.search(r'id="new-token-value"[^>]* value="(scim_[\w-]+)"', page)
    assert shown, "the page shows the token"
    assert shown.group(1) not in carried  # ...but not readable in the cookie
    assert "scim_new_token" not in session_contents(app, as_admin)
    assert shown.group(1) not in text(as_admin.get(TOKENS))
