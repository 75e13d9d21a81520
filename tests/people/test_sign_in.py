"""Signing in and out, `next`, deactivated people, rate limits and password-set links."""

from __future__ import annotations

import pytest

from serviceideas.extensions import db
from serviceideas.people import services
from serviceideas.people.models import Role, User
from tests.conftest import PASSWORD


def sign_in(client, email, password=PASSWORD, **extra):
    return client.post("/login", data={"email": email, "password": password, **extra})


def test_sign_in_lands_on_home_and_sign_out_ends_the_session(client, make_user):
    person = make_user(name="Ann Lee")
    response = sign_in(client, person.email.upper())
    assert response.status_code == 303
    assert response.headers["Location"] == "/"
    assert "Hello, Ann" in client.get("/").get_data(as_text=True)

    assert client.post("/logout").status_code == 303
    assert client.get("/").headers["Location"].startswith("/login")


def test_get_logout_asks_and_its_button_signs_out(client, make_user):
    sign_in(client, make_user().email)
    assert client.get("/logout").status_code == 200  # a GET never writes: it shows the button
    assert client.get("/").status_code == 200
    client.post("/logout")
    assert client.get("/").status_code == 302


def test_wrong_password_says_so_beside_the_field_and_keeps_the_email(client, make_user):
    person = make_user()
    response = sign_in(client, person.email, "wrong password")
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "do not match an account" in page
    assert f'value="{person.email}"' in page


def test_empty_form_is_a_422_with_messages(client):
    response = client.post("/login", data={})
    assert response.status_code == 422
    assert "This field is required." in response.get_data(as_text=True)


def test_deactivated_people_are_told_clearly(client, make_user):
    person = make_user(active=False)
    response = sign_in(client, person.email)
    assert response.status_code == 403
    assert "deactivated" in response.get_data(as_text=True)


def test_a_deactivated_persons_open_session_stops_working(client, make_user):
    admin, person = make_user(Role.ADMIN), make_user()
    sign_in(client, person.email)
    assert client.get("/").status_code == 200
    services.set_active(admin, db.session.get(User, person.id), False)
    db.session.commit()
    assert client.get("/").status_code == 302


@pytest.mark.parametrize(
    ("next_url", "lands_on"),
    [
        ("/admin/users?q=a", "/admin/users?q=a"),
        ("https://evil.example/", "/"),
        ("//evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("javascript:alert(1)", "/"),
    ],
)
def test_next_is_honoured_only_for_local_paths(client, make_user, next_url, lands_on):
    response = sign_in(client, make_user(Role.ADMIN).email, next=next_url)
    assert response.headers["Location"] == lands_on


def test_signed_out_people_are_sent_to_sign_in_and_back(client, make_user):
    response = client.get("/admin/users?status=all")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=%2Fadmin%2Fusers%3Fstatus%3Dall"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'value="/admin/users?status=all"' in page


def test_remember_me_sets_a_lasting_cookie(client, make_user):
    sign_in(client, make_user().email, remember="y")
    cookie = client.get_cookie("remember_token")
    assert cookie is not None and cookie.http_only


def test_session_cookie_is_http_only_and_same_site(client, make_user):
    response = sign_in(client, make_user().email)
    header = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("session="))
    assert "HttpOnly" in header and "SameSite=Lax" in header


def test_repeated_failures_are_rate_limited(client, make_user):
    person = make_user()
    statuses = [sign_in(client, person.email, "wrong password").status_code for _ in range(6)]
    assert statuses[:5] == [422] * 5
    assert statuses[5] == 429
    assert "Too many attempts" in sign_in(client, person.email).get_data(as_text=True)


def test_successful_sign_ins_are_not_counted_against_the_limit(client, make_user):
    person = make_user()
    for _ in range(8):
        assert sign_in(client, person.email).status_code == 303
        client.post("/logout")


def test_password_link_sets_a_password_once(client, make_user):
    person = make_user(password=None)
    link = f"/password/{services.password_set_token(person)}"
    assert client.get(link).status_code == 200

    short = client.post(link, data={"password": "short", "confirm": "short"})
    assert short.status_code == 422
    assert "at least 10 characters" in short.get_data(as_text=True)

    mismatch = client.post(link, data={"password": "a" * 12, "confirm": "b" * 12})
    assert mismatch.status_code == 422
    assert "not the same" in mismatch.get_data(as_text=True)

    done = client.post(link, data={"password": "my new password", "confirm": "my new password"})
    assert done.status_code == 303
    assert sign_in(client, person.email, "my new password").status_code == 303
    assert client.get(link).status_code == 404


def test_a_forged_password_link_is_refused(client):
    response = client.get("/password/forged.token")
    assert response.status_code == 404
    assert "no longer works" in response.get_data(as_text=True)
