"""Error pages and fragments, and the error type business rules raise."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from flask import (
    Flask,
    Response,
    current_app,
    g,
    has_request_context,
    make_response,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import force_locale, gettext, lazy_gettext
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from serviceideas import i18n
from serviceideas.extensions import db
from serviceideas.htmx import is_fragment_request
from serviceideas.text import visible_text
from serviceideas.urls import page_came_from


class RuleViolation(ValueError):
    """A business rule refused an action. `field` names the form field to show it beside."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class Refusals(RuleViolation):
    """Several rules refused one action at once, each beside its own field, so that a form
    asks for everything missing in one go. It reads as the first refusal (its message and
    field); `each` holds them all, in the form's order."""

    def __init__(self, each: Sequence[RuleViolation]) -> None:
        super().__init__(each[0].message, each[0].field)
        self.each = tuple(each)

    @classmethod
    def raise_any(cls, each: Sequence[RuleViolation]) -> None:
        """Refuse with `each`: one refusal as itself, several together; none: go on."""
        if len(each) == 1:
            raise each[0]
        if each:
            raise cls(each)


class Taken(RuleViolation):
    """Refused because something that must be one of a kind (a name, an email address) is
    already another's: checked beforehand, or found by the database's unique constraint."""


def required_text(value: str | None, field: str, label: str, maximum: int) -> str:
    """`value` stripped, without direction controls, or a RuleViolation naming the field when
    it is empty (nothing visible: only spaces and format characters) or too long."""
    value = visible_text(value)
    if not value:
        raise RuleViolation(gettext("Please fill in %(label)s.", label=label), field)
    if len(value) > maximum:
        raise RuleViolation(
            gettext(
                "Keep %(label)s to %(maximum)d characters (it has %(length)d).",
                label=label,
                maximum=maximum,
                length=len(value),
            ),
            field,
        )
    return value


# What a person should read for each status; the handler adds the specific reason.
EXPLANATIONS = {
    400: (
        lazy_gettext("Something in that request was not right"),
        lazy_gettext("Go back, check what you sent and try again."),
    ),
    403: (
        lazy_gettext("You do not have access to this"),
        lazy_gettext("Your roles do not include this page or action."),
    ),
    404: (
        lazy_gettext("Not found"),
        lazy_gettext("There is nothing here. It may have been removed, or the link is wrong."),
    ),
    405: (lazy_gettext("Not allowed"), lazy_gettext("This page cannot be used that way.")),
    409: (
        lazy_gettext("Someone else got there first"),
        lazy_gettext("The page you acted on has changed. Reload it."),
    ),
    413: (
        lazy_gettext("Too large"),
        lazy_gettext("What you sent is larger than this server accepts (4 MB)."),
    ),
    422: (
        lazy_gettext("Please check your input"),
        lazy_gettext("Something you entered could not be used."),
    ),
    429: (
        lazy_gettext("Too many attempts"),
        lazy_gettext("Please wait a minute before trying again."),
    ),
    500: (
        lazy_gettext("Something went wrong on our side"),
        lazy_gettext("Nothing you did caused this; please try again."),
    ),
    503: (
        lazy_gettext("The database is not answering"),
        lazy_gettext(
            "The database is not answering; try again in a moment. Nothing you did caused this."
        ),
    ),
}
RETRY_AFTER_SECONDS = 5  # how long a client is told to wait when the database is away


# Parts of the site that machines call, not people (the SCIM service): their URL prefix, and
# how they answer an error in their own format instead of an HTML page.
ErrorAnswer = Callable[[int, str | None], Response]
_MACHINE_ANSWERS: dict[str, ErrorAnswer] = {}


# Blueprints of pages for people that live under such a prefix (the API's documentation
# page): their errors are pages like any other.
_PAGES_UNDER_MACHINE_PREFIXES: set[str] = set()


def answer_errors_under(prefix: str, answer: ErrorAnswer, *, pages: str | None = None) -> None:
    """Answer errors (404, 405, 413, 429, 500…) under `prefix` with `answer`, except on the
    routes of the blueprint named `pages`, which are for people."""
    _MACHINE_ANSWERS[prefix.rstrip("/")] = answer
    if pages is not None:
        _PAGES_UNDER_MACHINE_PREFIXES.add(pages)


def _machine_answer(status: int, detail: str | None) -> Response | None:
    if request.blueprint in _PAGES_UNDER_MACHINE_PREFIXES:
        return None
    path = request.path
    for prefix, answer in _MACHINE_ANSWERS.items():
        if path == prefix or path.startswith(prefix + "/"):
            return answer(status, detail)
    return None


def render_error(status: int, detail: str | None = None, **more: Any) -> tuple[str, int]:
    title, explanation = EXPLANATIONS.get(status, EXPLANATIONS[400])
    template = "errors/_error.html" if is_fragment_request() else "errors/error.html"
    context = {"status": status, "title": title, "explanation": explanation, "detail": detail}
    context.update(more)
    if sent_a_form():
        # Whatever went wrong, nothing the form held was written: the text typed into it stays
        # kept in the tab, for its page to put back (docs/architecture.md, "Text typed when the
        # session ends"). Not after a commit: an error after the write says nothing, so the
        # copy counts as taken and is never offered again.
        context.setdefault("kept_typing", "" if g.get("committed") else "not-sent")
    return render_template(template, **context), status


def sent_a_form() -> bool:
    """Whether the request sent something to be written (a form), not asked for a page."""
    return request.method not in {"GET", "HEAD", "OPTIONS"}


@sa.event.listens_for(Session, "after_commit")
def _note_commit(_session: Session) -> None:
    """The request wrote something: an error page after it must not say nothing was sent."""
    if has_request_context():
        g.committed = True


def abandon_transaction() -> None:
    """Roll back after a database error; if the connection died too, never reuse it."""
    try:
        db.session.rollback()
    except SQLAlchemyError:
        db.session().invalidate()


def database_unavailable(error: OperationalError) -> Response:
    """503 when the database cannot be reached (down, restarting, too busy, connection cut).

    The page is drawn without touching the database: not from base.html, whose navigation
    shows the signed-in person and their unread count, and without the context processors,
    one of which (Flask-Login's) loads the signed-in person. What the request had written is
    rolled back, so nothing it did counts; the connection pool checks every connection before
    use (`database.server_spoke`), so the next request after the database is back simply works.
    """
    current_app.logger.warning(
        "Database unavailable on %s %s: %s",
        request.method,
        request.path,
        str(getattr(error, "orig", None) or error).splitlines()[0],
    )
    abandon_transaction()
    # The person's chosen language is in the database, so the browser's is used.
    with force_locale(i18n.browser_language()):
        title, explanation = (str(text) for text in EXPLANATIONS[503])
        template = "errors/_error.html" if is_fragment_request() else "errors/unavailable.html"
        body = current_app.jinja_env.get_template(template).render(
            status=503,
            title=title,
            explanation=explanation,
            detail=None,
            # A form's text was not written: kept in the tab, and "Try again" leads back to
            # the form's page, where it is put back.
            kept_typing="not-sent" if sent_a_form() and not g.get("committed") else None,
            try_again=request.full_path.rstrip("?")
            if not sent_a_form()
            else page_came_from() or url_for("home.index"),
        )
    response = make_response(body, 503)
    response.retry_after = RETRY_AFTER_SECONDS
    response.cache_control.no_store = True
    return response


def end_session_quietly(_error: BaseException | None) -> None:
    """End the request's database session, even when the database has just gone away.

    The session rolls back whatever transaction is still open when a request ends, often one
    begun after the commit to draw the page. If the connection was cut in between, that
    rollback fails, and raised from the teardown it would turn an answered request — one
    whose commit had succeeded — into a bare 500. The connection is dropped instead.
    Registered after Flask-SQLAlchemy, so it runs first; that one then finds nothing to do.
    """
    try:
        db.session.close()
    except SQLAlchemyError as error:
        current_app.logger.warning(
            "Database connection lost at the end of a request: %s",
            str(getattr(error, "orig", None) or error).splitlines()[0],
        )
        db.session().invalidate()


# Forms people send while signed out: a CSRF refusal there is no sign of an ended session.
SIGNED_OUT_FORMS = {"auth.login", "auth.set_password"}


def register_errorhandlers(app: Flask) -> None:
    app.register_error_handler(OperationalError, database_unavailable)
    app.teardown_appcontext(end_session_quietly)

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError) -> ResponseReturnValue:
        """Nothing was sent. When the session had ended (the person is no longer signed in:
        the idle timeout, Sign out in another tab, deactivated), the page says so and links
        to sign in and back to the form's page, where static/js/kept-typing.js puts the text
        back; every such page tells that script the text was not sent (docs/architecture.md,
        "Text typed when the session ends"). Sign out itself is the exception: whoever clicks
        it after the session ended is signed out already, and gets what Sign out gives, the
        sign-in page that forgets the text kept in the tab (a shared computer)."""
        if request.endpoint == "auth.logout" and not current_user.is_authenticated:
            # people.routes imports this module, so the import waits until it is needed.
            from serviceideas.people.routes import signed_out

            return signed_out(gettext("You are signed out."))
        if current_user.is_authenticated or request.endpoint in SIGNED_OUT_FORMS:
            detail = gettext(
                "The form had expired or did not come from this site. Reload the page and retry."
            )
            return render_error(400, detail, kept_typing="not-sent")
        back = page_came_from()
        return render_error(
            400,
            gettext("You were signed out, so this was not sent."),
            title=gettext("Your session had ended"),
            kept_typing="not-sent",
            sign_in=url_for("auth.login", next=back),
        )

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Response:
        status = error.code or 500
        # Werkzeug's own descriptions are English, and a rate limit's ("5 per 1 minute") is
        # written for machines: the status's explanation says it in the person's language.
        own_words = error.description != type(error).description
        detail = error.description if status in {400, 409, 422} and own_words else None
        response = _machine_answer(status, error.description) or make_response(
            render_error(status, detail)
        )
        if isinstance(error, MethodNotAllowed) and error.valid_methods:
            # A 405 must say which methods the URL does take; Werkzeug's own page would.
            response.allow.update(error.valid_methods)
        return response

    @app.errorhandler(500)
    def internal_error(_error: Exception) -> ResponseReturnValue:
        db.session.rollback()
        return _machine_answer(500, None) or render_error(500)
