"""A refused form is shown at an address the browser can go back to (Post/Redirect/Get).

Answering a refused POST with the form itself leaves a POST in the browser's history: Back or
Forward to it asks to send the form again ("Confirm form resubmission"). Instead, `refuse`
keeps what the person typed and the reasons in `refused_forms`, under an unguessable token,
and sends the browser to the form's own page with `?refused=<token>`; that page's GET calls
`restore`, which fills the form from it. Going back to that address (or reloading it) shows
the same refusal with the same text, and sends nothing. An htmx request gets the refused
form's fragment (422) with `HX-Replace-Url` set to that same address, so it adds no history
entry either. See docs/architecture.md, "Finishing a write".

The page that shows a refused form again answers 422, like the fragment: the person (or a
client following the redirect) ends the exchange on that page, and its status says the input
was refused, not a 2xx. A 4xx GET is still a GET: Back, Forward and Reload send nothing.
`restore` marks the request, and `init_app`'s hook turns that page's 200 into 422, whatever
else it lists (the trainers' inbox shows many reflections and one refused form).

Only a signed-in person's forms are kept, and only they can open them again; passwords and
the CSRF token are never stored. A kept form is forgotten after `KEPT_FOR`.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import sqlalchemy as sa
from flask import Flask, Response, flash, make_response, redirect, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy.orm import Mapped, mapped_column
from werkzeug.datastructures import MultiDict
from wtforms import PasswordField

from serviceideas.database import UTCDateTime, utcnow
from serviceideas.errors import sent_a_form
from serviceideas.extensions import db
from serviceideas.htmx import is_fragment_request

if TYPE_CHECKING:
    from serviceideas.extensions import Base as Model  # what db.Model is, to the type checker
else:
    Model = db.Model  # Flask-SQLAlchemy makes it at run time, out of mypy's sight

REFUSAL_ARG = "refused"
REFUSED_STATUS = 422  # Unprocessable Content: a refused form, shown again
SHOWN = "serviceideas.refused_form_shown"  # the request's mark, in its WSGI environ
KEPT_FOR = timedelta(days=1)
PAGE_MAX = 2000


class RefusedForm(Model):
    """What one person typed into a form that was refused, and why, until they come back."""

    __tablename__ = "refused_forms"

    token: Mapped[str] = mapped_column(sa.String(43), primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    page: Mapped[str] = mapped_column(sa.String(PAGE_MAX))  # the path of the form's GET page
    # {"input": [[name, value], ...] in the order sent, "errors": {name: [message, ...]}}
    content: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    refused_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)


def refuse(
    form: FlaskForm,
    page: str,
    *,
    fragment: Callable[[], str] | None = None,
    replacing: Mapping[str, str] | None = None,
) -> ResponseReturnValue:
    """Answer a POST whose `form` was refused (by its validators or by `commit_or_refuse`).

    Keeps the input and the errors for the signed-in person, then sends the browser to `page`
    (the address of the form's GET, which calls `restore`). For an htmx request, and when the
    view gives the `fragment` that shows the refused form, answers with it (422) instead,
    putting the same address in the location bar without a new history entry.
    """
    address = with_refusal(page, keep(form, page, replacing))
    if fragment is not None and is_fragment_request():
        response = make_response(fragment(), 422)
        response.headers["HX-Replace-Url"] = address
        return response
    return redirect(address, code=303)


def keep(form: FlaskForm, page: str, replacing: Mapping[str, str] | None = None) -> str:
    """Store `form`'s input and errors for the signed-in person; answer the token. Commits
    (the request's own write, if any, was already committed or rolled back). `replacing`
    gives values the view chose instead of those sent (a new submission token)."""
    if not current_user.is_authenticated:
        raise RuntimeError("only a signed-in person's refused forms are kept")  # a view's bug
    secret = {"csrf_token"} | {f.name for f in form if isinstance(f, PasswordField)}
    content = {
        "input": [
            [name, (replacing or {}).get(name, value)]
            for name, value in request.form.items(multi=True)
            if name not in secret
        ],
        "errors": {name: [str(m) for m in messages] for name, messages in _errors(form)},
    }
    token = secrets.token_urlsafe(32)
    now = utcnow()
    db.session.execute(sa.delete(RefusedForm).where(RefusedForm.refused_at < now - KEPT_FOR))
    db.session.add(
        RefusedForm(
            token=token,
            user_id=current_user.id,
            page=urlsplit(page).path[:PAGE_MAX],
            content=content,
            refused_at=now,
        )
    )
    db.session.commit()
    return token


def _errors(form: FlaskForm) -> list[tuple[str, list[Any]]]:
    found = [
        (f.name, list(f.errors)) for f in form if f.errors and isinstance(f.errors, list | tuple)
    ]
    if form.form_errors:
        found.append(("", list(form.form_errors)))
    return found


def restore(form: FlaskForm) -> bool:
    """On a form page's GET: when the address carries a refusal the signed-in person had on
    this page (and it is still kept), fill `form` with what they typed and show the reasons
    beside the fields. True when it did."""
    token = request.args.get(REFUSAL_ARG)
    if not token or not current_user.is_authenticated:
        return False
    kept = db.session.get(RefusedForm, token)
    if (
        kept is None
        or kept.user_id != current_user.id
        or kept.page != request.path
        or kept.refused_at < utcnow() - KEPT_FOR
    ):
        return False
    form.process(formdata=MultiDict([(name, value) for name, value in kept.content["input"]]))
    for name, messages in kept.content["errors"].items():
        if name == "":
            form.form_errors = [*form.form_errors, *messages]
        elif name in form:
            form[name].errors = list(messages)
    request.environ[SHOWN] = True  # the page answers REFUSED_STATUS (init_app)
    return True


def init_app(app: Flask) -> None:
    @app.context_processor
    def refused_form_shown() -> dict[str, str]:
        # For the browser's copy of what was typed (static/js/kept-typing.js): a page showing a
        # refused form again, restored here or drawn in answer to its POST (a POST that writes
        # is answered by a redirect), says that nothing was written. A view's own word wins.
        if request.environ.get(SHOWN) or (sent_a_form() and not is_fragment_request()):
            return {"kept_typing": "refused"}
        return {}

    @app.after_request
    def refused_form_status(response: Response) -> Response:
        # Only a page that would have answered 200: a redirect or an error stays itself.
        if (
            request.environ.get(SHOWN)
            and response.status_code == 200
            and response.mimetype == "text/html"
        ):
            response.status_code = REFUSED_STATUS
        return response


def confirmation(page: Callable[[], str]) -> tuple[str, int]:
    """Answer a confirmation page's address (revoking a token, deleting an endpoint) with the
    page: to its GET (200), and to a POST without the confirmation its own form sends, which
    only a hand-made request is (422), saying nothing was done. Its button confirms; there
    is nothing typed to keep."""
    if request.method == "GET":
        return page(), 200
    flash(
        gettext("Nothing was done: the request was not sent from this confirmation page."), "error"
    )
    return page(), REFUSED_STATUS


def forget(user_id: int, page: str) -> None:
    """Drop what the person's refused forms on `page` held (flushes): call it inside the write
    that finally succeeded, when the text was private."""
    db.session.execute(
        sa.delete(RefusedForm).where(
            RefusedForm.user_id == user_id, RefusedForm.page == urlsplit(page).path
        )
    )


def with_refusal(page: str, token: str) -> str:
    """`page` with the refusal's token in its query string (replacing an older one)."""
    parts = urlsplit(without_refusal(page))
    query = [*parse_qsl(parts.query, keep_blank_values=True), (REFUSAL_ARG, token)]
    return urlunsplit(parts._replace(query=urlencode(query)))


def without_refusal(page: str) -> str:
    """`page` without a refusal's token: where a page showing a refused form goes once the form
    is sent and taken (htmx leaves the address as it was), so that Reload shows it as it is."""
    parts = urlsplit(page)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != REFUSAL_ARG]
    return urlunsplit(parts._replace(query=urlencode(query)))
