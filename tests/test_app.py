"""The app factory, configuration, health check and front-end assets."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import pytest

from serviceideas import ROOT, create_app
from serviceideas.config import VENDOR_ASSETS, ConfigurationError, environment_overrides


def production(**settings):
    return create_app({"ENV_NAME": "production", "TESTING": False, **settings})


@pytest.mark.parametrize("secret", [None, "", "dev", "change-me", "serviceideas-development-only"])
def test_production_refuses_a_missing_or_default_secret_key(secret):
    with pytest.raises(ConfigurationError, match="SECRET_KEY"):
        production(SECRET_KEY=secret)


def test_production_starts_with_a_real_secret_key(tmp_path):
    app = production(SECRET_KEY="x" * 40, SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/a.db")
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_unknown_asset_source_is_refused():
    with pytest.raises(ConfigurationError, match="SERVICEIDEAS_ASSETS"):
        create_app({"SERVICEIDEAS_ASSETS": "elsewhere"})


def test_environment_is_read_and_postgres_urls_use_psycopg(monkeypatch):
    overrides = environment_overrides(
        {"DATABASE_URL": "postgres://u@h/db", "SERVICEIDEAS_ASSETS": "local", "SECRET_KEY": "k"}
    )
    assert overrides == {
        "SQLALCHEMY_DATABASE_URI": "postgres://u@h/db",
        "SERVICEIDEAS_ASSETS": "local",
        "SECRET_KEY": "k",
    }
    app = create_app({"SQLALCHEMY_DATABASE_URI": "postgres://u@127.0.0.1:1/db"})
    assert app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql+psycopg://")
    # No SELECT 1 per request: a look at the socket instead (tests/test_database.py).
    assert app.config["SQLALCHEMY_ENGINE_OPTIONS"]["pool_pre_ping"] is False


def test_default_database_is_sqlite_in_the_instance_folder(monkeypatch, tmp_path):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    app = create_app({"SQLALCHEMY_DATABASE_URI": None})
    with app.app_context():
        from serviceideas.extensions import db

        assert db.engine.url.database == str(Path(app.instance_path) / "serviceideas.sqlite")


def test_engine_is_tuned_for_its_database(app):
    from serviceideas.extensions import db

    if db.engine.dialect.name == "sqlite":
        with db.engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000
    else:
        assert app.config["SQLALCHEMY_ENGINE_OPTIONS"]["pool_pre_ping"] is False


def test_healthz_answers_ok_when_the_database_answers(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_healthz_answers_503_when_the_database_does_not(tmp_path):
    app = create_app(
        {"TESTING": True, "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://x@127.0.0.1:1/none"}
    )
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["status"] == "error"
    assert response.headers["Retry-After"] == "5"


@pytest.mark.parametrize("name", sorted(VENDOR_ASSETS))
def test_vendored_file_matches_the_configured_sri_hash(name):
    asset = VENDOR_ASSETS[name]
    path = ROOT / "static" / asset["local"]
    assert path.exists(), f"{path} is missing: run `make setup` (npm ci copies it there)"
    digest = base64.b64encode(hashlib.sha384(path.read_bytes()).digest()).decode()
    assert asset["integrity"] == f"sha384-{digest}"


def test_htmx_is_the_pinned_version_from_the_cdn_with_sri():
    assert VENDOR_ASSETS["htmx"]["cdn"] == (
        "https://cdn.jsdelivr.net/npm/htmx.org@2.0.11/dist/htmx.min.js"
    )
    assert VENDOR_ASSETS["htmx"]["integrity"] == (
        "sha384-2OatzQy1H+Zd/IIrjr1TcuDGqLXeHhbooAyJY1KdQMKnr4LZ22k31GBLdYKHmVjg"
    )


@pytest.mark.parametrize("source", ["cdn", "local"])
def test_pages_load_assets_from_the_configured_source(database_url, source, _schema):
    from tests.conftest import settings_for_tests

    app = create_app(settings_for_tests(database_url, SERVICEIDEAS_ASSETS=source))
    page = app.test_client().get("/login").get_data(as_text=True)
    htmx = VENDOR_ASSETS["htmx"]
    expected_src = htmx["cdn"] if source == "cdn" else "/static/vendor/htmx.min.js"
    assert f'<script src="{expected_src}" integrity="{htmx["integrity"]}"' in page
    csp = app.test_client().get("/login").headers["Content-Security-Policy"]
    assert ("https://cdn.jsdelivr.net" in csp) is (source == "cdn")
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp


def test_htmx_requests_carry_the_csrf_token_in_a_header(client):
    page = client.get("/login").get_data(as_text=True)
    assert 'hx-headers=\'{"X-CSRFToken": "' in page


def test_reads_on_postgresql_skip_begin_and_rollback_and_writes_keep_their_transaction(
    client_as, make_user, make_idea
):
    """GET requests run each statement on its own (no BEGIN/ROLLBACK round trips) on
    PostgreSQL; requests that write run in one transaction. SQLite always begins one."""
    import sqlalchemy as sa
    from flask import has_request_context, request

    from serviceideas.extensions import db

    idea, client = make_idea(), client_as(make_user())
    seen: list[tuple[str, bool]] = []

    def note(connection, _cursor, statement, *_):
        if statement.startswith(("BEGIN", "PRAGMA")):  # SQLite's own transaction control
            return
        raw = connection.connection.dbapi_connection
        outside = (
            raw.autocommit if db.engine.dialect.name == "postgresql" else not raw.in_transaction
        )
        seen.append((request.method if has_request_context() else "test", outside))

    sa.event.listen(db.engine, "before_cursor_execute", note)
    try:
        assert client.get(f"/ideas/{idea.id}").status_code == 200
        assert client.post(f"/ideas/{idea.id}/vote", data={"vote": "1"}).status_code == 303
        assert client.get("/ideas").status_code == 200  # the connection came back transactional
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", note)
    reads = {outside for method, outside in seen if method == "GET"}
    writes = {outside for method, outside in seen if method == "POST"}
    assert writes == {False}
    assert reads == ({True} if db.engine.dialect.name == "postgresql" else {False})


def test_a_get_request_that_would_write_is_refused_before_the_statement_runs(_schema, database_url):
    """GETs only read (docs/architecture.md, "Requests and transactions"): a view that wrote on
    GET would fail every test that opens it, instead of writing outside any transaction on
    PostgreSQL. POST may write; so may a scheduled job building links in a stand-in GET."""
    import sqlalchemy as sa
    from flask import request

    from serviceideas.database import WriteOnGet, writing
    from serviceideas.extensions import db
    from serviceideas.people.models import Department, DepartmentKind
    from tests.conftest import empty_all_tables, settings_for_tests

    app = create_app(settings_for_tests(database_url))  # its own: it gains a route

    def add_department() -> str:
        db.session.add(
            Department(name=f"Made by {request.method}", kind=DepartmentKind.BACK_OFFICE)
        )
        db.session.commit()
        return "written"

    app.add_url_rule("/test-writes", "test_writes", add_department, methods=["GET", "POST"])
    client = app.test_client()
    try:
        with pytest.raises(WriteOnGet, match="GET /test-writes must not write: INSERT"):
            client.get("/test-writes")
        assert client.post("/test-writes").get_data(as_text=True) == "written"
        with app.test_request_context("/"), writing():
            add_department()
            names = set(db.session.scalars(sa.select(Department.name)))
        assert names == {"Made by POST", "Made by GET"}
    finally:
        empty_all_tables(app)
