"""The session at sign-in, and the per-person session token that ends open sessions.

Flask's session is a signed cookie, so "a new session id at sign-in" means: nothing a browser
carried before signing in (a planted cookie, a CSRF token an attacker knows) is part of the
signed-in session, and the cookie from before does not sign anyone in.
"""

from __future__ import annotations

import re

import pytest

from serviceideas.extensions import db
from serviceideas.people import services
from serviceideas.people.models import Role, User
from tests.conftest import PASSWORD


@pytest.fixture
def app_settings():
    return {"WTF_CSRF_ENABLED": True}  # the CSRF token in the session is part of what is tested


def form_token(page: str) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)


def header_token(page: str) -> str:
    return re.search(r'"X-CSRFToken": "([^"]+)"', page).group(1)


def sign_in(client, email, *, remember=False):
    token = form_token(client.get("/login").get_data(as_text=True))
    data = {"email": email, "password": PASSWORD, "csrf_token": token}
    if remember:
        data["remember"] = "y"
    response = client.post("/login", data=data)
    assert response.status_code == 303
    return response


def signed_in(client) -> bool:
    response = client.get("/")
    if response.status_code == 200:
        return True
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    return False


def client_with(app, **cookies):
    """A fresh browser carrying only these cookies, as an attacker who copied them would."""
    client = app.test_client()
    for name, value in cookies.items():
        client.set_cookie(name, value)
    return client


def test_nothing_from_before_sign_in_carries_over_into_the_signed_in_session(
    app, client, make_user
):
    person = make_user()
    login_page = client.get("/login").get_data(as_text=True)
    old_form_token = form_token(login_page)
    with client.session_transaction() as session:
        assert "csrf_token" in session  # the pre-sign-in session really carries something
        session["planted"] = "set before sign-in"
    cookie_before = client.get_cookie("session").value

    response = client.post(
        "/login", data={"email": person.email, "password": PASSWORD, "csrf_token": old_form_token}
    )
    assert response.status_code == 303
    cookie_after = client.get_cookie("session").value
    assert cookie_after != cookie_before

    with client.session_transaction() as session:
        assert "planted" not in session
        assert "csrf_token" not in session  # a new one is made for the next form

    # The CSRF token known before sign-in does not work in the signed-in session...
    stale = client.post("/notifications/read-all", data={"csrf_token": old_form_token})
    assert stale.status_code == 400
    assert "did not come from this site" in stale.get_data(as_text=True)
    # ...while the one the signed-in pages carry does.
    fresh_token = header_token(client.get("/").get_data(as_text=True))
    assert fresh_token != old_form_token
    assert (
        client.post("/notifications/read-all", headers={"X-CSRFToken": fresh_token}).status_code
        < 400
    )

    # Whoever holds the pre-sign-in cookie is not signed in; the holder of the new one is.
    assert not signed_in(client_with(app, session=cookie_before))
    assert signed_in(client_with(app, session=cookie_after))


def test_a_new_password_ends_every_open_session_and_remember_me_cookie(app, make_user):
    person = make_user()
    laptop, phone = app.test_client(), app.test_client()
    sign_in(laptop, person.email)
    sign_in(phone, person.email, remember=True)
    copied_session = laptop.get_cookie("session").value
    copied_remember = phone.get_cookie("remember_token").value
    assert signed_in(client_with(app, session=copied_session))
    assert signed_in(client_with(app, remember_token=copied_remember))

    link = f"/password/{services.password_set_token(person)}"
    setter = app.test_client()
    token = form_token(setter.get(link).get_data(as_text=True))
    new = "a brand new passphrase"
    response = setter.post(link, data={"password": new, "confirm": new, "csrf_token": token})
    assert response.status_code == 303

    assert not signed_in(laptop)
    assert not signed_in(phone)
    assert not signed_in(client_with(app, session=copied_session))
    assert not signed_in(client_with(app, remember_token=copied_remember))


def test_sessions_from_before_a_deactivation_stay_dead_after_reactivation(app, make_user):
    admin, person = make_user(Role.ADMIN), make_user()
    browser = app.test_client()
    sign_in(browser, person.email, remember=True)
    copied_session = browser.get_cookie("session").value
    copied_remember = browser.get_cookie("remember_token").value

    services.set_active(admin, db.session.get(User, person.id), False)
    services.set_active(admin, db.session.get(User, person.id), True)
    db.session.commit()

    assert not signed_in(browser)
    assert not signed_in(client_with(app, session=copied_session))
    assert not signed_in(client_with(app, remember_token=copied_remember))
    sign_in(browser, person.email)  # they themselves can sign in again
    assert signed_in(browser)
