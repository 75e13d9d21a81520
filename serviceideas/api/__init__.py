"""The REST API under /api/v1, its OpenAPI 3.1 document and its page (docs/architecture.md,
"The API").

Each resource is a flask-smorest blueprint made by `resource_blueprint` (api/ideas.py,
api/reviews.py, api/training.py, api/reports.py, api/people.py): its views parse with
marshmallow schemas, call the same services and policies as the pages, and answer JSON; the
document is written from those schemas. Every request needs a personal access token
(api/auth.py); errors are problem details (api/problems.py).
"""

from __future__ import annotations

import http
from importlib import import_module
from typing import Any

from apispec.utils import deepupdate
from flask import Flask, current_app, request
from flask_smorest import Api, Blueprint
from flask_smorest.utils import prepare_response
from werkzeug.exceptions import HTTPException

from serviceideas import errors
from serviceideas.api import auth, problems
from serviceideas.api.parsing import ApiParser
from serviceideas.extensions import csrf, limiter

PREFIX = "/api/v1"
# The modules that hold the resource blueprints, each as `blp`.
RESOURCES = ("ideas", "reviews", "training", "reports", "people")


class ServiceIdeasApi(Api):
    """flask-smorest's Api, with errors as problem details under /api/v1 only."""

    ERROR_SCHEMA = problems.ProblemSchema

    def _register_error_handlers(self) -> None:
        """flask-smorest would answer every HTTPException of the whole app (each page's 404)
        in its own JSON; here only the API's, as problem details (`resource_blueprint`)."""

    def _register_responses(self) -> None:
        """The documented error responses are `application/problem+json`, as they are sent."""
        for status in http.HTTPStatus:
            response: dict[str, Any] = {"description": status.phrase}
            if not (100 <= status < 200) and status not in (204, 304):
                response["schema"] = self.ERROR_SCHEMA
            prepare_response(response, self.spec, problems.CONTENT_TYPE)
            self.spec.components.response(status.name, response, lazy=True)
        response = {"description": "A problem (RFC 9457)", "schema": self.ERROR_SCHEMA}
        prepare_response(response, self.spec, problems.CONTENT_TYPE)
        self.spec.components.response(self.DEFAULT_ERROR_RESPONSE_NAME, response, lazy=True)


class ResourceBlueprint(Blueprint):
    """flask-smorest's Blueprint, reading bodies with the API's parser (api/parsing.py)."""

    ARGUMENTS_PARSER = ApiParser()


def resource_blueprint(name: str, import_name: str, description: str) -> Blueprint:
    """A blueprint for one resource under /api/v1: every request needs a live token, is
    rate-limited per token, needs no CSRF token (a cookie never authenticates here), and is
    answered with problem details when refused."""
    blp = ResourceBlueprint(name, import_name, url_prefix=PREFIX, description=description)
    blp.before_request(auth.authenticate)
    blp.register_error_handler(HTTPException, problems.http_exception)
    csrf.exempt(blp)
    # Shared: one count per token across the whole API (a plain limit counts each route apart).
    limiter.shared_limit(
        _rate_limit, "api", key_func=_rate_key, error_message="Too many requests."
    )(blp)
    return blp


def _rate_limit() -> str:
    limit: str = current_app.config["API_RATE_LIMIT"]
    return limit


def _rate_key() -> str:
    """Per live token (by its stored hash: the counter never holds the token), else per
    address: a made-up or dead token is counted with its address, so inventing a new one for
    each request earns no fresh count."""
    token = auth.request_token()
    if token is not None:
        return "api-token:" + token.token_hash
    return "api-address:" + (request.remote_addr or "")


def init_app(app: Flask) -> None:
    app.config.update(
        API_TITLE="serviceideas",
        API_VERSION="1",
        OPENAPI_VERSION="3.1.0",
        OPENAPI_URL_PREFIX=PREFIX,
        OPENAPI_JSON_PATH="openapi.json",
        API_SPEC_OPTIONS=deepupdate(
            {
                "info": {
                    "description": (
                        "Ideas, their pipeline, training and the report figures of serviceideas."
                        " Send a personal access token (made on your settings page) as"
                        " `Authorization: Bearer si_…`. Errors are problem details"
                        " (`application/problem+json`)."
                    )
                },
                "servers": [{"url": "/"}],
                "components": {
                    "securitySchemes": {
                        auth.SECURITY_SCHEME: {
                            "type": "http",
                            "scheme": "bearer",
                            "description": "A personal access token; its scopes are listed"
                            " under each operation.",
                        }
                    }
                },
            },
            app.config.get("API_SPEC_OPTIONS", {}),
        ),
    )
    api = ServiceIdeasApi(app)
    for name in RESOURCES:
        api.register_blueprint(import_module(f"serviceideas.api.{name}").blp)
    errors.answer_errors_under(PREFIX, problems.answer)
