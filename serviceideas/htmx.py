"""What the server needs to know about htmx requests, and how it answers them."""

from __future__ import annotations

from flask import Flask, Response, flash, redirect, request
from flask_babel import gettext
from flask_login import login_url
from werkzeug.wrappers import Response as WerkzeugResponse

from serviceideas.urls import LONGEST_NEXT, page_came_from


def is_htmx_request() -> bool:
    return request.headers.get("HX-Request") == "true"


def is_fragment_request() -> bool:
    """A plain htmx request wants a fragment; a boosted one or a history restore wants the page."""
    return (
        is_htmx_request()
        and request.headers.get("HX-Boosted") != "true"
        and request.headers.get("HX-History-Restore-Request") != "true"
    )


def hx_redirect(url: str) -> Response:
    """Send an htmx client to another page (a full navigation)."""
    response = Response(status=204)
    response.headers["HX-Redirect"] = url
    return response


def send_to_sign_in() -> WerkzeugResponse:
    """Flask-Login's answer to a signed-out request. An htmx request would otherwise follow
    the redirect and swap the whole sign-in page into a fragment: send the browser instead.

    After signing in, the person comes back to the page they were on, where
    static/js/kept-typing.js puts back what they had typed (docs/architecture.md, "Text typed
    when the session ends"): for a page's GET, that page; for a form's POST or an htmx request
    (a look-up made while typing), whose address is no page, the page it was sent from, and
    when that is unknown, no page at all (the POST's or fragment's own address would answer a
    405 or a bare fragment after signing in). An address too long to carry is dropped."""
    here: str | None = request.full_path.rstrip("?")
    if is_fragment_request() or request.method != "GET":
        here = page_came_from()
    if here is not None and len(here) > LONGEST_NEXT:
        here = None
    # Flask-Login ships no types; login_url answers the sign-in page's address as text.
    url: str = login_url("auth.login", next_url=here)
    if is_htmx_request():
        return hx_redirect(url)
    flash(gettext("Please sign in to see that page."), "info")
    return redirect(url)


def init_app(app: Flask) -> None:
    @app.after_request
    def vary_on_htmx(response: Response) -> Response:
        # The same URL answers with a page or a fragment: caches must keep them apart.
        response.vary.add("HX-Request")
        return response
