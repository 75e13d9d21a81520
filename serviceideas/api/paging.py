"""Lists under /api/v1 come in keyset pages, as the pages' lists do (docs/product.md, "The API"):
the body is `{"items": [...], "links": {"next": <absolute URL> | null}}`, and the next page's
address is also sent as a `Link: <…>; rel="next"` header. Following `links.next` until it is
null walks the whole list once, in order, without repeats.

A resource's list view takes `PageArgsSchema` (or a subclass with its filters) as its query
arguments, reads one page from its feature's queries.py, and returns `paged(items, cursor)`;
its response schema is `page_schema(ItemSchema, "ThingPage")`, so the document shows the
shape. The cursor is the feature's own opaque text (ideas: queries.encode_cursor); lists
ordered by id alone can use `id_cursor` and `after_id`.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any
from urllib.parse import urlencode

import marshmallow as ma
from flask import current_app, request
from flask_babel import lazy_gettext

from serviceideas.api.text import Text
from serviceideas.errors import RuleViolation
from serviceideas.urls import DATABASE_INT_MAX, absolute

# The query parameters: where the page starts (a cursor from links.next), and its size.
AFTER = "after"
LIMIT = "limit"
LIMIT_MAX = 100
# Longer than any cursor this app writes (queries.CURSOR_MAX_LENGTH says the same for ideas).
AFTER_MAX_LENGTH = 200
BROKEN = lazy_gettext("That page link is broken; start from the first page.")


class PageArgsSchema(ma.Schema):
    """The paging parameters every list takes; a list with filters subclasses it."""

    after = Text(
        load_default=None,
        allow_none=False,
        validate=ma.validate.Length(min=1, max=AFTER_MAX_LENGTH),
        metadata={"description": "Where the page starts: copy it from links.next."},
    )
    limit = ma.fields.Integer(
        load_default=None,
        allow_none=False,
        validate=ma.validate.Range(min=1, max=LIMIT_MAX),
        metadata={"description": f"How many items a page holds (1 to {LIMIT_MAX}; default 25)."},
    )


def page_size(args: dict[str, Any]) -> int:
    """The page size asked for, else the pages' own (PAGE_SIZE)."""
    asked = args.get(LIMIT)
    if asked is not None:
        return int(asked)
    size: int = current_app.config["PAGE_SIZE"]
    return size


class PageLinksSchema(ma.Schema):
    next = Text(
        required=True,
        allow_none=True,
        metadata={
            "format": "uri",
            "description": "The next page's absolute address, or null on the last page.",
        },
    )


def page_schema(item_schema: type[ma.Schema], name: str) -> type[ma.Schema]:
    """A page of `item_schema`, named `name` in the OpenAPI document (unique across the API,
    e.g. "IdeaPage")."""
    fields: dict[str, Any] = {
        "items": ma.fields.List(ma.fields.Nested(item_schema), required=True),
        "links": ma.fields.Nested(PageLinksSchema, required=True),
        "__doc__": f"One page of a list; follow links.next for the next ({name}).",
    }
    # apispec names a component after its class, without "Schema".
    return type(f"{name}Schema", (ma.Schema,), fields)


def next_url(cursor: str) -> str:
    """This request's address (at BASE_URL, never the request's own Host), its query the same
    but starting after `cursor`."""
    query = [(key, value) for key, value in request.args.items(multi=True) if key != AFTER]
    query.append((AFTER, cursor))
    return f"{absolute(request.path)}?{urlencode(query)}"


def paged(items: list[Any], cursor: str | None) -> tuple[dict[str, Any], dict[str, str]]:
    """A view's answer for one page: the body (dumped by its `page_schema`) and the Link
    header when there is a next page."""
    following = next_url(cursor) if cursor else None
    headers = {"Link": f'<{following}>; rel="next"'} if following else {}
    return {"items": items, "links": {"next": following}}, headers


def id_cursor(last_id: int) -> str:
    """The cursor of a list ordered by id that continues after `last_id`."""
    return base64.urlsafe_b64encode(json.dumps([last_id]).encode()).decode().rstrip("=")


def after_id(cursor: str | None) -> int | None:
    """The id an `id_cursor` carries (None: the first page). A cursor this app did not write is
    refused (RuleViolation on "after": answer it with problems.refusal)."""
    if cursor is None:
        return None
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, binascii.Error):
        raise RuleViolation(str(BROKEN), AFTER) from None
    if not isinstance(raw, list) or len(raw) != 1:
        raise RuleViolation(str(BROKEN), AFTER)
    last_id = raw[0]
    if type(last_id) is not int or not 1 <= last_id <= DATABASE_INT_MAX:
        raise RuleViolation(str(BROKEN), AFTER)
    return last_id
