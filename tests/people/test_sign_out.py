"""Signing out ends the session everywhere, and an unused session ends by itself (SECURITY.md,
"Sessions").

Signing out changes the person's session token, which is part of the id kept in the session
and remember-me cookies: a copied cookie, and the person's other devices, are signed out too.
"""

from __future__ import annotations

import itsdangerous.timed
import pytest

from tests.people.test_sessions import client_with, form_token, header_token, sign_in, signed_in


@pytest.fixture
def app_settings():
    return {"WTF_CSRF_ENABLED": True}


def sign_out(client) -> None:
    """The navigation's button."""
    token = header_token(client.get("/").get_data(as_text=True))
    response = client.post("/logout", data={"csrf_token": token})
    assert response.status_code == 303
    assert response.headers["Location"] == "/login"


def test_signing_out_makes_copied_cookies_and_other_devices_worthless(app, make_user):
    person = make_user()
    laptop, phone = app.test_client(), app.test_client()
    sign_in(laptop, person.email, remember=True)
    sign_in(phone, person.email)
    copied_session = laptop.get_cookie("session").value
    copied_remember = laptop.get_cookie("remember_token").value
    assert signed_in(client_with(app, remember_token=copied_remember))

    sign_out(laptop)

    assert not signed_in(laptop)
    assert not signed_in(client_with(app, session=copied_session))
    assert not signed_in(client_with(app, remember_token=copied_remember))
    # The phone's session ends too: signing out signs out every device.
    assert not signed_in(phone)
    sign_in(laptop, person.email)  # signing in again works
    assert signed_in(laptop)


def test_get_logout_asks_for_one_click_and_writes_nothing(app, make_user):
    person = make_user()
    browser = app.test_client()
    sign_in(browser, person.email)
    page = browser.get("/logout")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert 'action="/logout"' in text and "every device" in text
    assert signed_in(browser)  # a GET alone signs no one out
    response = browser.post("/logout", data={"csrf_token": form_token(text)})
    assert response.status_code == 303
    assert not signed_in(browser)


class Clock:
    """The clock itsdangerous signs and checks the session cookie with."""

    def __init__(self, now: float) -> None:
        self.now = now

    def time(self) -> float:
        return self.now


def test_a_session_unused_for_the_idle_time_ends(app, make_user, monkeypatch):
    import time

    clock = Clock(time.time())
    monkeypatch.setattr(itsdangerous.timed, "time", clock)
    idle = app.permanent_session_lifetime.total_seconds()
    assert idle == 12 * 60 * 60  # the default, SERVICEIDEAS_IDLE_MINUTES

    person = make_user()
    browser, remembered = app.test_client(), app.test_client()
    sign_in(browser, person.email)
    sign_in(remembered, person.email, remember=True)
    # In use: every request starts the idle time again.
    for _ in range(3):
        clock.now += idle - 60
        assert signed_in(browser)
    # A copy of the cookie, left unused past the limit, is as dead as the browser's own.
    copied = browser.get_cookie("session").value
    clock.now += idle + 1
    assert not signed_in(browser)
    assert not signed_in(client_with(app, session=copied))
    # Remember-me is the person's choice to stay signed in past the idle timeout.
    assert signed_in(remembered)


def test_what_a_page_asks_by_itself_is_not_use_and_sends_no_cookie(app, make_user, monkeypatch):
    """The bell's poll and the look-ups made while typing (serviceideas/sessions.py) leave the
    session cookie alone: an open tab still goes idle, and a look-up answered after a form's
    answer cannot put back the cookie from before it (losing the form's message)."""
    import time

    clock = Clock(time.time())
    monkeypatch.setattr(itsdangerous.timed, "time", clock)
    idle = app.permanent_session_lifetime.total_seconds()
    browser = app.test_client()
    sign_in(browser, make_user().email)
    by_the_page = ["/notifications/bell", "/ideas/similar?title=Faster+refunds"]
    for path in by_the_page:
        answer = browser.get(path, headers={"HX-Request": "true"})
        assert answer.status_code == 200
        assert "Set-Cookie" not in answer.headers
    assert "Set-Cookie" in browser.get("/ideas").headers  # a page the person opened is use
    clock.now += idle - 60
    for path in by_the_page:
        assert browser.get(path, headers={"HX-Request": "true"}).status_code == 200
    clock.now += 120  # idle since the person last opened a page, whatever the bell asked
    assert not signed_in(browser)


def test_a_static_file_sends_no_cookie_so_cannot_undo_a_forms_message(app, make_user):
    """The favicon or a style sheet a page asked for before a form was sent, answered after the
    form's answer, would otherwise put back the cookie from before it, losing "Deleted: …"."""
    browser = app.test_client()
    sign_in(browser, make_user().email)
    for path in ("/static/favicon.svg", "/static/css/app.css"):
        answer = browser.get(path)
        assert answer.status_code == 200
        assert "Set-Cookie" not in answer.headers, path
    assert "Set-Cookie" in browser.get("/ideas").headers  # a page is still use


def test_idle_minutes_come_from_the_environment():
    from datetime import timedelta

    from serviceideas.config import environment_overrides

    overrides = environment_overrides({"SERVICEIDEAS_IDLE_MINUTES": "30"})
    assert overrides["PERMANENT_SESSION_LIFETIME"] == timedelta(minutes=30)
