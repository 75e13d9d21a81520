"""Company sign-in against a real OpenID provider (tests/identity_provider): the provider
itself first, then the app refusing every kind of bad ID token and taking a good one."""

from __future__ import annotations

import base64
import hashlib
import secrets
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
import sqlalchemy as sa

from serviceideas.extensions import db
from serviceideas.people.models import User
from tests.conftest import TEST_BASE_URL
from tests.identity_provider import MISCHIEF, IdentityProvider, path_and_query

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


# The app against the provider: one app for the module (the provider's settings do not change)


@pytest.fixture
def app_settings(identity_provider):
    return identity_provider.settings()


@pytest.fixture
def jane(oidc, make_user, make_department):
    """Jane, known to the app by her e-mail (in another case) and to the provider as "jane"."""
    person = make_user(email="jane.doe@example.com", name="Jane Doe")
    oidc.add_account(
        sub="jane",
        email="Jane.Doe@example.com",
        name="Jane Doe",
        given_name="Jane",
        family_name="Doe",
        department=person.department.name,
    )
    return person


def through_the_provider(client, oidc, sub="jane"):
    """The app's sign-in with the provider, as far as the app's callback, and its answer."""
    start = client.get("/login/oidc")
    assert start.status_code in (302, 303), start.status_code
    assert start.location.startswith(oidc.issuer)
    back = oidc.sign_in(start.location, sub)
    assert back.startswith(CALLBACK), back
    return client.get(path_and_query(back)), back


def signed_in(client):
    return client.get("/").status_code == 200


def test_a_sound_id_token_signs_the_person_in_matched_by_email(client, oidc, jane):
    response, _ = through_the_provider(client, oidc)

    assert response.status_code in (302, 303), response.get_data(as_text=True)
    home = client.get("/")
    assert home.status_code == 200
    assert "Hello, Jane" in home.get_data(as_text=True)
    assert jane.department.name in home.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.scalar(sa.select(User.oidc_subject).where(User.id == jane.id)) == "jane"


@pytest.mark.parametrize("mischief", MISCHIEF)
def test_a_bad_id_token_is_refused_and_nobody_is_signed_in(client, oidc, jane, mischief):
    oidc.mischief(mischief)

    response, _ = through_the_provider(client, oidc)

    assert response.status_code == 400, (mischief, response.status_code)
    assert "Sign in with Test IdP" in response.get_data(as_text=True)  # to start again
    assert not signed_in(client)
    db.session.expire_all()
    assert db.session.scalar(sa.select(User.oidc_subject).where(User.id == jane.id)) is None


def test_a_callback_replayed_after_signing_out_signs_nobody_in(client, oidc, jane):
    _, back = through_the_provider(client, oidc)
    assert signed_in(client)
    client.post("/logout")
    assert not signed_in(client)

    replayed = client.get(path_and_query(back))

    assert replayed.status_code == 400, replayed.status_code
    assert not signed_in(client)


def test_the_sign_out_form_may_go_on_to_the_provider(client, oidc):
    """Signing out ends at the provider's end-session endpoint: a redirect after the sign-out
    form, which the Content-Security-Policy's form-action must allow (browsers enforce it)."""
    policy = client.get("/login").headers["Content-Security-Policy"]

    form_action = next(part for part in policy.split(";") if "form-action" in part)
    assert form_action.split() == ["form-action", "'self'", oidc.issuer]
