"""/scim/v2/: the SCIM 2.0 service a company's directory provisions people through
(docs/architecture.md, "SCIM provisioning"). Every request carries a bearer token an admin
made (scim/tokens.py) and is logged, whatever its outcome."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, g, request
from scim2_models import Error

from serviceideas.extensions import csrf, limiter
from serviceideas.scim import tokens

bp = Blueprint("scim", __name__, url_prefix="/scim/v2")
csrf.exempt(bp)  # a bearer token, not a cookie, authenticates these requests

SCIM_MEDIA_TYPE = "application/scim+json"


def scim_error(status: int, detail: str, scim_type: str | None = None) -> Response:
    """An RFC 7644 error response (section 3.12)."""
    error = Error(status=status, detail=detail, scim_type=scim_type)
    response = current_app.response_class(
        error.model_dump_json(exclude_none=True), status=status, mimetype=SCIM_MEDIA_TYPE
    )
    tokens.note_outcome(detail)
    return response


def _refused_token(response: Response) -> bool:
    return response.status_code == 401


# A wrong token costs its sender: guessing tokens is slow (they are 256 bits anyway), and a
# misconfigured directory does not fill the log at its full speed.
limiter.limit("30 per minute", deduct_when=_refused_token)(bp)


@bp.before_request
def require_token() -> Response | None:
    token = tokens.token_from_header(request)
    if token is None:
        response = scim_error(401, "A valid bearer token is required (Authorization: Bearer …).")
        response.headers["WWW-Authenticate"] = 'Bearer realm="serviceideas SCIM"'
        return response
    g.scim_token = token
    return None


@bp.after_request
def log_request(response: Response) -> Response:
    tokens.record_request(request, response.status_code)
    return response
