"""The page people get while the database is away: a clean 503, never a 500 or a traceback.

These run in the ordinary suite, against an address where no database listens. The fault test
beside this file (test_postgres_faults.py) stops a real PostgreSQL under load.
"""

from __future__ import annotations

import pytest

from serviceideas import create_app
from tests.conftest import settings_for_tests

NOWHERE = "postgresql+psycopg://nobody@127.0.0.1:1/none"  # nothing listens on port 1


@pytest.fixture
def away():
    """A client of an app whose database cannot be reached, signed in as person 1."""
    app = create_app(settings_for_tests(NOWHERE))
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = "1:0123456789abcdef"
        session["_fresh"] = True
    return client


def assert_clean_503(response, *, fragment: bool) -> str:
    body = response.get_data(as_text=True)
    assert response.status_code == 503, body
    assert response.headers["Retry-After"] == "5"
    assert response.mimetype == "text/html"
    assert "The database is not answering; try again in a moment." in body
    assert "Traceback" not in body and "psycopg" not in body and "127.0.0.1" not in body
    assert ("<html" in body) is not fragment
    return body


@pytest.mark.parametrize("path", ["/", "/ideas", "/ideas/1", "/training", "/login"])
def test_a_page_answers_503_when_the_database_is_away(away, path):
    body = assert_clean_503(away.get(path), fragment=False)
    assert 'href="' + path + '"' in body  # "Try again" reloads the same page


def test_a_form_answers_503_when_the_database_is_away(away):
    response = away.post("/ideas/1/comments", data={"body": "Still here?"})
    body = assert_clean_503(response, fragment=False)
    assert 'href="/"' in body  # a POST is not repeated by a link


def test_an_htmx_request_gets_a_fragment_when_the_database_is_away(away):
    response = away.post("/ideas/1/vote", data={"vote": "1"}, headers={"HX-Request": "true"})
    body = assert_clean_503(response, fragment=True)
    assert 'role="alert"' in body


def test_signing_in_answers_503_when_the_database_is_away():
    client = create_app(settings_for_tests(NOWHERE)).test_client()
    assert client.get("/login").status_code == 200  # a signed-out page needs no database
    response = client.post("/login", data={"email": "a@example.com", "password": "x" * 12})
    assert_clean_503(response, fragment=False)
