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
import threading
from importlib import import_module
from typing import Any

from apispec.utils import deepupdate
from flask import Flask, Response, current_app, request
from flask_babel import gettext
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
    """flask-smorest's Api, with errors as problem details under /api/v1 only, and the OpenAPI
    document written when it is first asked for."""

    ERROR_SCHEMA = problems.ProblemSchema

    def __init__(self, app: Flask) -> None:
        self._undocumented: list[Blueprint] = []
        self._documenting = threading.Lock()
        super().__init__(app)

    def register_blueprint(self, blp: Blueprint, **options: Any) -> None:
        """Routes now; the document's part later (`_document`). Writing it converts every
        schema, half of what making an app costs, and most apps (every test's, every worker's)
        never serve the document. Does what flask-smorest's own register_blueprint does (0.47),
        in two steps."""
        self._app.extensions["flask-smorest"]["blp_name_to_api"][blp.name] = self
        self._app.register_blueprint(blp, **options)
        self._undocumented.append(blp)

    def _document(self) -> None:
        with self._documenting:
            while self._undocumented:
                blp = self._undocumented.pop(0)
                blp.register_views_in_doc(
                    self, self._app, self.spec, name=blp.name, parameters=None
                )
                self.spec.tag({"name": blp.name, "description": blp.description})

    def _openapi_json(self) -> Response:
        self._document()
        response: Response = super()._openapi_json()
        return response

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
    limiter.shared_limit(_rate_limit, "api", key_func=_rate_key, error_message=_too_many)(blp)
    return blp


def _too_many() -> str:
    return gettext("Too many requests.")


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
    errors.answer_errors_under(PREFIX, problems.answer, pages="apidocs")  # docs_routes
