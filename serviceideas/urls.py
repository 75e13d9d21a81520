"""URL pieces shared by every feature: the id converter and links that keep the filters."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode, urlsplit

from flask import abort, current_app, request, url_for
from flask_babel import gettext
from werkzeug.routing import IntegerConverter
from werkzeug.sansio.utils import host_is_trusted

DATABASE_INT_MAX = 2**31 - 1


class IdConverter(IntegerConverter):
    """`<id:idea_id>`: a positive integer that fits the database's id column, else 404."""

    def __init__(self, map: Any) -> None:
        super().__init__(map, min=1, max=DATABASE_INT_MAX)


def database_id(text: str) -> int | None:
    """`text` as a row's id, as IdConverter takes it: ASCII digits naming a number from 1 to
    DATABASE_INT_MAX. None for anything else ("²" and "٣" are digits to `str.isdigit`, and
    an id past the column's range fails the query on PostgreSQL and SQLite alike)."""
    if not text.isascii() or not text.isdigit() or len(text) > len(str(DATABASE_INT_MAX)):
        return None
    number = int(text)
    return number if 1 <= number <= DATABASE_INT_MAX else None


def safe_next(target: str | None) -> str | None:
    """`target` if it is a path on this site; None for anything that could lead elsewhere.

    The app's one check before redirecting to an address that came from outside the code
    (a `next` parameter, a stored link): `//host`, `/\\host`, schemes and control characters
    are refused, so no redirect can leave the site.
    """
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or any(ord(ch) < 32 for ch in target):
        return None
    return target


# The longest address carried as a `next`: a longer one is dropped (it would make the sign-in
# page's address longer than browsers and proxies reliably take).
LONGEST_NEXT = 2000


def page_came_from() -> str | None:
    """The path and query of the page on this site the request was sent from (an htmx
    request's HX-Current-URL, else the Referer), when it is a safe `next` no longer than
    LONGEST_NEXT; else None. Where to come back to after signing in again, when the request
    itself is no page (a form's POST, a fragment)."""
    came_from = urlsplit(request.headers.get("HX-Current-URL") or request.referrer or "")
    site = urlsplit(str(current_app.config.get("BASE_URL") or "")).netloc
    if not came_from.netloc or came_from.netloc not in {request.host, site}:
        return None
    path = came_from.path + (f"?{came_from.query}" if came_from.query else "")
    return safe_next(path) if len(path) <= LONGEST_NEXT else None


def absolute(path: str) -> str:
    """A path on this site as the address people reach it at (the configured BASE_URL).

    The app's one way to build an absolute link (password links, e-mails, the calendar feed,
    unsubscribe links): never from the request's Host header, which the visitor chooses.
    """
    return str(current_app.config["BASE_URL"]).rstrip("/") + path


def refuse_foreign_hosts() -> None:
    """A request for a host this app does not serve is a 400 (config ALLOWED_HOSTS).

    The first thing each request does. Werkzeug's host check, as Flask's TRUSTED_HOSTS would
    do it, but run here: Flask's leaves the request without a URL adapter, so the app's own
    400 page, whose layout builds links, would fail as a 500 instead (SECURITY.md).
    """
    hosts = current_app.config["ALLOWED_HOSTS"]
    if hosts and not host_is_trusted(request.host, hosts):
        abort(400, description=gettext("This server does not answer for that host name."))


def this_page_with(**changes: Any) -> str:
    """The current page's address with some query parameters changed (None drops one).

    Query parameters never reach url_for as keyword arguments, so a visitor's `?_external=`
    or `?endpoint=` cannot change where links point.
    """
    args = request.args.to_dict()
    for key, value in changes.items():
        if value is None:
            args.pop(key, None)
        else:
            args[key] = value
    base = url_for(request.endpoint or "home.index", **(request.view_args or {}))
    return f"{base}?{urlencode(args)}" if args else base


def url_for_each(endpoint: str, key: str, **values: Any) -> Callable[[int], str]:
    """`url_for(endpoint, **values, <key>=id)` for many ids, built once: a list links each row.

    The address is built with an id no row can have and split around it; if that fails (the
    marker's digits appear twice), each address is built the ordinary way.
    """
    marker = str(DATABASE_INT_MAX + 1)
    parts = url_for(endpoint, **{**values, key: marker}).split(marker)
    if len(parts) != 2:
        return lambda id: url_for(endpoint, **{**values, key: id})
    head, tail = parts
    return lambda id: f"{head}{id}{tail}"
