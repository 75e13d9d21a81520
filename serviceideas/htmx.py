"""What the server needs to know about htmx requests, and how it answers them."""

from __future__ import annotations

from flask import Flask, Response, flash, redirect, request
from flask_babel import gettext
from flask_login import login_url
from werkzeug.wrappers import Response as WerkzeugResponse

from serviceideas.urls import page_came_from


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
    the redirect and swap the whole sign-in page into a fragment: send the browser instead,
    back to the page it was on after signing in (the request's own address is a fragment's,
    a look-up made while typing), where static/js/kept-typing.js puts back the text that page
    held (docs/architecture.md, "Text typed when the session ends")."""
    here = request.full_path.rstrip("?")
    # Flask-Login ships no types; login_url answers the sign-in page's address as text.
    if is_htmx_request():
        back: str = login_url("auth.login", next_url=page_came_from() or here)
        return hx_redirect(back)
    url: str = login_url("auth.login", next_url=here)
    flash(gettext("Please sign in to see that page."), "info")
    return redirect(url)


def init_app(app: Flask) -> None:
    @app.after_request
    def vary_on_htmx(response: Response) -> Response:
        # The same URL answers with a page or a fragment: caches must keep them apart.
        response.vary.add("HX-Request")
        return response
