"""Generated input — wrong types, huge and odd strings, control characters, repeated and
missing fields — sent to every route's query string and form, as each kind of person and
signed out: never a 500, every 4xx says what was wrong, and no input gets past a refusal.

Field names come from the app's own forms and list filters, so the values reach real code.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from hypothesis import given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict

from serviceideas.errors import EXPLANATIONS
from serviceideas.extensions import db
from serviceideas.notifications.models import Category
from serviceideas.notifications.services import calendar_token, unsubscribe_token
from serviceideas.people.models import Role, User
from serviceideas.people.services import password_set_token
from serviceideas.training.models import Enrolment
from tests.test_access_matrix import MATRIX, SIGN_IN, TOKENS, WHO, build_url, is_refusal


def examples(let_in: bool) -> int:
    """Examples per route: the Hypothesis profile's number where the person is let in (the input
    reaches forms, filters and services), a quarter where they are refused (the refusal comes
    before any input is read). Profiles "ci" (`make test`) and "fuzz" (`make fuzz`) are in
    tests/conftest.py."""
    wanted = settings.default.max_examples
    return wanted if let_in else max(3, wanted // 4)


QUERY_KEYS = [
    "q", "status", "lens", "department", "kind", "beneficiary", "sort", "after", "page",
    "role", "period", "start", "end", "module", "show", "queue",
]  # fmt: skip
FORM_KEYS = [
    "email", "password", "remember", "next", "name", "kind", "department", "roles", "confirm",
    "title", "problem", "proposal", "lens", "beneficiary", "origin", "vote", "body", "to",
    "note", "implemented_on", "merge_into", "version", "owner", "summary", "prompt", "minutes",
    "audience", "departments", "people", "due_kind", "due_days", "due_on", "repeat", "answer",
    "feedback", "text", "ideas", "training", "digests", "preview", "apply",
    "seen_change", "seen_owner",
]  # fmt: skip

odd_text = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=st.characters(min_codepoint=1, max_codepoint=31), max_size=10),
    st.sampled_from(
        ["", " ", "0", "-1", "2147483648", "99999999999999999999", "1e309", "nan", "true",
         "2026-02-30", "9999-12-31", "../../etc/passwd", "%00", "‮", "𝕏" * 3, "a" * 5000,
         "<script>", "' OR 1=1 --", "module:1", "external", "implemented", "custom"]
    ),
)  # fmt: skip
fields = st.lists(st.tuples(st.sampled_from(FORM_KEYS), odd_text), max_size=8)
queries = st.lists(st.tuples(st.sampled_from(QUERY_KEYS), odd_text), max_size=6)


def routes(app: Flask) -> list[tuple[str, str]]:
    return sorted(
        (rule.endpoint, method)
        for rule in app.url_map.iter_rules()
        for method in rule.methods - {"HEAD", "OPTIONS"}
        # The SCIM service and the API answer a bearer token, not a session: tests/scim fuzzes
        # the one, schemathesis (tests/api) the other.
        if rule.endpoint != "static"
        and not rule.endpoint.startswith(("scim.", "api_", "api-docs."))
    )


def live_url(app: Flask, endpoint: str, values: dict[str, Any]) -> str:
    """The route's URL with a token that works now: earlier routes may have used one up (a
    deactivation and reactivation kills the password-set link)."""
    target = db.session.get_one(User, values["user_id"])
    fresh = {
        "password_token": lambda: password_set_token(target),
        "unsubscribe_token": lambda: unsubscribe_token(target.id, Category.IDEAS),
        "calendar_token": lambda: calendar_token(
            db.session.get_one(Enrolment, values["enrolment_id"]).user
        ),
    }
    if endpoint in TOKENS:
        values = {**values, TOKENS[endpoint]: fresh[TOKENS[endpoint]]()}
    return build_url(app, endpoint, values)


MESSAGE = re.compile(r'class="[^"]*\b(field-error|flash-error)\b[^"]*"[^>]*>\s*[^<\s]')


def says_what_was_wrong(status: int, page: str) -> bool:
    """An error page with its heading, or a message beside a field or atop the form."""
    title = str(EXPLANATIONS.get(status, EXPLANATIONS[400])[0])  # a lazy text: in English here
    return title in page or MESSAGE.search(page) is not None


def probe_for(
    client: Any,
    endpoint: str,
    url: str,
    method: str,
    expected: Any,
    failures: list[str],
    sent: list[int],
) -> Any:
    """A Hypothesis test sending generated query strings (and forms) to one route."""
    let_in = not is_refusal(expected)

    @settings(max_examples=examples(let_in))
    @given(query=queries, form=fields)
    def probe(query: list[tuple[str, str]], form: list[tuple[str, str]]) -> None:
        data = MultiDict(form) if method != "GET" else None
        response = client.open(url, method=method, query_string=MultiDict(query), data=data)
        status, location = response.status_code, response.headers.get("Location", "")
        sent.append(status)
        where = f"{method} {url} {query} {form} -> {status}"
        if status >= 500:
            failures.append(where)
            return
        if 400 <= status < 500:
            assert says_what_was_wrong(status, response.get_data(as_text=True)), (
                f"{where}: a 4xx must say what was wrong"
            )
        if let_in:  # still signed in as this person (a sign-out would fuzz the rest signed out)
            # Sent to sign in with or without a next (htmx.send_to_sign_in): Sign out alone may.
            assert endpoint == "auth.logout" or location.split("?")[0] != "/login", where
        elif not (status == 400 and any("\x00" in k + v for k, v in query + form)):
            # Refused before any input is read (only a NUL character is refused even earlier).
            # (A POST's own address is no page: it signs in without next; htmx.send_to_sign_in.)
            refusal = (status, location.split("?")[0] == "/login")
            assert refusal == ((302, True) if expected == SIGN_IN else (403, False)), where

    return probe


@pytest.mark.parametrize("who", WHO)
def test_no_generated_input_makes_a_500(app, client_as, make_user, url_values, who):
    person = None if who == "anonymous" else make_user(None if who == "employee" else Role(who))
    failures: list[str] = []
    sent: list[int] = []
    for endpoint, method in routes(app):
        client = client_as(person)  # a fresh browser: no sign-out carries over from a route
        url = live_url(app, endpoint, url_values)
        probe_for(client, endpoint, url, method, MATRIX[(endpoint, method)][who], failures, sent)()
    assert failures == []
    assert len(sent) >= examples(let_in=False) * len(routes(app))  # every route really was tried
    if who != "anonymous":
        assert {400, 422} <= set(sent)  # and the input did reach validation
