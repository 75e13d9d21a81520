"""The API tokens page of a person's settings: a token made (shown once), listed, revoked; its
scopes capped by the person's roles, its expiry by API_TOKEN_MAX_DAYS; and the API's docs page."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import sqlalchemy as sa

from serviceideas.api.auth import token_hash
from serviceideas.api.models import ApiToken
from serviceideas.config import VENDOR_ASSETS
from serviceideas.database import utcnow
from serviceideas.extensions import db
from serviceideas.people.models import Role
from tests.api.probe import PROBE_SETTINGS, add_probe
from tests.conftest import count_queries, table_rows

PAGE = "/settings/tokens"
SECRET = re.compile(r"si_[\w-]{43}")


def make(client, name="Report script", scopes=("read",), expires="30", **more):
    return client.post(
        PAGE, data={"name": name, "scopes": list(scopes), "expires": expires, **more}
    )


def stored() -> list[ApiToken]:
    return list(db.session.scalars(sa.select(ApiToken).order_by(ApiToken.id)))


@pytest.fixture
def app_settings():
    return PROBE_SETTINGS


@pytest.fixture
def app(app):
    return add_probe(app)


@pytest.fixture
def employee(make_user):
    return make_user(name="Erin Employee")


def test_a_token_is_made_shown_once_and_only_its_hash_kept(client_as, employee, api_as):
    client = client_as(employee)
    response = make(client, scopes=("read", "write"), expires="7")
    assert response.status_code == 303
    assert response.headers["Location"] == PAGE

    page = client.get(PAGE)
    assert page.headers["Cache-Control"] == "no-store"
    text = page.get_data(as_text=True)
    (secret,) = set(SECRET.findall(text))
    assert "it will not be shown again" in text
    (token,) = stored()
    assert (token.user_id, token.name, token.scopes) == (employee.id, "Report script", "read write")
    assert token.token_hash == token_hash(secret) and secret not in token.token_hash
    assert secret.startswith(token.prefix)
    assert timedelta(days=6, hours=23) < token.expires_at - utcnow() <= timedelta(days=7)

    # A reload (or Back) shows it no more; the list still names it by its first characters.
    again = client.get(PAGE).get_data(as_text=True)
    assert secret not in again and "it will not be shown again" not in again
    rows = table_rows(again)
    assert rows[1][:3] == ["Report script", f"{token.prefix}…", "read, write"]
    assert rows[1][5:7] == ["Never", "Works"]

    # It works, as its person.
    assert client.get("/api/v1/openapi.json").status_code == 200
    used = client.application.test_client(use_cookies=False).get(
        "/api/v1/probe", headers={"Authorization": f"Bearer {secret}"}
    )
    assert (used.status_code, used.get_json()) == (200, {"id": employee.id})


def test_the_form_offers_only_the_scopes_the_persons_roles_allow(client_as, employee, make_user):
    page = client_as(employee).get(PAGE).get_data(as_text=True)
    assert 'value="read"' in page and 'value="write"' in page
    assert 'value="review"' not in page and 'value="admin"' not in page
    manager = client_as(make_user(Role.MANAGER)).get(PAGE).get_data(as_text=True)
    assert 'value="review"' in manager and 'value="admin"' not in manager
    admin = client_as(make_user(Role.ADMIN)).get(PAGE).get_data(as_text=True)
    assert all(f'value="{scope}"' in admin for scope in ("read", "write", "review", "admin"))


@pytest.mark.parametrize(
    ("sent", "field", "message"),
    [
        ({"scopes": ["read", "admin"]}, "scopes", "admin needs the Admin role"),
        ({"scopes": ["review"]}, "scopes", "review needs the Manager role"),
        ({"scopes": []}, "scopes", "Choose at least one scope"),
        ({"scopes": ["everything"]}, "scopes", "There is no scope"),
        ({"name": "   "}, "name", "This field is required."),
        ({"name": "x" * 81}, "name", "Field cannot be longer than 80 characters."),
        ({"expires": "date", "expires_on": ""}, "expires_on", "Choose the date."),
        ({"expires": "date", "expires_on": "2020-01-01"}, "expires", "in the future"),
        ({"expires": "date", "expires_on": "2099-01-01"}, "expires_on", "at most 366 days"),
        ({"expires": "date", "expires_on": "9999-12-31"}, "expires_on", "at most 366 days"),
        ({"expires": "3650"}, "expires", "Not a valid choice."),
    ],
)
def test_a_refused_token_is_explained_beside_its_field_and_nothing_is_stored(
    client_as, employee, sent, field, message
):
    client = client_as(employee)
    response = make(client, name=sent.pop("name", "Report script"), **sent)
    assert response.status_code == 303
    assert "refused=" in response.headers["Location"]
    shown = client.get(response.headers["Location"])
    assert shown.status_code == 422  # the page shows a refused form (serviceideas/refusals.py)
    page = shown.get_data(as_text=True)
    assert re.search(rf'id="{field}-error"[^>]*>[^<]*{re.escape(message)}', page), page
    assert stored() == []
    assert not SECRET.search(page)


def test_the_expiry_may_be_a_date_up_to_the_longest_allowed(client_as, employee, app):
    app.config["API_TOKEN_MAX_DAYS"] = 30
    client = client_as(employee)
    page = client.get(PAGE).get_data(as_text=True)
    assert 'value="7"' in page and 'value="30"' in page and 'value="90"' not in page
    last = (utcnow() + timedelta(days=29)).date()
    assert make(client, expires="date", expires_on=last.isoformat()).headers["Location"] == PAGE
    (token,) = stored()
    assert token.expires_at.date() == last + timedelta(days=1)  # until the end of that day
    refused = make(client, name="Later", expires="date", expires_on=str(last + timedelta(days=1)))
    assert "refused=" in refused.headers["Location"]
    assert "at most 30 days" in client.get(refused.headers["Location"]).get_data(as_text=True)
    assert len(stored()) == 1


def test_a_form_sent_twice_makes_one_token(client_as, employee):
    client = client_as(employee)
    assert make(client).headers["Location"] == PAGE
    second = make(client)
    assert "refused=" in second.headers["Location"]
    page = client.get(second.headers["Location"]).get_data(as_text=True)
    assert "You already have a token named “Report script”" in page
    assert len(stored()) == 1
    # Another name is another token.
    assert make(client, name="Dashboard").headers["Location"] == PAGE
    assert len(stored()) == 2


def test_the_same_form_sent_at_once_makes_one_token(client_as, employee):
    """A double click whose requests run at the same moment, on both databases: the person's
    row is locked while the name is checked, so the second waits and is refused."""
    client = client_as(employee)
    with ThreadPoolExecutor(max_workers=6) as pool:
        answers = list(pool.map(lambda _: make(client).headers["Location"], range(6)))
    assert answers.count(PAGE) == 1  # one made; the others sent back to the form, refused
    db.session.commit()  # end this test's own snapshot and read afresh
    assert len(stored()) == 1


def test_a_token_is_revoked_after_a_confirmation_and_stops_working(client_as, employee):
    client = client_as(employee)
    make(client)
    secret = SECRET.search(client.get(PAGE).get_data(as_text=True)).group()
    (token,) = stored()
    api = client.application.test_client(use_cookies=False)
    bearer = {"Authorization": f"Bearer {secret}"}
    assert api.get("/api/v1/probe", headers=bearer).status_code == 200

    revoke = f"{PAGE}/{token.id}/revoke"
    confirmation = client.get(revoke)
    assert confirmation.status_code == 200
    assert "Every request with it is refused at once" in confirmation.get_data(as_text=True)
    # A POST that did not come from the confirmation page (made by hand) gets it again, saying
    # nothing was done, with its button that sends it confirmed; it revokes nothing.
    unconfirmed = client.post(revoke, data={"confirmed": "no"})
    assert unconfirmed.status_code == 422
    again = unconfirmed.get_data(as_text=True)
    assert "Nothing was done: the request was not sent from this confirmation page." in again
    assert "Every request with it is refused at once" in again
    assert 'name="confirmed" type="hidden" value="yes"' in again
    db.session.refresh(token)
    assert token.revoked_at is None

    done = client.post(revoke, data={"confirmed": "yes"})
    assert (done.status_code, done.headers["Location"]) == (303, PAGE)
    db.session.refresh(token)
    assert token.revoked_at is not None
    refused = api.get("/api/v1/probe", headers=bearer)
    assert refused.status_code == 401
    assert refused.content_type == "application/problem+json"
    page = client.get(PAGE).get_data(as_text=True)
    assert "Revoked: Report script." in page
    assert table_rows(page)[1][6].startswith("Revoked")
    assert f"{token.id}/revoke" not in page  # nothing more to revoke


def test_someone_elses_token_is_not_found(client_as, employee, make_user, make_token):
    make_token(employee)
    (token,) = stored()
    other = client_as(make_user())
    assert other.get(f"{PAGE}/{token.id}/revoke").status_code == 404
    assert other.post(f"{PAGE}/{token.id}/revoke", data={"confirmed": "yes"}).status_code == 404
    assert "test token" not in other.get(PAGE).get_data(as_text=True)
    db.session.refresh(token)
    assert token.revoked_at is None


def test_the_list_says_which_tokens_work_and_reads_in_constant_queries(
    client_as, employee, make_token
):
    make_token(employee, name="Old", expires_in=timedelta(days=-1))
    make_token(employee, ("read", "review"), name="From when I managed")
    client = client_as(employee)
    client.get(PAGE)
    with count_queries() as one:
        client.get(PAGE)
    for n in range(5):
        make_token(employee, name=f"More {n}")
    with count_queries() as seven:
        page = client.get(PAGE).get_data(as_text=True)
    assert seven.count == one.count
    rows = {row[0]: row for row in table_rows(page)[1:]}
    assert rows["Old"][6] == "Expired"
    assert "review (no longer: it needs the Manager role)" in rows["From when I managed"][2]


def test_the_settings_and_the_menu_lead_to_the_tokens_page(client_as, employee):
    client = client_as(employee)
    for address in ("/notifications/settings", "/"):
        assert f'href="{PAGE}"' in client.get(address).get_data(as_text=True)


def test_the_docs_page_reads_the_openapi_document_with_swagger_ui_under_the_csp(client):
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'data-document="/api/v1/openapi.json"' in page
    for name in ("swagger-ui-bundle", "swagger-ui-css"):
        asset = VENDOR_ASSETS[name]
        assert asset["integrity"].startswith("sha384-")
        assert f'/static/{asset["local"]}" integrity="{asset["integrity"]}"' in page
        assert asset["cdn"].startswith("https://cdn.jsdelivr.net/npm/swagger-ui-dist@")
    assert '<script src="/static/js/api-docs.js" defer></script>' in page
    assert "<script>" not in page  # nothing inline: the CSP allows none
    csp = response.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp


def test_the_docs_page_answers_bad_input_as_a_page_for_people_and_the_api_beside_it_as_json(
    client,
):
    refused = client.get("/api/v1/docs?q=%00")  # a NUL is refused before any view runs
    assert refused.status_code == 400
    assert refused.mimetype == "text/html"
    assert "Something in that request was not right" in refused.get_data(as_text=True)
    beside = client.get("/api/v1/ideas?q=%00")
    assert (beside.status_code, beside.mimetype) == (400, "application/problem+json")


def test_the_docs_page_takes_swagger_ui_from_the_cdn_with_sri_in_production(app, client):
    app.config["SERVICEIDEAS_ASSETS"] = "cdn"  # put back after the test (tests/conftest.py)
    response = client.get("/api/v1/docs")
    page = response.get_data(as_text=True)
    for name in ("swagger-ui-bundle", "swagger-ui-css"):
        asset = VENDOR_ASSETS[name]
        assert f'"{asset["cdn"]}" integrity="{asset["integrity"]}" crossorigin="anonymous"' in page
    assert "https://cdn.jsdelivr.net" in response.headers["Content-Security-Policy"]
