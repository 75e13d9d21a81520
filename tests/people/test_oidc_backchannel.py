"""The provider signs people out here too (OpenID Connect Back-Channel Logout 1.0;
docs/architecture.md, "Back-channel logout"): a logout token the provider signed ends every
session of the person it names at once; any other is a 400 that signs nobody out. Then the
real thing: a person signs out at the provider, and the provider calls the app."""

from __future__ import annotations

import base64
import json
import time
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st

from serviceideas.extensions import db
from serviceideas.people.models import User
from tests.browser.conftest import LiveServer
from tests.identity_provider import (
    IdentityProvider,
    free_port,
    path_and_query,
    skip_unless_available,
)

LOGOUT = "/login/oidc/backchannel-logout"


@pytest.fixture
def app_settings(identity_provider):
    return identity_provider.settings()


@pytest.fixture
def jane(make_user):
    """Jane, linked to the provider's "jane", signed in on two devices."""
    person = make_user(email="jane@example.com")
    person.oidc_subject = "jane"
    db.session.commit()
    return person


def session_token(person):
    db.session.commit()  # a fresh read: the live server's writes are in other transactions
    return db.session.scalar(sa.select(User.session_token).where(User.id == person.id))


def signed_in(client):
    return client.get("/").status_code == 200


def post_logout(client, token):
    return client.post(LOGOUT, data={"logout_token": token})


def test_a_sound_logout_token_signs_the_person_out_on_every_device(
    client, client_as, oidc, jane, make_user
):
    phone, laptop = client_as(jane), client_as(jane)
    someone_else = client_as(make_user())
    assert signed_in(phone) and signed_in(laptop)

    response = post_logout(client, oidc.logout_token(sub="jane"))

    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"
    for device in (phone, laptop):
        landed = device.get("/")
        assert landed.status_code == 302
        assert urlsplit(landed.location).path == "/login"
    assert signed_in(someone_else)


# Each case: how the token differs from a sound one, and words of the reason given.
BAD_TOKENS = {
    "wrong signature": ({"forged": True}, "bad_signature"),
    "wrong audience": ({"aud": "another-application"}, "'aud'"),
    "wrong issuer": ({"iss": "http://127.0.0.1:9/another-provider"}, "'iss'"),
    "no events": ({"events": None}, "no http://schemas.openid.net/event/backchannel-logout"),
    "another event": (
        {"events": {"http://schemas.openid.net/event/something-else": {}}},
        "no http://schemas.openid.net/event/backchannel-logout",
    ),
    "a nonce": ({"nonce": "an-id-token-s"}, "must not have a nonce"),
    "issued in the future": (
        {"iat": int(time.time()) + 3600, "exp": int(time.time()) + 7200},
        "issued in the future",
    ),
    "issued long ago": ({"iat": int(time.time()) - 3600, "exp": None}, "too long ago"),
    "expired": ({"iat": int(time.time()) - 300, "exp": int(time.time()) - 180}, "expired"),
    "no jti": ({"jti": None}, "'jti'"),
    "a session id but no subject": ({"sub": None, "sid": "a-session"}, "names no subject"),
}


@pytest.mark.parametrize("case", sorted(BAD_TOKENS))
def test_a_bad_logout_token_is_a_400_and_signs_nobody_out(client, client_as, oidc, jane, case):
    device = client_as(jane)
    before = session_token(jane)

    claims, reason = BAD_TOKENS[case]

    response = post_logout(client, oidc.logout_token(**{"sub": "jane", **claims}))

    assert response.status_code == 400, (case, response.get_data(as_text=True))
    assert response.headers["Cache-Control"] == "no-store"
    assert response.json["error"] == "invalid_request"
    assert reason in response.json["error_description"]
    assert session_token(jane) == before
    assert signed_in(device)


@pytest.mark.parametrize("sent", [{}, {"logout_token": ""}, {"logout_token": "not-a-jwt"}])
def test_a_request_without_a_usable_token_is_a_400(client, oidc, sent):
    response = client.post(LOGOUT, data=sent)

    assert response.status_code == 400
    assert response.json["error"] == "invalid_request"


def test_a_logout_token_is_taken_once(client, client_as, oidc, jane):
    token = oidc.logout_token(sub="jane")
    assert post_logout(client, token).status_code == 200
    device = client_as(jane)  # signed in again since
    assert signed_in(device)

    replayed = post_logout(client, token)

    assert replayed.status_code == 400
    assert "used already" in replayed.json["error_description"]
    assert signed_in(device)


def test_a_subject_nobody_here_has_is_a_200_that_changes_nothing(client, client_as, oidc, jane):
    device = client_as(jane)
    before = session_token(jane)

    response = post_logout(client, oidc.logout_token(sub="someone-unknown"))

    assert response.status_code == 200
    assert session_token(jane) == before
    assert signed_in(device)


def test_failures_count_against_the_sign_in_limit_per_address(app, client, oidc, jane):
    app.config["LOGIN_RATE_LIMIT"] = "2 per minute"
    assert post_logout(client, oidc.logout_token(sub="jane")).status_code == 200  # not counted
    for _ in range(2):
        assert post_logout(client, "not-a-jwt").status_code == 400

    assert post_logout(client, oidc.logout_token(sub="jane")).status_code == 429


def segment(value):
    return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=8,
)
# Anything at all, and JWT-shaped tokens of any header and claims (signed by nobody).
odd_tokens = st.text() | st.builds(
    lambda header, claims, signature: f"{segment(header)}.{segment(claims)}.{signature}",
    st.one_of(json_values, st.fixed_dictionaries({"alg": json_values, "kid": json_values})),
    st.one_of(json_values, st.fixed_dictionaries({"sub": json_values, "iat": json_values})),
    st.text(alphabet="abcdefghijklmnopqrstuvwxyzABC0123456789-_", max_size=40),
)


@given(token=odd_tokens)
def test_any_odd_token_is_a_400_never_a_500(app, client, oidc, token):
    app.config["LOGIN_RATE_LIMIT"] = "100000 per minute"  # every example is a failure

    response = post_logout(client, token)

    assert response.status_code == 400, (token, response.get_data(as_text=True))
    assert response.json["error"] == "invalid_request"


class TestAProviderThatDoesNotAnswer:
    @pytest.fixture
    def app_settings(self, identity_provider):
        return identity_provider.settings(OIDC_ISSUER=f"http://127.0.0.1:{free_port()}")

    def test_its_keys_cannot_be_read_so_the_answer_is_a_503(self, client, oidc, jane):
        response = post_logout(client, oidc.logout_token(sub="jane"))

        assert response.status_code == 503
        assert response.json["error"] == "temporarily_unavailable"
        assert "does not answer" in response.json["error_description"]


class TestWithoutCompanySignIn:
    @pytest.fixture
    def app_settings(self):
        return {}

    def test_the_address_is_not_there(self, client, oidc, jane):
        assert post_logout(client, oidc.logout_token(sub="jane")).status_code == 404


# The real thing: the provider calls the app when the person signs out there


@pytest.fixture(scope="module")
def base_url_of_this_module():
    """The live server's address, chosen before the provider registers it."""
    return f"http://127.0.0.1:{free_port()}"


@pytest.fixture(scope="module")
def calling_provider(base_url_of_this_module):
    """A provider of its own (the shared one knows no back-channel address), which POSTs
    logout tokens to the live app."""
    skip_unless_available()
    base = base_url_of_this_module
    with IdentityProvider(
        [f"{base}/login/oidc/callback"],
        [f"{base}/login"],
        backchannel_logout_uri=f"{base}{LOGOUT}",
    ) as provider:
        yield provider


class TestTheProviderCallsTheApp:
    @pytest.fixture
    def app_settings(self, calling_provider, base_url_of_this_module):
        # CSRF protection on, as in production: the provider sends no token, and needs none.
        return {
            "BASE_URL": base_url_of_this_module,
            "WTF_CSRF_ENABLED": True,
            **calling_provider.settings(),
        }

    def test_signing_out_at_the_provider_ends_the_session_here(
        self, app, client, calling_provider, base_url_of_this_module, make_user
    ):
        person = make_user(email="jane@example.com")
        calling_provider.add_account(sub="jane", email="jane@example.com")
        port = int(base_url_of_this_module.rsplit(":", 1)[1])
        with LiveServer(app, port=port):
            back = calling_provider.sign_in(client.get("/login/oidc").location, "jane")
            assert client.get(path_and_query(back)).status_code == 303
            assert signed_in(client)
            before = session_token(person)

            # Elsewhere (another application, the provider's own page): the end-session
            # endpoint, without the app's ID token, in the person's browser at the provider.
            calling_provider.sign_out(calling_provider.metadata()["end_session_endpoint"])
            log = calling_provider.log_file.read_text()

        assert "back-channel logout of jane at serviceideas: done" in log
        assert session_token(person) != before
        assert not signed_in(client)
