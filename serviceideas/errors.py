"""Error pages and fragments, and the error type business rules raise."""

from __future__ import annotations

from flask import Flask, render_template
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from serviceideas.extensions import db
from serviceideas.htmx import is_fragment_request


class RuleViolation(ValueError):
    """A business rule refused an action. `field` names the form field to show it beside."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


def required_text(value: str | None, field: str, label: str, maximum: int) -> str:
    """`value` stripped, or a RuleViolation naming the field when it is empty or too long."""
    value = (value or "").strip()
    if not value:
        raise RuleViolation(f"Please fill in {label}.", field)
    if len(value) > maximum:
        raise RuleViolation(f"Keep {label} to {maximum} characters (it has {len(value)}).", field)
    return value


# What a person should read for each status; the handler adds the specific reason.
EXPLANATIONS = {
    400: ("Something in that request was not right", "Go back, check what you sent and try again."),
    403: ("You do not have access to this", "Your roles do not include this page or action."),
    404: ("Not found", "There is nothing here. It may have been removed, or the link is wrong."),
    405: ("Not allowed", "This page cannot be used that way."),
    409: ("Someone else got there first", "The page you acted on has changed. Reload it."),
    413: ("Too large", "What you sent is larger than this server accepts (4 MB)."),
    422: ("Please check your input", "Something you entered could not be used."),
    429: ("Too many attempts", "Please wait a minute before trying again."),
    500: ("Something went wrong on our side", "Nothing you did caused this; please try again."),
}


def render_error(status: int, detail: str | None = None) -> tuple[str, int]:
    title, explanation = EXPLANATIONS.get(status, EXPLANATIONS[400])
    template = "errors/_error.html" if is_fragment_request() else "errors/error.html"
    context = {"status": status, "title": title, "explanation": explanation, "detail": detail}
    return render_template(template, **context), status


def register_errorhandlers(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError) -> tuple[str, int]:
        return render_error(
            400, "The form had expired or did not come from this site. Reload the page and retry."
        )

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> tuple[str, int]:
        status = error.code or 500
        detail = error.description if status in {400, 409, 422, 429} else None
        return render_error(status, detail)

    @app.errorhandler(500)
    def internal_error(_error: Exception) -> tuple[str, int]:
        db.session.rollback()
        return render_error(500)
