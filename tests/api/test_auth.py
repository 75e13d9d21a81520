"""Who the API lets in: a live personal access token, within its scopes and its person's roles
of today, never a session cookie; rate-limited per token; its last use stamped after the
request, at most once a minute (docs/architecture.md, "Tokens and rate limits")."""

from __future__ import annotations

import secrets
from datetime import timedelta

import pytest
import sqlalchemy as sa

from serviceideas.api.models import ApiToken
from serviceideas.database import utcnow
from serviceideas.extensions import db
from serviceideas.people import services as people
from serviceideas.people.models import Role
from tests.api.conftest import ApiClient
from tests.api.probe import LIMIT, PROBE_SETTINGS, add_probe
from tests.conftest import count_queries


@pytest.fixture
def app_settings():
    return PROBE_SETTINGS


@pytest.fixture
def app(app):
    return add_probe(app)


@pytest.fixture
def api_with(app):
    """A client sending `secret` as its bearer token, with no cookies."""
    return lambda secret: ApiClient(app.test_client(use_cookies=False), secret)


def refused_with(response, status):
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.content_type == "application/problem+json"
    assert response.get_json()["status"] == status
    return response.get_json()


def test_a_live_token_acts_as_its_person(api_as, make_user):
    person = make_user()
    response = api_as(person).get("/probe")
    assert (response.status_code, response.get_json()) == (200, {"id": person.id})


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer", "Bearer si_not-a-token", "Basic c2k6", "Bearer " + "si_" + "a" * 200],
)
def test_no_live_token_is_a_401(app, authorization):
    headers = {"Authorization": authorization} if authorization else {}
    response = app.test_client().get("/api/v1/probe", headers=headers)
    refused_with(response, 401)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_signed_in_browser_session_is_never_let_in(client_as, make_user, method):
    """The session cookie never authenticates under /api/v1, so a page elsewhere cannot make a
    signed-in browser write through the API (no CSRF token is asked for here)."""
    browser = client_as(make_user(Role.ADMIN))
    assert browser.get("/notifications").status_code == 200  # signed in indeed
    refused_with(browser.open("/api/v1/probe", method=method, json={}), 401)


def test_an_expired_or_revoked_token_is_a_401(make_user, make_token, api_with):
    person = make_user()
    expired = make_token(person, expires_in=timedelta(seconds=-1))
    refused_with(api_with(expired).get("/probe"), 401)
    live = make_token(person, name="live")
    assert api_with(live).get("/probe").status_code == 200
    db.session.execute(
        sa.update(ApiToken).where(ApiToken.name == "live").values(revoked_at=utcnow())
    )
    refused_with(api_with(live).get("/probe"), 401)


def test_a_deactivated_persons_token_stops_at_once(make_user, api_as):
    admin, person = make_user(Role.ADMIN), make_user()
    api = api_as(person)
    assert api.get("/probe").status_code == 200
    people.set_active(admin, person, False)
    db.session.commit()
    refused_with(api.get("/probe"), 401)
    refused_with(api.post("/probe", json={}), 401)
    people.set_active(admin, person, True)  # back: the token works again, until it expires
    db.session.commit()
    assert api.get("/probe").status_code == 200


def test_a_scope_the_token_lacks_is_a_403(make_user, api_as):
    api = api_as(make_user(Role.ADMIN), scopes=("read",))
    assert api.get("/probe").status_code == 200
    assert "'write' scope" in refused_with(api.post("/probe", json={}), 403)["detail"]
    refused_with(api.post("/probe/review", json={}), 403)
    refused_with(api.get("/probe/admin"), 403)


def test_a_token_whose_person_lost_a_role_loses_its_scope(make_user, api_as):
    admin, manager = make_user(Role.ADMIN), make_user(Role.MANAGER)
    api = api_as(manager)  # read, write, review (and admin, which the roles never allowed)
    assert api.post("/probe/review", json={}).status_code == 200
    refused_with(api.get("/probe/admin"), 403)
    people.update_user(
        manager, name=manager.name, department=manager.department, roles=(), acting=admin
    )
    db.session.commit()
    refused_with(api.post("/probe/review", json={}), 403)
    assert api.get("/probe").status_code == 200  # what an employee may do, it still does
    assert api.post("/probe", json={}).status_code == 200


def test_the_rate_limit_counts_each_token_on_its_own(make_user, api_as):
    first, second = api_as(make_user()), api_as(make_user())
    for _ in range(LIMIT):
        assert first.get("/probe").status_code == 200
    refused_with(first.get("/probe"), 429)
    refused_with(first.post("/probe", json={}), 429)
    assert second.get("/probe").status_code == 200


def test_made_up_tokens_share_their_address_count(app, api_with):
    """A token that is not live is counted by address, like no token: inventing a new one for
    each request gets no fresh counter (nor a new counter row each time)."""
    for _ in range(LIMIT):
        refused_with(api_with("si_" + secrets.token_urlsafe(32)).get("/probe"), 401)
    answer = refused_with(api_with("si_" + secrets.token_urlsafe(32)).get("/probe"), 429)
    assert answer["detail"] == "Too many requests."
    refused_with(api_with(None).get("/probe"), 429)


def test_a_429_says_when_to_come_back(make_user, api_as):
    api = api_as(make_user())
    for _ in range(LIMIT):
        assert api.get("/probe").status_code == 200
    response = api.get("/probe")
    refused_with(response, 429)
    assert 0 < int(response.headers["Retry-After"]) <= 60


def writes(statements):
    """The statements that wrote, but for the rate limit's counters (tests/test_rate_limits.py)."""
    return [
        statement
        for statement in statements
        if statement.lstrip().upper().startswith(("UPDATE", "INSERT", "DELETE"))
        and "rate_limit_counters" not in statement
    ]


def last_used(secret_name: str):
    db.session.expire_all()
    return db.session.scalar(sa.select(ApiToken.last_used_at).where(ApiToken.name == secret_name))


def test_the_last_use_is_stamped_after_a_get_at_most_once_a_minute(make_user, make_token, api_with):
    api = api_with(make_token(make_user(), name="script"))
    assert last_used("script") is None
    before = utcnow()
    with count_queries() as first:
        assert api.get("/probe").status_code == 200
    stamped = last_used("script")
    assert stamped is not None and before <= stamped <= utcnow()
    assert len(writes(first)) == 1 and "api_tokens" in writes(first)[0]  # the stamp alone

    with count_queries() as again:  # within the minute: nothing written
        assert api.get("/probe").status_code == 200
        assert api.post("/probe", json={}).status_code == 200
    assert writes(again) == []
    assert last_used("script") == stamped

    db.session.execute(
        sa.update(ApiToken)
        .where(ApiToken.name == "script")
        .values(last_used_at=stamped - timedelta(minutes=2))
    )
    assert api.post("/probe", json={}).status_code == 200
    assert last_used("script") >= stamped


def test_a_token_let_in_is_stamped_even_if_refused_a_scope_a_dead_one_never(
    make_user, make_token, api_with
):
    api = api_with(make_token(make_user(), scopes=("read",), name="script"))
    refused_with(api.post("/probe", json={}), 403)  # let in, then refused: it was used
    assert last_used("script") is not None
    expired = api_with(make_token(make_user(), expires_in=timedelta(seconds=-1), name="old"))
    refused_with(expired.get("/probe"), 401)
    assert last_used("old") is None
