"""Errors under /api/v1 as RFC 9457 problem details (`application/problem+json`): one shape for
every refusal, whether a rule, a bad parameter, a missing token or an unknown address
(docs/architecture.md, "The API")."""

from __future__ import annotations

import math
import time
from http import HTTPStatus
from typing import Any

import marshmallow as ma
from flask import Response, current_app, request
from flask.typing import ResponseReturnValue
from flask_babel import LazyString, get_locale, gettext, lazy_gettext
from werkzeug.exceptions import HTTPException, default_exceptions

from serviceideas.errors import Refusals, RuleViolation
from serviceideas.extensions import db, limiter

CONTENT_TYPE = "application/problem+json"
# Where webargs found a bad value: it keys its messages by these.
LOCATIONS = {"json", "query", "form", "headers", "view_args", "files", "cookies"}
# Each status's name as a problem's title, in the caller's language: in English, HTTP's reason
# phrase (http.HTTPStatus's). A status not listed keeps its English phrase.
TITLES: dict[int, LazyString] = {
    400: lazy_gettext("Bad Request"),
    401: lazy_gettext("Unauthorized"),
    403: lazy_gettext("Forbidden"),
    404: lazy_gettext("Not Found"),
    405: lazy_gettext("Method Not Allowed"),
    406: lazy_gettext("Not Acceptable"),
    409: lazy_gettext("Conflict"),
    410: lazy_gettext("Gone"),
    412: lazy_gettext("Precondition Failed"),
    413: lazy_gettext("Request Entity Too Large"),
    415: lazy_gettext("Unsupported Media Type"),
    422: lazy_gettext("Unprocessable Entity"),
    428: lazy_gettext("Precondition Required"),
    429: lazy_gettext("Too Many Requests"),
    500: lazy_gettext("Internal Server Error"),
    503: lazy_gettext("Service Unavailable"),
}
# Werkzeug's own description of a status, which an `abort(404)` (or an unknown address) gives
# as the detail: translated too. Its English is Werkzeug's, word for word.
WERKZEUG_DETAILS: dict[int, LazyString] = {
    400: lazy_gettext(
        "The browser (or proxy) sent a request that this server could not understand."
    ),
    404: lazy_gettext(
        "The requested URL was not found on the server. If you entered the URL manually please"
        " check your spelling and try again."
    ),
    405: lazy_gettext("The method is not allowed for the requested URL."),
    409: lazy_gettext(
        "A conflict happened while processing the request. The resource might have been"
        " modified while the request was being processed."
    ),
    413: lazy_gettext("The data value transmitted exceeds the capacity limit."),
    415: lazy_gettext("The server does not support the media type transmitted in the request."),
}


class ProblemSchema(ma.Schema):
    """What every error answers, for the OpenAPI document (never used to dump)."""

    type = ma.fields.String(metadata={"description": "Always about:blank: the status says it"})
    title = ma.fields.String(metadata={"description": "The status's name"})
    status = ma.fields.Integer(metadata={"description": "The HTTP status"})
    detail = ma.fields.String(metadata={"description": "What was wrong, for a person to read"})
    errors = ma.fields.Dict(
        keys=ma.fields.String(),
        metadata={"description": "For a refused request: each field's (or parameter's) messages"},
    )


def problem(
    status: int,
    detail: str | None = None,
    *,
    errors: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    body: dict[str, Any] = {"type": "about:blank", "title": title(status)}
    body["status"] = status
    if detail:
        body["detail"] = _translated(status, detail)
    if errors:
        body["errors"] = errors
    response = current_app.response_class(
        current_app.json.dumps(body), status=status, mimetype=CONTENT_TYPE
    )
    response.headers.update(headers or {})
    # The language of its title and detail (api/auth.py's caller's, see i18n.select_locale).
    response.headers["Content-Language"] = str(get_locale() or current_app.config["DEFAULT_LOCALE"])
    return response


def _translated(status: int, detail: str) -> str:
    """`detail`, in the request's language when it is Werkzeug's own for the status."""
    werkzeug = default_exceptions.get(status)
    if status in WERKZEUG_DETAILS and werkzeug is not None and detail == werkzeug.description:
        return str(WERKZEUG_DETAILS[status])
    return detail


def title(status: int) -> str:
    """The status's name, in the request's language."""
    named = TITLES.get(status)
    return str(named) if named is not None else HTTPStatus(status).phrase


def refusal(error: RuleViolation, status: int = HTTPStatus.UNPROCESSABLE_ENTITY) -> Response:
    """A business rule's refusal (a service's RuleViolation): 422, with its message under the
    field it names; several at once (`Refusals`), each under its own."""
    errors: dict[str, list[str]] = {}
    for each in error.each if isinstance(error, Refusals) else (error,):
        if each.field:
            errors.setdefault(each.field, []).append(each.message)
    return problem(status, error.message, errors=errors or None)


def http_exception(error: HTTPException) -> ResponseReturnValue:
    """An HTTPException raised in an API view: `abort(404)`, or webargs' 422 with its messages
    (flask-smorest's `abort(…, errors=…)` puts them in `error.data`)."""
    status = error.code or 500
    if status >= 500:
        db.session.rollback()
    data = getattr(error, "data", None) or {}
    errors = data.get("errors") or data.get("messages")
    if isinstance(errors, dict) and set(errors) <= LOCATIONS:
        errors = _by_field(errors)
    detail = data.get("message") or (error.description if status < 500 else None)
    if errors and "message" not in data:
        detail = gettext("The request has invalid values: see errors.")
    headers = dict(data.get("headers") or {})
    if status == HTTPStatus.TOO_MANY_REQUESTS:
        headers["Retry-After"] = str(retry_after())
    response = problem(status, detail, errors=errors, headers=headers)
    if error.code == HTTPStatus.METHOD_NOT_ALLOWED:
        valid = getattr(error, "valid_methods", None)
        if valid:
            response.allow.update(valid)
    return response


def _by_field(by_location: dict[str, Any]) -> dict[str, Any]:
    """webargs keys its messages by where they came from: each field's messages, or the
    location's own (a body that is not JSON: {"json": ["Invalid JSON body."]})."""
    fields: dict[str, Any] = {}
    for where, messages in by_location.items():
        fields.update(messages if isinstance(messages, dict) else {where: messages})
    return fields


def answer(status: int, detail: str | None) -> Response:
    """Errors under /api/v1 that no API view raised (an unknown address, a body too large, a
    bug): problem details too, never an HTML page."""
    if status == HTTPStatus.METHOD_NOT_ALLOWED and request.url_rule is None:
        detail = None
    headers = {}
    if status == HTTPStatus.TOO_MANY_REQUESTS:
        headers["Retry-After"] = str(retry_after())
    return problem(status, detail if status < 500 else None, headers=headers)


def retry_after() -> int:
    """Seconds until the rate limit that refused the request lets it in again (its window's
    end), at least 1."""
    limit = limiter.current_limit
    if limit is None:
        return 60
    return max(1, math.ceil(limit.window.reset_time - time.time()))
