"""Requests a page makes by itself do not count as use of the session.

The session is a signed cookie, sent again with every answer so that the idle timeout starts
over with each use (SECURITY.md, "Sessions"). Two kinds of request are made by the page, not
by the person: polls (the bell, an import's progress) and look-ups while typing (similar
ideas, the owner and merge pickers). Were their answers to send the cookie again,

- an open tab would never go idle: the bell asks every minute, for ever;
- an answer could undo a message a form's answer had just stored: a look-up that left before
  the form was sent and came back after it carries the cookie as it was before, without the
  form's "your idea is in".

So their answers send no cookie unless the request itself changed the session. Nor do static
files' (served by the app where no web server serves them): the favicon a page asks for after
loading, answered after a form's answer, would carry the cookie from before the form.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import ParamSpec, TypeVar

from flask import Flask, g, request
from flask.sessions import SecureCookieSessionInterface, SessionMixin

P = ParamSpec("P")
R = TypeVar("R")


def made_by_the_page(view: Callable[P, R]) -> Callable[P, R]:
    """Mark a view that pages call by themselves (a poll, a look-up while typing): its
    answer leaves the session cookie alone unless the view changed the session."""

    @wraps(view)
    def marked(*args: P.args, **kwargs: P.kwargs) -> R:
        g.made_by_the_page = True
        return view(*args, **kwargs)

    return marked


class SessionInterface(SecureCookieSessionInterface):
    def should_set_cookie(self, app: Flask, session: SessionMixin) -> bool:
        if g.get("made_by_the_page") or request.endpoint == "static":
            return session.modified
        return super().should_set_cookie(app, session)


def init_app(app: Flask) -> None:
    app.session_interface = SessionInterface()
