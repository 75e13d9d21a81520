"""Every route × every kind of person → what they get. A route missing here fails the suite.

"login": sent to sign in; 403: refused; "ok": let in (any answer below 500 that is neither).
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from serviceideas.people.models import Role

WHO = ("anonymous", "employee", "trainer", "manager", "admin")

PUBLIC = dict.fromkeys(WHO, "ok")
SIGNED_IN = {"anonymous": "login", **dict.fromkeys(WHO[1:], "ok")}
ADMINS = {"anonymous": "login", "employee": 403, "trainer": 403, "manager": 403, "admin": "ok"}
REVIEWERS = {"anonymous": "login", "employee": 403, "trainer": 403, "manager": "ok", "admin": "ok"}
TRAINERS = {"anonymous": "login", "employee": 403, "trainer": "ok", "manager": 403, "admin": "ok"}
# Reflection text: the trainer role itself, not an admin's blanket powers
# (docs/product.md, "Privacy of reflections").
REFLECTION_READERS = {**TRAINERS, "admin": 403}
COVERAGE = {"anonymous": "login", "employee": 403, "trainer": "ok", "manager": "ok", "admin": "ok"}
# The object belongs to someone else: only its author may (tested in tests/ideas).
OWNER_ONLY = {"anonymous": "login", **dict.fromkeys(WHO[1:], 403)}

# (endpoint, method) → expectation for each kind of person
MATRIX: dict[tuple[str, str], dict[str, Any]] = {
    ("static", "GET"): PUBLIC,
    ("home.healthz", "GET"): PUBLIC,
    ("home.index", "GET"): SIGNED_IN,
    ("auth.login", "GET"): PUBLIC,
    ("auth.login", "POST"): PUBLIC,
    ("auth.logout", "GET"): PUBLIC,
    ("auth.logout", "POST"): PUBLIC,
    ("auth.set_password", "GET"): PUBLIC,
    ("auth.set_password", "POST"): PUBLIC,
    ("admin.departments", "GET"): ADMINS,
    ("admin.departments", "POST"): ADMINS,
    ("admin.edit_department", "GET"): ADMINS,
    ("admin.edit_department", "POST"): ADMINS,
    ("admin.users", "GET"): ADMINS,
    ("admin.new_user", "GET"): ADMINS,
    ("admin.new_user", "POST"): ADMINS,
    ("admin.edit_user", "GET"): ADMINS,
    ("admin.edit_user", "POST"): ADMINS,
    ("admin.deactivate_user", "POST"): ADMINS,
    ("admin.reactivate_user", "POST"): ADMINS,
    ("admin.password_link", "POST"): ADMINS,
    ("admin.import_staff", "GET"): ADMINS,
    ("admin.import_staff", "POST"): ADMINS,
    ("ideas.index", "GET"): SIGNED_IN,
    ("ideas.mine", "GET"): SIGNED_IN,
    ("ideas.review", "GET"): REVIEWERS,
    ("ideas.new", "GET"): SIGNED_IN,
    ("ideas.new", "POST"): SIGNED_IN,
    ("ideas.show", "GET"): SIGNED_IN,
    ("ideas.vote", "POST"): SIGNED_IN,
    ("ideas.comment", "POST"): SIGNED_IN,
    ("ideas.edit_comment", "GET"): OWNER_ONLY,
    ("ideas.edit_comment", "POST"): OWNER_ONLY,
    ("ideas.remove_comment", "POST"): REVIEWERS,
    ("ideas.change_status", "POST"): REVIEWERS,
    ("ideas.set_owner", "POST"): REVIEWERS,
    ("training.mine", "GET"): SIGNED_IN,
    ("training.enrolment", "GET"): OWNER_ONLY,
    ("training.complete", "POST"): OWNER_ONLY,
    ("training.modules", "GET"): TRAINERS,
    ("training.new_module", "GET"): TRAINERS,
    ("training.new_module", "POST"): TRAINERS,
    ("training.module", "GET"): TRAINERS,
    ("training.edit_module", "GET"): TRAINERS,
    ("training.edit_module", "POST"): TRAINERS,
    ("training.publish_module", "POST"): TRAINERS,
    ("training.archive_module", "POST"): TRAINERS,
    ("training.assign", "GET"): TRAINERS,
    ("training.assign", "POST"): TRAINERS,
    ("training.assignments", "GET"): TRAINERS,
    ("training.withdraw", "POST"): TRAINERS,
    ("training.reflections", "GET"): REFLECTION_READERS,
    ("training.feedback", "POST"): REFLECTION_READERS,
    ("training.coverage", "GET"): COVERAGE,
    ("training.department_coverage", "GET"): COVERAGE,
    ("training.coverage_csv", "GET"): COVERAGE,
    ("insights.dashboard", "GET"): SIGNED_IN,
    ("insights.leaderboard", "GET"): SIGNED_IN,
    ("insights.people", "GET"): REVIEWERS,
    ("insights.table_csv", "GET"): SIGNED_IN,
    ("notifications.index", "GET"): SIGNED_IN,
    ("notifications.bell_fragment", "GET"): SIGNED_IN,
    ("notifications.read_all", "POST"): SIGNED_IN,
    # Someone else's notification: a 404 for everyone, as if it did not exist.
    ("notifications.open_one", "GET"): {"anonymous": "login", **dict.fromkeys(WHO[1:], "ok")},
    ("notifications.open_one", "POST"): {"anonymous": "login", **dict.fromkeys(WHO[1:], "ok")},
    ("notifications.settings", "GET"): SIGNED_IN,
    ("notifications.settings", "POST"): SIGNED_IN,
    ("notifications.calendar_link", "POST"): SIGNED_IN,
    ("notifications.unsubscribe", "GET"): PUBLIC,  # the signed token is the proof
    ("notifications.unsubscribe", "POST"): PUBLIC,
    ("notifications.calendar", "GET"): PUBLIC,  # calendar apps cannot sign in
}


def routes(app: Flask) -> set[tuple[str, str]]:
    return {
        (rule.endpoint, method)
        for rule in app.url_map.iter_rules()
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }


def test_every_route_is_in_the_matrix_and_nothing_else_is(app):
    assert routes(app) - MATRIX.keys() == set(), "add these routes to the access matrix"
    assert MATRIX.keys() - routes(app) == set(), "these routes no longer exist"


def build_url(app: Flask, endpoint: str, values: dict[str, Any]) -> str:
    (rule,) = [r for r in app.url_map.iter_rules() if r.endpoint == endpoint]
    with app.test_request_context():
        from flask import url_for

        return url_for(endpoint, **{name: values[name] for name in rule.arguments})


@pytest.mark.parametrize("who", WHO)
@pytest.mark.parametrize(("endpoint", "method"), sorted(MATRIX))
def test_access(app, client_as, make_user, url_values, who, endpoint, method):
    person = None if who == "anonymous" else make_user(None if who == "employee" else Role(who))
    url = build_url(app, endpoint, url_values)
    response = client_as(person).open(url, method=method)
    expected = MATRIX[(endpoint, method)][who]
    location = response.headers.get("Location", "")
    if expected == "login":
        assert response.status_code == 302 and location.startswith("/login?next="), (
            response.status_code,
            location,
        )
    elif expected == 403:
        assert response.status_code == 403
    else:
        assert response.status_code < 500
        assert response.status_code != 403
        assert not location.startswith("/login?next=")
