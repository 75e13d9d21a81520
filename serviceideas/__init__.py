"""serviceideas: service training for every team, and service ideas tracked to practice."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flask import Flask
from flask_babel import lazy_gettext

from serviceideas import config as settings
from serviceideas.extensions import csrf, db, limiter, login_manager, migrate

ROOT = Path(__file__).resolve().parent.parent


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build an app. Reads settings; touches no database and starts nothing."""
    app = Flask(
        __name__,
        instance_relative_config=True,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    load_config(app, test_config)
    register_extensions(app)
    register_blueprints(app)
    register_signals()
    register_errorhandlers(app)
    register_template_context(app)
    register_commands(app)
    return app


def load_config(app: Flask, test_config: dict[str, Any] | None) -> None:
    app.config.from_object(settings.Config)
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
        app.config.update(settings.environment_overrides(os.environ))
    else:
        app.config.update({"ENV_NAME": "testing", **test_config})
    if app.config["ENV_NAME"] in {"development", "testing"} and not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = settings.DEVELOPMENT_SECRET
    settings.check(app.config)
    app.config["ALLOWED_HOSTS"] = settings.trusted_hosts(app.config)

    # A relative SQLite path lands in the instance folder (Flask-SQLAlchemy creates it).
    url = settings.normalise_database_url(
        app.config["SQLALCHEMY_DATABASE_URI"] or "sqlite:///serviceideas.sqlite"
    )
    app.config["SQLALCHEMY_DATABASE_URI"] = url
    if url.startswith("postgresql"):
        options = app.config["SQLALCHEMY_ENGINE_OPTIONS"]
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {
            # Survive a database restart without a SELECT 1 per request: each pooled connection
            # is checked before use by a look at its socket (database.configure_postgresql).
            "pool_pre_ping": False,
            **options,
            # Server-side prepared statements: psycopg prepares a statement from its fifth run
            # on a connection, and PostgreSQL parses it once and, where a generic plan is as
            # good, plans it once (the idea page's statements cost the server a third as much).
            # Full-text searches are never prepared: a generic plan ignores what is searched
            # for and was 20-60 times slower (database.is_full_text_search).
            "connect_args": {"prepare_threshold": 5, **options.get("connect_args", {})},
        }


def register_extensions(app: Flask) -> None:
    from serviceideas import (
        database,
        figures,
        htmx,
        i18n,
        refusals,
        security,
        sessions,
        shared,
        urls,
    )
    from serviceideas.people import oidc
    from serviceideas.people.services import load_signed_in_user

    app.url_map.converters["id"] = urls.IdConverter
    app.before_request(urls.refuse_foreign_hosts)  # first, before anything reads the request
    if app.config["PROXY_HOPS"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = app.config["PROXY_HOPS"]
        # Wrapping wsgi_app is Flask's documented way to add middleware; mypy sees a method.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]

    db.init_app(app)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            database.configure_sqlite(db.engine)
        elif db.engine.dialect.name == "postgresql":
            database.configure_postgresql(app, db.engine)
        database.refuse_writes_on_get(db.engine)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), compare_type=True)
    i18n.init_app(app)  # each request's language, and dates and numbers written its way
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = lazy_gettext("Please sign in to see that page.")
    login_manager.login_message_category = "info"
    login_manager.user_loader(load_signed_in_user)
    login_manager.unauthorized_handler(htmx.send_to_sign_in)
    oidc.init_app(app)  # company sign-in: the provider's client, when OIDC_ISSUER is set
    htmx.init_app(app)
    refusals.init_app(app)  # a page showing a refused form again answers 422
    security.init_app(app)
    sessions.init_app(app)
    shared.init_app(app)
    figures.init_app(app)


def register_blueprints(app: Flask) -> None:
    from serviceideas import api, home
    from serviceideas.api import docs_routes, token_routes
    from serviceideas.ideas import routes as ideas
    from serviceideas.ideas import stage_routes
    from serviceideas.insights import routes as insights
    from serviceideas.notifications import routes as notifications
    from serviceideas.people import admin_routes, language_routes, oidc_routes, routes
    from serviceideas.scim import admin_routes as scim_admin
    from serviceideas.scim import routes as scim
    from serviceideas.training import routes as training
    from serviceideas.webhooks import admin_routes as webhooks_admin

    app.register_blueprint(home.bp)
    app.register_blueprint(routes.bp)
    app.register_blueprint(oidc_routes.bp)
    app.register_blueprint(admin_routes.bp)
    app.register_blueprint(ideas.bp)
    app.register_blueprint(stage_routes.bp)
    app.register_blueprint(training.bp)
    app.register_blueprint(insights.bp)
    app.register_blueprint(notifications.bp)
    app.register_blueprint(scim.bp)
    app.register_blueprint(scim_admin.bp)
    app.register_blueprint(webhooks_admin.bp)
    api.init_app(app)  # /api/v1: its resources, and its OpenAPI document
    app.register_blueprint(docs_routes.bp)  # /api/v1/docs, the API's page for people
    app.register_blueprint(token_routes.bp)  # /settings/tokens
    app.register_blueprint(language_routes.bp)  # /settings/language


def register_signals() -> None:
    """Higher features subscribe to the signals of lower ones (see people/signals.py)."""
    from serviceideas.insights import receivers as insights
    from serviceideas.notifications import receivers as notifications
    from serviceideas.training import receivers as training
    from serviceideas.webhooks import receivers as webhooks

    training.connect()
    notifications.connect()
    webhooks.connect()
    insights.connect()  # last: the figures' counter is locked just before the commit


def register_errorhandlers(app: Flask) -> None:
    from serviceideas import errors

    errors.register_errorhandlers(app)


def register_template_context(app: Flask) -> None:
    from serviceideas import assets, markdown, urls
    from serviceideas.ideas import policies as idea_policies
    from serviceideas.people import policies as people_policies
    from serviceideas.training import policies as training_policies

    for policies in (people_policies, idea_policies, training_policies):
        app.jinja_env.globals.update(policies.TEMPLATE_POLICIES)
    app.jinja_env.globals["vendor_asset"] = assets.vendor_asset
    app.jinja_env.globals["this_page_with"] = urls.this_page_with
    app.jinja_env.globals["url_for_each"] = urls.url_for_each
    app.jinja_env.filters["markdown"] = markdown.render


def register_commands(app: Flask) -> None:
    from serviceideas import cli

    cli.register(app)
