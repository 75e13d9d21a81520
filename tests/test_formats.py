"""Formats the shared modules write with a library rather than by hand: each test pins what
people and other programs receive, so a change of library cannot change it unnoticed."""

from __future__ import annotations

import csv
import io

import pytest

from serviceideas import create_app
from serviceideas.config import normalise_database_url
from serviceideas.downloads import csv_download
from serviceideas.markdown import render
from tests.conftest import settings_for_tests


def test_a_trainers_top_level_headings_become_second_level_and_nothing_else_changes():
    html = str(render("# Why\n\nAlso why\n========\n\n## Then\n\n    <h1>code</h1>\n"))
    assert html.count("<h2>") == 3 and "<h1>" not in html
    assert "<h2>Why</h2>" in html and "<h2>Also why</h2>" in html and "<h2>Then</h2>" in html
    assert "&lt;h1&gt;code&lt;/h1&gt;" in html  # text in a code block stays text


def test_a_csv_download_is_a_csv_file_saved_under_its_name():
    response = csv_download([["name", "ideas"], ["=cmd()", 3], ['Zoë, "Z"', 1]], "ideas.csv")
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == "attachment; filename=ideas.csv"
    text = response.get_data().decode("utf-8-sig")  # with a byte order mark, for Excel
    assert response.get_data().startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows == [["name", "ideas"], ["'=cmd()", "3"], ['Zoë, "Z"', "1"]]


def test_a_file_name_that_needs_quoting_is_quoted():
    response = csv_download([], "coverage 2026.csv")
    assert response.headers["Content-Disposition"] == 'attachment; filename="coverage 2026.csv"'


@pytest.mark.parametrize(
    ("given", "used"),
    [
        ("postgres://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgresql://u:p%40ss@h:5433/db?sslmode=require", None),
        ("postgresql+psycopg2://u@h/db", "postgresql+psycopg2://u@h/db"),
        ("sqlite:///serviceideas.sqlite", "sqlite:///serviceideas.sqlite"),
    ],
)
def test_postgresql_urls_use_psycopg_and_keep_every_other_part(given, used):
    expected = used or "postgresql+psycopg://u:p%40ss@h:5433/db?sslmode=require"
    assert normalise_database_url(given) == expected


@pytest.mark.parametrize("source", ["cdn", "local"])
def test_the_content_security_policy_allows_this_site_and_the_cdn_only_when_used(
    database_url, _schema, source
):
    app = create_app(settings_for_tests(database_url, SERVICEIDEAS_ASSETS=source))
    policy = app.test_client().get("/login").headers["Content-Security-Policy"]
    front_end = "'self' https://cdn.jsdelivr.net" if source == "cdn" else "'self'"
    assert policy == (
        f"default-src 'self'; script-src {front_end}; style-src {front_end}; "
        "img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'; "
        "form-action 'self'; frame-ancestors 'none'"
    )


def test_the_page_for_a_database_that_is_away_says_when_to_retry_and_is_never_cached():
    app = create_app(settings_for_tests("postgresql+psycopg://nobody@127.0.0.1:1/none"))
    client = app.test_client()
    with client.session_transaction() as session:  # signed in: the page must load the person
        session["_user_id"] = "1:0123456789abcdef"
    response = client.get("/ideas")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert response.headers["Cache-Control"] == "no-store"
