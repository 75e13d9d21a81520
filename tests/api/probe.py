"""A resource of the tests' own under /api/v1, made as the API's are (`resource_blueprint`), so
that the tests of tokens (who is let in, with which scopes, how often) do not depend on what
the real resources do. A test module uses it by defining `app_settings` as PROBE_SETTINGS and
an `app` fixture that calls `add_probe` (its own app: a blueprint is added before any request).
"""

from __future__ import annotations

from typing import Any

from flask import Flask

from serviceideas.api import resource_blueprint
from serviceideas.api.auth import acting_user, requires
from serviceideas.api.models import Scope

LIMIT = 5
# A setting no other test uses, so these modules get an app of their own (tests/conftest.py,
# `app_for`): a small rate limit, to reach it in a few requests.
PROBE_SETTINGS = {"API_RATE_LIMIT": f"{LIMIT} per 1 minute"}


def add_probe(app: Flask) -> Flask:
    """GET /api/v1/probe (read), POST /api/v1/probe (write), POST /api/v1/probe/review
    (review), GET /api/v1/probe/admin (admin): each answers who the token acts for."""
    if "api_probe" in app.blueprints:
        return app
    blp = resource_blueprint("api_probe", __name__, "probe")

    def who() -> dict[str, Any]:
        return {"id": acting_user().id}

    for path, methods, scope in (
        ("/probe", ["GET"], Scope.READ),
        ("/probe", ["POST"], Scope.WRITE),
        ("/probe/review", ["POST"], Scope.REVIEW),
        ("/probe/admin", ["GET"], Scope.ADMIN),
    ):
        view = requires(scope)(lambda: who())
        blp.add_url_rule(path, f"{scope}", view, methods=methods)
    app.register_blueprint(blp)
    return app
