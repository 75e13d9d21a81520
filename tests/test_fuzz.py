"""Generated input — wrong types, huge and odd strings, control characters, repeated and
missing fields — sent to every route's query string and form: never a 500.

Field names come from the app's own forms and list filters, so the values reach real code.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict

from serviceideas.people.models import Role
from tests.test_access_matrix import build_url

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
        if rule.endpoint != "static"
    )


@pytest.fixture
def fuzz_client(client_as, make_user):
    return client_as(make_user(Role.ADMIN, roles=(Role.TRAINER, Role.MANAGER)))


def probe_for(client: Any, url: str, method: str, failures: list[str], sent: list[int]) -> Any:
    """A Hypothesis test sending generated query strings (and forms) to one route."""

    @settings(
        max_examples=20, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
    @given(query=queries, form=fields)
    def probe(query: list[tuple[str, str]], form: list[tuple[str, str]]) -> None:
        data = MultiDict(form) if method != "GET" else None
        response = client.open(url, method=method, query_string=MultiDict(query), data=data)
        sent.append(response.status_code)
        if response.status_code >= 500:
            failures.append(f"{method} {url} {query} {form} -> {response.status_code}")
        elif 400 <= response.status_code < 500 and response.status_code != 404:
            body = response.get_data(as_text=True)
            assert body.strip(), f"{method} {url}: a {response.status_code} must say what was wrong"

    return probe


def test_no_generated_input_makes_a_500(app, fuzz_client, url_values):
    failures: list[str] = []
    sent: list[int] = []
    for endpoint, method in routes(app):
        probe_for(fuzz_client, build_url(app, endpoint, url_values), method, failures, sent)()
    assert failures == []
    assert len(sent) >= 10 * len(routes(app))  # every route really was tried, many ways
    assert {400, 422} <= set(sent)  # and the input did reach validation
