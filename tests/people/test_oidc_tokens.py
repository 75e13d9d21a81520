"""Company sign-in against a real OpenID provider (tests/identity_provider): the provider
itself first, then the app refusing every kind of bad ID token and taking a good one."""

from __future__ import annotations

import base64
import hashlib
import secrets
from urllib.parse import parse_qs, urlencode, urlsplit

import requests

from tests.conftest import TEST_BASE_URL
from tests.identity_provider import IdentityProvider

CALLBACK = f"{TEST_BASE_URL}/login/oidc/callback"


def authorize_url(provider: IdentityProvider, **params: str) -> str:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    query = {
        "client_id": provider.client_id,
        "response_type": "code",
        "scope": "openid email profile",
        "redirect_uri": CALLBACK,
        "state": "the-state",
        "nonce": "the-nonce",
        "code_challenge": challenge.rstrip(b"=").decode(),
        "code_challenge_method": "S256",
        **params,
    }
    return f"{provider.metadata()['authorization_endpoint']}?{urlencode(query)}"


def test_the_provider_signs_a_person_in_and_sends_them_back_with_a_code(oidc):
    metadata = oidc.metadata()
    assert metadata["issuer"] == oidc.issuer
    assert metadata["code_challenge_methods_supported"] == ["S256"]
    assert metadata["end_session_endpoint"].startswith(oidc.issuer)
    oidc.add_account(sub="jane", email="jane@example.com", department="Kitchen")

    back = urlsplit(oidc.sign_in(authorize_url(oidc), "jane"))

    assert f"{back.scheme}://{back.netloc}{back.path}" == CALLBACK
    query = parse_qs(back.query)
    assert query["state"] == ["the-state"]
    assert query["code"][0]


def test_the_provider_requires_pkce(oidc):
    oidc.add_account(sub="jane", email="jane@example.com")

    back = oidc.sign_in(authorize_url(oidc, code_challenge="", code_challenge_method=""), "jane")

    assert parse_qs(urlsplit(back).query)["error"] == ["invalid_request"]


def test_a_redirect_uri_that_is_not_registered_is_refused(oidc):
    oidc.add_account(sub="jane", email="jane@example.com")

    response = requests.get(
        authorize_url(oidc, redirect_uri=f"{TEST_BASE_URL}/elsewhere"), timeout=10
    )

    assert response.status_code == 400
    assert "redirect_uri did not match" in response.text
