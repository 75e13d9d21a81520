"""One-time password-set links through HTTP: the rate limit on submitting them, and links
that are used up or too old. (Creating a link is admin-only: tests/people/test_admin_routes.py;
a link dies with a deactivation: tests/test_bad_input.py.)"""

from __future__ import annotations

import time

from itsdangerous import TimestampSigner

from serviceideas.people import services
from tests.conftest import PASSWORD

SUBMISSIONS_PER_MINUTE = 20  # @limiter.limit on auth.set_password
HOUR = 60 * 60


def submit(client, link, password, confirm=None, address="192.0.2.1"):
    return client.post(
        link,
        data={"password": password, "confirm": password if confirm is None else confirm},
        environ_base={"REMOTE_ADDR": address},
    )


def test_password_link_submissions_are_rate_limited_per_address(client, make_user):
    person = make_user(password=None)
    link = f"/password/{services.password_set_token(person)}"
    statuses = [
        submit(client, link, f"guess number {n}", "something else").status_code
        for n in range(SUBMISSIONS_PER_MINUTE)
    ]
    assert statuses == [422] * SUBMISSIONS_PER_MINUTE  # each one reached the form

    refused = submit(client, link, "a good new password")
    page = refused.get_data(as_text=True)
    assert refused.status_code == 429
    assert "Too many attempts" in page and "wait a minute" in page
    assert services.find_user(person.email).password_hash is None  # even a good one is refused

    # The limit is per address, not per link: trying other tokens does not get round it.
    assert submit(client, "/password/another.token", "a good new password").status_code == 429
    # Someone else, at another address, is not held up.
    assert submit(client, link, "short", address="192.0.2.2").status_code == 422


def test_a_used_link_cannot_set_a_second_password(client, make_user):
    person = make_user(password=None)
    link = f"/password/{services.password_set_token(person)}"
    assert submit(client, link, "the first new password").status_code == 303

    again = submit(client, link, "a second new password")
    assert again.status_code == 404
    assert "no longer works" in again.get_data(as_text=True)
    assert services.authenticate(person.email, "the first new password") is not None
    assert services.authenticate(person.email, "a second new password") is None


def link_issued_hours_ago(monkeypatch, person, hours):
    issued = int(time.time()) - int(hours * HOUR)
    with monkeypatch.context() as patch:
        patch.setattr(TimestampSigner, "get_timestamp", lambda _self: issued)
        return f"/password/{services.password_set_token(person)}"


def test_a_link_older_than_72_hours_is_refused(app, client, make_user, monkeypatch):
    assert app.config["PASSWORD_LINK_MAX_AGE"] == 72 * HOUR
    person = make_user()
    assert client.get(link_issued_hours_ago(monkeypatch, person, 71)).status_code == 200

    expired = link_issued_hours_ago(monkeypatch, person, 73)
    opened = client.get(expired)
    assert opened.status_code == 404
    assert "no longer works" in opened.get_data(as_text=True)
    assert submit(client, expired, "a good new password").status_code == 404
    assert services.authenticate(person.email, PASSWORD) is not None  # unchanged
