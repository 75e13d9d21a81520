"""Odd input anywhere gets a clear 4xx, never a 500 (SECURITY.md, "Bad input")."""

from __future__ import annotations

import base64
import json

import pytest

from serviceideas.extensions import db
from serviceideas.people import services
from serviceideas.people.models import Role

HX = {"HX-Request": "true"}


def cursor(value) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "url",
    [
        "/ideas/99999999999999999999",
        "/ideas/3000000000",
        "/ideas/0",
        "/admin/users/99999999999999999999",
        "/training/enrolments/2147483648",
    ],
)
def test_ids_beyond_the_database_range_are_not_found(client_as, make_user, url):
    assert client_as(make_user(Role.ADMIN)).get(url).status_code == 404


@pytest.mark.parametrize(
    "url",
    ["/ideas?q=a%00b", "/admin/users?q=%00", "/ideas?sort=newest&after=%00"],
)
def test_nul_characters_are_refused_with_a_400(client_as, make_user, url):
    response = client_as(make_user(Role.ADMIN)).get(url)
    assert response.status_code == 400
    assert "NUL character" in response.get_data(as_text=True)


def test_nul_characters_in_a_form_are_refused_even_signed_out(client):
    response = client.post("/login", data={"email": "a\x00@example.com", "password": "x"})
    assert response.status_code == 400


@pytest.mark.parametrize(
    ("sort", "value"),
    [
        ("newest", ["2024-01-01T00:00:00", 1]),  # no time zone
        ("votes", [float("inf"), 1]),
        ("votes", [10**30, 1]),
        ("votes", [3, 10**30]),
        ("votes", [3, -1]),
        ("newest", "not a pair"),
    ],
)
def test_forged_page_cursors_are_a_400(client_as, make_user, sort, value):
    raw = json.dumps(value).replace("Infinity", "Infinity")
    after = base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")
    response = client_as(make_user()).get(f"/ideas?sort={sort}&after={after}")
    assert response.status_code == 400
    assert "page link is broken" in response.get_data(as_text=True)


def test_query_parameters_cannot_steer_generated_links(client_as, make_user, make_idea, app):
    app.config["PAGE_SIZE"] = 1
    make_idea(), make_idea()
    client = client_as(make_user(Role.ADMIN))
    for url in (
        "/ideas?endpoint=x&_external=1&_anchor=y",
        "/admin/users?endpoint=x&_method=POST",
        "/dashboard?endpoint=x&table=y&_method=POST&_external=1",
        "/leaderboard?endpoint=x&_external=1",
        "/dashboard/people?endpoint=x&_scheme=https",
    ):
        response = client.get(url)
        assert response.status_code == 200
        page = response.get_data(as_text=True)
        assert "http://localhost" not in page.split("<main", 1)[1]


@pytest.mark.parametrize("origin", ["module:²", "module:99999999999999999999999", "module:", "x"])
def test_a_strange_idea_origin_is_ignored(client_as, make_user, origin):
    response = client_as(make_user()).post(
        "/ideas/new",
        data={
            "title": "T",
            "problem": "P",
            "proposal": "Q",
            "lens": "care",
            "beneficiary": "external",
            "origin": origin,
        },
    )
    assert response.status_code == 303


def test_signed_out_htmx_requests_are_sent_to_sign_in_as_a_whole_page(client, make_idea):
    idea = make_idea()
    response = client.post(f"/ideas/{idea.id}/vote", data={"vote": "1"}, headers=HX)
    assert response.status_code == 204
    assert response.headers["HX-Redirect"].startswith("/login")


def test_a_password_link_from_before_a_deactivation_stays_dead(app, make_user):
    admin, person = make_user(Role.ADMIN), make_user(password=None)
    token = services.password_set_token(person)
    services.set_active(admin, person, False)
    services.set_active(admin, person, True)
    db.session.commit()
    assert services.user_for_password_token(token) is None


def test_a_large_pasted_csv_is_accepted_up_to_the_stated_limit(
    client_as, make_user, make_department
):
    make_department("Stores")
    # Rows for a department that does not exist are refused before touching the database,
    # which keeps this test quick; the size is what matters here.
    rows = "".join(f"p{n}@example.com,Person {n},Nowhere,\n" for n in range(25_000))
    text = "email,name,department,roles\n" + rows  # about 0.9 MB
    response = client_as(make_user(Role.ADMIN)).post(
        "/admin/import", data={"text": text, "preview": "Preview"}
    )
    assert response.status_code == 422  # more than 20,000 rows: a clear message, not a 413
    page = response.get_data(as_text=True)
    assert "more than 20000 rows" in page
    # A file to be split is not previewed row by row: no report of 20,000 rows to wait for.
    assert "No department called" not in page
