"""Forged "load more" cursors: anything that is not a position in the list is a 400 that says
so, never a 500, on every list page and its htmx fragment (SECURITY.md, "Bad input")."""

from __future__ import annotations

import base64
import json
from urllib.parse import quote

import pytest

from serviceideas.people.models import Role

HX = {"HX-Request": "true"}
INT_MAX = 2**31 - 1  # PostgreSQL's integer, which ids and vote counts are

# Each list page by the order its cursor carries: a vote count, or a time.
BY_VOTES = ["/ideas?sort=votes"]
BY_TIME = ["/ideas?sort=newest", "/ideas?sort=waiting", "/ideas/mine", "/ideas/review"]
A_TIME = "2024-06-01T12:00:00+00:00"


def encoded(raw):
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def cursor(value):
    """A cursor as the pages write them (base64 of a JSON pair), holding `value`."""
    return encoded(json.dumps(value).encode())


# Cursors that are broken whatever the order: not base64, not UTF-8, not JSON, not a pair.
BROKEN_ANYWHERE = {
    "not base64": "not-a-cursor!",
    "non-ASCII": "é" * 8,
    "padding only": "====",
    "not UTF-8": encoded(b"\xff\xfe\xfd"),
    "not JSON": encoded(b"[3, 1"),
    "JSON nested past Python's recursion limit": encoded(b"[" * 100_000),
    "a number with 5,000 digits": encoded(b"1" * 5000),
    "a bare number": cursor(3),
    "null": cursor(None),
    "an empty list": cursor([]),
    "one part": cursor([1]),
    "three parts": cursor([1, 1, 1]),
    "a two-letter string": cursor("ab"),
    "an object of two keys": cursor({"a": 1, "b": 2}),
    "far too long": cursor([1, 1]) + "A" * 10_000,
}

# Cursors that are broken for an order by time.
BROKEN_TIMES = {
    **BROKEN_ANYWHERE,
    "year 1 in UTC+14 is before year 1 in UTC": cursor(["0001-01-01T00:00:00+14:00", 1]),
    "year 1 in UTC+23:59": cursor(["0001-01-01T00:00:00+23:59", 1]),
    "year 9999 in UTC-14 is after year 9999 in UTC": cursor(["9999-12-31T23:59:59-14:00", 1]),
    "year 9999 in UTC-23:59": cursor(["9999-12-31T23:59:59.999999-23:59", 1]),
    "no time zone": cursor(["2024-06-01T12:00:00", 1]),
    "a date without a time": cursor(["2024-06-01", 1]),
    "month 13": cursor(["2024-13-01T00:00:00+00:00", 1]),
    "not a time": cursor(["yesterday", 1]),
    "a vote count instead of a time": cursor([3, 1]),
    "a time in a list": cursor([[A_TIME], 1]),
    "no time": cursor([None, 1]),
    "a negative id": cursor([A_TIME, -1]),
    "id 0": cursor([A_TIME, 0]),
    "an id beyond the database's integers": cursor([A_TIME, INT_MAX + 1]),
    "an id of 31 digits": cursor([A_TIME, 10**30]),
    "an id as a string": cursor([A_TIME, "1"]),
    "a fractional id": cursor([A_TIME, 1.5]),
    "an id of true": cursor([A_TIME, True]),
    "no id": cursor([A_TIME, None]),
}

# Cursors that are broken for the order by votes.
BROKEN_VOTES = {
    **BROKEN_ANYWHERE,
    "a negative vote count": cursor([-1, 1]),
    "a vote count beyond the database's integers": cursor([INT_MAX + 1, 1]),
    "a vote count of 31 digits": cursor([10**30, 1]),
    "infinite votes": cursor([float("inf"), 1]),
    "minus infinite votes": cursor([float("-inf"), 1]),
    "NaN votes": cursor([float("nan"), 1]),
    "a vote count that JSON reads as infinite": encoded(b"[1e400, 1]"),
    "a fractional vote count": cursor([2.5, 1]),
    "a vote count as a string": cursor(["3", 1]),
    "a vote count of true": cursor([True, 1]),
    "a time instead of a vote count": cursor([A_TIME, 1]),
    "no vote count": cursor([None, 1]),
    "a negative id": cursor([3, -1]),
    "id 0": cursor([3, 0]),
    "an id beyond the database's integers": cursor([3, INT_MAX + 1]),
    "an id as a string": cursor([3, "1"]),
    "a fractional id": cursor([3, 1.5]),
}

# Positions at the edges that are still positions: refusing them would be a bug too.
GOOD_TIMES = {
    "the first moment of year 1": cursor(["0001-01-01T00:00:00+00:00", 1]),
    "the last moment of year 9999": cursor(["9999-12-31T23:59:59.999999+00:00", INT_MAX]),
    "year 1 west of UTC": cursor(["0001-01-01T00:00:00-14:00", 1]),
    "year 9999 east of UTC": cursor(["9999-12-31T23:59:59+14:00", 1]),
    "a time in Paris": cursor(["2024-06-01T12:00:00+02:00", 7]),
}
GOOD_VOTES = {
    "no votes": cursor([0, 1]),
    "the most votes the database can count": cursor([INT_MAX, INT_MAX]),
}


def cases(pages, cursors):
    return [
        pytest.param(page, after, id=f"{page} {name}")
        for page in pages
        for name, after in cursors.items()
    ]


@pytest.fixture
def manager_client(client_as, make_user):
    """A manager sees all three list pages, the review queue included."""
    return client_as(make_user(Role.MANAGER))


def get(client, page, after, headers=None):
    separator = "&" if "?" in page else "?"
    return client.get(f"{page}{separator}after={quote(after, safe='')}", headers=headers or {})


@pytest.mark.parametrize(
    ("page", "after"), cases(BY_TIME, BROKEN_TIMES) + cases(BY_VOTES, BROKEN_VOTES)
)
def test_a_forged_cursor_is_a_400_that_says_so(manager_client, page, after):
    full = get(manager_client, page, after)
    assert full.status_code == 400
    assert "<html" in full.get_data(as_text=True)
    assert "page link is broken" in full.get_data(as_text=True)

    load_more = get(manager_client, page, after, HX)
    assert load_more.status_code == 400
    assert "<html" not in load_more.get_data(as_text=True)
    assert "page link is broken" in load_more.get_data(as_text=True)


@pytest.mark.parametrize(
    ("page", "after"), cases(BY_TIME, GOOD_TIMES) + cases(BY_VOTES, GOOD_VOTES)
)
def test_a_position_at_the_edges_is_still_a_page(manager_client, make_idea, page, after):
    make_idea(title="The only idea")
    assert get(manager_client, page, after).status_code == 200
    assert get(manager_client, page, after, HX).status_code == 200
