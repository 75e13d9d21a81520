"""A form sent after the session ended says so and leads back to it: the 400 page tells the
person they were signed out and links to sign in with the form's page as `next`; the pages tell
the browser's script what became of the text (docs/architecture.md, "Text typed when the
session ends"). The browser's part is tests/browser/test_kept_typing.py."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest

from serviceideas.extensions import db
from serviceideas.people import services
from serviceideas.people.models import Role
from tests.ideas.test_routes import GOOD

SIGNED_OUT = "You were signed out, so this was not sent."
OLD_WORDING = "The form had expired or did not come from this site."
FORM_PAGE = "http://localhost/ideas/new?kind=customer"
CSRF_FIELD = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


@pytest.fixture
def app_settings():
    return {"WTF_CSRF_ENABLED": True}


def sign_in_link(page: str) -> str | None:
    found = re.search(r'<a href="(/login[^"]*)" role="button">', page)
    return found.group(1).replace("&amp;", "&") if found else None


def test_a_form_sent_after_signing_out_elsewhere_says_so_and_leads_back(client_as, make_user):
    client = client_as(make_user(Role.EMPLOYEE))
    page = client.get("/ideas/new").get_data(as_text=True)
    assert 'data-person="' in page
    token = CSRF_FIELD.search(page).group(1)
    client.post("/logout", data={"csrf_token": token})  # "another tab"

    response = client.post(
        "/ideas/new",
        data={"csrf_token": token, "title": "Shorter queues", "description": "Long text"},
        headers={"Referer": FORM_PAGE},
    )

    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert SIGNED_OUT in body and OLD_WORDING not in body
    link = urlsplit(sign_in_link(body))
    assert link.path == "/login" and parse_qs(link.query) == {"next": ["/ideas/new?kind=customer"]}
    assert 'data-kept-typing="not-sent"' in body
    assert 'data-person="' not in body  # nobody is signed in on it


def test_a_foreign_or_missing_referer_gives_a_sign_in_link_without_next(client):
    for headers in ({"Referer": "https://elsewhere.example/ideas/new"}, {}):
        response = client.post("/ideas/new", data={"title": "x"}, headers=headers)
        assert response.status_code == 400
        body = response.get_data(as_text=True)
        assert SIGNED_OUT in body
        assert sign_in_link(body) == "/login"


def test_a_forged_token_on_a_live_session_keeps_the_old_wording(client_as, make_user):
    client = client_as(make_user(Role.EMPLOYEE))
    client.get("/ideas/new")  # the session has its token
    response = client.post(
        "/ideas/new", data={"csrf_token": "forged", "title": "x"}, headers={"Referer": FORM_PAGE}
    )
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert OLD_WORDING in body and SIGNED_OUT not in body
    assert sign_in_link(body) is None
    assert 'data-kept-typing="not-sent"' in body  # the text was not sent either


def test_an_htmx_form_sent_signed_out_gets_a_fragment_with_the_sign_in_link(client):
    response = client.post(
        "/ideas/1/comments",
        data={"body": "A long comment"},
        headers={"HX-Request": "true", "Referer": "http://localhost/ideas/1"},
    )
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert body.lstrip().startswith('<article id="error"') and "data-signed-out" in body
    assert SIGNED_OUT in body
    assert sign_in_link(body) == "/login?next=/ideas/1"


def test_the_sign_in_form_itself_keeps_the_old_wording(client):
    response = client.post("/login", data={"email": "a@example.com", "password": "x" * 12})
    assert response.status_code == 400
    assert OLD_WORDING in response.get_data(as_text=True)


def test_the_sign_in_page_keeps_typed_text_except_right_after_sign_out(client_as, make_user):
    client = client_as(make_user(Role.EMPLOYEE))
    token = CSRF_FIELD.search(client.get("/ideas/new").get_data(as_text=True)).group(1)

    after = client.post("/logout", data={"csrf_token": token}, follow_redirects=True)
    assert 'data-kept-typing="forget-all"' in after.get_data(as_text=True)
    again = client.get("/login").get_data(as_text=True)
    assert 'data-kept-typing="not-sent"' in again


def test_a_look_up_made_signed_out_sends_the_page_to_sign_in_and_back_to_it(client):
    response = client.get(
        "/ideas/similar?title=Shelf",
        headers={"HX-Request": "true", "HX-Current-URL": "http://localhost/ideas/new"},
    )
    to = urlsplit(response.headers["HX-Redirect"])
    assert to.path == "/login" and parse_qs(to.query) == {"next": ["/ideas/new"]}


def test_a_form_sent_after_a_deactivation_and_back_leads_to_its_page(
    client_as, make_user, make_enrolment
):
    learner, admin = make_user(), make_user(Role.ADMIN)
    page = f"/training/enrolments/{make_enrolment('reflection', learner=learner).id}"
    client = client_as(learner)
    token = CSRF_FIELD.search(client.get(page).get_data(as_text=True)).group(1)
    services.set_active(admin, learner, False)  # ends their sessions
    services.set_active(admin, learner, True)
    db.session.commit()

    response = client.post(
        f"{page}/complete",
        data={"csrf_token": token, "answer": "A reflection long enough to be taken. " * 3},
        headers={"Referer": f"http://localhost{page}"},
    )

    assert response.status_code == 302  # the session still had its CSRF token
    to = urlsplit(response.headers["Location"])
    assert to.path == "/login" and parse_qs(to.query) == {"next": [page]}


def test_sign_out_after_the_session_ended_signs_out_and_forgets_the_kept_text(client_as, make_user):
    client = client_as(make_user(Role.EMPLOYEE))
    token = CSRF_FIELD.search(client.get("/ideas/new").get_data(as_text=True)).group(1)
    with client.session_transaction() as session:
        session.clear()  # the idle timeout: the browser no longer sends the session

    response = client.post("/logout", data={"csrf_token": token}, headers={"Referer": FORM_PAGE})

    assert response.status_code == 303
    assert urlsplit(response.headers["Location"]).path == "/login"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "You are signed out." in page and SIGNED_OUT not in page
    assert 'data-kept-typing="forget-all"' in page


HOSTILE_PAGES = [
    "//evil.example/ideas/new",
    "/\\evil.example/ideas/new",
    "https://evil.example/x",
    "javascript:alert(1)",
    "http://localhost:8080/ideas/new",
    "http://localhost//evil.example",
    "http://localhost/\\evil.example",
    "http://localhost/ideas/new?q=" + "x" * 2000,
]


@pytest.mark.parametrize("came_from", HOSTILE_PAGES)
def test_a_page_not_to_come_back_to_gives_no_next(client, came_from):
    sent = client.post("/ideas/new", data={"title": "x"}, headers={"Referer": came_from})
    assert sign_in_link(sent.get_data(as_text=True)) == "/login"
    looked_up = client.get(
        "/ideas/similar?title=Shelf", headers={"HX-Request": "true", "HX-Current-URL": came_from}
    )
    assert looked_up.headers["HX-Redirect"] == "/login"


def test_a_page_of_this_site_is_the_next(client):
    sent = client.post(
        "/ideas/new", data={"title": "x"}, headers={"Referer": "http://localhost/ideas/new?q=a"}
    )
    assert sign_in_link(sent.get_data(as_text=True)) == "/login?next=/ideas/new?q%3Da"


def test_a_form_or_look_up_from_an_unknown_page_signs_in_without_next(
    client_as, make_user, make_enrolment
):
    looked_up = client_as(None).get("/ideas/similar?title=Shelf", headers={"HX-Request": "true"})
    assert looked_up.headers["HX-Redirect"] == "/login"

    learner, admin = make_user(), make_user(Role.ADMIN)
    page = f"/training/enrolments/{make_enrolment('reflection', learner=learner).id}"
    client = client_as(learner)
    token = CSRF_FIELD.search(client.get(page).get_data(as_text=True)).group(1)
    services.set_active(admin, learner, False)  # ends their sessions, keeps the CSRF token
    services.set_active(admin, learner, True)
    db.session.commit()
    sent = client.post(f"{page}/complete", data={"csrf_token": token, "answer": "x" * 80})
    assert sent.status_code == 302 and sent.headers["Location"] == "/login"


# Other errors answering a form: nothing it held was written, so its text stays kept.


def test_any_error_page_answering_a_form_keeps_its_text(client_as, make_user):
    client = client_as(make_user(Role.EMPLOYEE))
    token = CSRF_FIELD.search(client.get("/ideas/new").get_data(as_text=True)).group(1)
    refused = client.post("/admin/departments", data={"csrf_token": token, "name": "Night shift"})
    assert refused.status_code == 403
    assert 'data-kept-typing="not-sent"' in refused.get_data(as_text=True)
    # A page asked for, not a form sent: nothing to keep.
    assert "data-kept-typing" not in client.get("/admin/departments").get_data(as_text=True)


def test_the_database_page_answering_a_form_keeps_its_text_and_leads_back_to_it(
    client_as, make_user, monkeypatch
):
    from sqlalchemy.exc import OperationalError

    from serviceideas.ideas import services as ideas

    client = client_as(make_user(Role.EMPLOYEE))
    token = CSRF_FIELD.search(client.get("/ideas/new").get_data(as_text=True)).group(1)

    def database_gone(*_args, **_kwargs):
        raise OperationalError("INSERT …", {}, Exception("server closed the connection"))

    monkeypatch.setattr(ideas, "submit_idea", database_gone)
    response = client.post(
        "/ideas/new",
        data={"csrf_token": token, **GOOD},
        headers={"Referer": FORM_PAGE},
    )
    assert response.status_code == 503
    page = response.get_data(as_text=True)
    assert 'data-kept-typing="not-sent"' in page and "js/kept-typing.js" in page
    assert '<a href="/ideas/new?kind=customer">' in page  # "Try again": the form, its text back


def test_an_error_after_the_form_was_written_does_not_offer_its_text_again(
    app, client_as, make_user, monkeypatch
):
    from serviceideas.ideas import routes as idea_pages

    app.config["PROPAGATE_EXCEPTIONS"] = False  # the 500 page, as in production
    client = client_as(make_user(Role.EMPLOYEE))
    token = CSRF_FIELD.search(client.get("/ideas/new").get_data(as_text=True)).group(1)

    def broken_after_the_write(*_args, **_kwargs):
        raise RuntimeError("after the commit")

    monkeypatch.setattr(idea_pages, "flash", broken_after_the_write)
    response = client.post("/ideas/new", data={"csrf_token": token, **GOOD})
    assert response.status_code == 500
    assert "data-kept-typing" not in response.get_data(as_text=True)  # it was written


def test_a_page_showing_a_refused_form_says_nothing_was_written(client_as, make_user):
    client = client_as(make_user(Role.EMPLOYEE))
    token = CSRF_FIELD.search(client.get("/ideas/new").get_data(as_text=True)).group(1)
    sent = client.post("/ideas/new", data={"csrf_token": token, **GOOD, "title": ""})
    refused = client.get(sent.headers["Location"])
    assert refused.status_code == 422
    assert 'data-kept-typing="refused"' in refused.get_data(as_text=True)
    assert "data-kept-typing" not in client.get("/ideas/new").get_data(as_text=True)
