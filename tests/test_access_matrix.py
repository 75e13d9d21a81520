"""Every route × every kind of person → exactly what they get. A route missing here fails the suite.

The objects in the URL belong to someone else, in a small company (the `url_values` fixture),
and each form is sent empty. An expectation is a status code (200, 400, 403, 404, 405, 422),
SIGN_IN (302 to the sign-in page, which then leads back to the page asked for), or
`to(endpoint)` (a redirect to that page, for the same objects).

Each action (POST) a person is let through to is a test of its own, on its own fresh copy of
the company: what one does must not change what the next one meets. The rest change nothing —
pages (no writes on GET) and actions the person is turned away from — as the tests check by
comparing every table before and after; so each kind of person reads every page on one
company, and tries every action refused to them on another, and a failure lists every case
that answered otherwise. The tests share their app (tests/conftest.py, `app_for`), so nothing
is compiled twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa
from flask import Flask, url_for

from serviceideas.extensions import db
from serviceideas.people.models import Role

WHO = ("anonymous", "employee", "trainer", "manager", "admin")
STAFF = WHO[1:]


@dataclass(frozen=True)
class Redirect:
    """A redirect with this status code to the page of `endpoint` (for the case's objects)."""

    endpoint: str
    code: int = 303

    def __repr__(self) -> str:
        return f"{self.code} to {self.endpoint}"


def to(endpoint: str, code: int = 303) -> Redirect:
    return Redirect(endpoint, code)


SIGN_IN = Redirect("auth.login", 302)  # with `next`: the page asked for
Expected = int | Redirect


def everyone(expected: Expected) -> dict[str, Expected]:
    return dict.fromkeys(WHO, expected)


def signed_in(expected: Expected) -> dict[str, Expected]:
    """Anyone signed in gets `expected`; anyone else is sent to sign in."""
    return {"anonymous": SIGN_IN, **dict.fromkeys(STAFF, expected)}


def only(roles: tuple[str, ...], expected: Expected) -> dict[str, Expected]:
    """These roles get `expected`; the rest of the staff is refused; anyone else signs in."""
    return {"anonymous": SIGN_IN, **{who: expected if who in roles else 403 for who in STAFF}}


ADMINS = ("admin",)
REVIEWERS = ("manager", "admin")
TRAINERS = ("trainer", "admin")
# Reflection text: the trainer role itself, not an admin's blanket powers
# (docs/product.md, "Privacy of reflections").
REFLECTION_READERS = ("trainer",)
COVERAGE_READERS = ("trainer", "manager", "admin")

# (endpoint, method) → what each kind of person gets
MATRIX: dict[tuple[str, str], dict[str, Expected]] = {
    ("static", "GET"): everyone(200),
    ("home.healthz", "GET"): everyone(200),
    ("home.index", "GET"): signed_in(200),
    ("auth.login", "GET"): {"anonymous": 200, **dict.fromkeys(STAFF, to("home.index", 302))},
    ("auth.login", "POST"): everyone(422),
    ("auth.logout", "GET"): {"anonymous": to("auth.login"), **dict.fromkeys(STAFF, 200)},
    ("auth.logout", "POST"): everyone(to("auth.login")),
    # Company sign-in is off here (no OIDC_ISSUER); tests/people/test_oidc_sign_in.py has it on.
    ("oidc.sign_in", "GET"): everyone(404),
    ("oidc.callback", "GET"): everyone(404),
    ("oidc.backchannel_logout", "POST"): everyone(404),  # tests/people/test_oidc_backchannel.py
    ("auth.set_password", "GET"): everyone(200),
    ("auth.set_password", "POST"): everyone(422),
    ("admin.departments", "GET"): only(ADMINS, 200),
    # A refused form goes back to its own page (serviceideas/refusals.py).
    ("admin.departments", "POST"): only(ADMINS, to("admin.departments")),
    ("admin.edit_department", "GET"): only(ADMINS, 200),
    ("admin.edit_department", "POST"): only(ADMINS, to("admin.edit_department")),
    ("admin.users", "GET"): only(ADMINS, 200),
    ("admin.new_user", "GET"): only(ADMINS, 200),
    ("admin.new_user", "POST"): only(ADMINS, to("admin.new_user")),
    ("admin.edit_user", "GET"): only(ADMINS, 200),
    ("admin.edit_user", "POST"): only(ADMINS, to("admin.edit_user")),
    ("admin.deactivate_user", "POST"): only(ADMINS, to("admin.edit_user")),
    ("admin.reactivate_user", "POST"): only(ADMINS, to("admin.edit_user")),
    ("admin.password_link", "POST"): only(ADMINS, 200),  # the page that shows the link
    ("admin.role_changes", "GET"): only(ADMINS, 200),
    ("admin.import_staff", "GET"): only(ADMINS, 200),
    ("admin.import_staff", "POST"): only(ADMINS, 422),
    ("admin.import_job", "GET"): only(ADMINS, 200),
    ("admin.import_job_report", "GET"): only(ADMINS, 200),
    ("admin.resume_import", "POST"): only(ADMINS, to("admin.import_job")),  # it has finished
    ("admin.apply_import", "POST"): only(ADMINS, to("admin.import_job")),  # not a preview
    # Directory sync: SCIM tokens and the log of SCIM requests.
    ("scim_admin.tokens_page", "GET"): only(ADMINS, 200),
    ("scim_admin.tokens_page", "POST"): only(ADMINS, to("scim_admin.tokens_page")),  # no name
    ("scim_admin.revoke_token", "GET"): only(ADMINS, 200),  # the confirmation
    # Not confirmed (sent by hand): refused with the confirmation page itself.
    ("scim_admin.revoke_token", "POST"): only(ADMINS, 422),
    ("scim_admin.request_log", "GET"): only(ADMINS, 200),
    # Webhooks: endpoints and their delivery logs (tests/webhooks/test_admin.py).
    ("webhooks_admin.endpoints", "GET"): only(ADMINS, 200),
    ("webhooks_admin.endpoints", "POST"): only(ADMINS, to("webhooks_admin.endpoints")),  # empty
    ("webhooks_admin.deliveries", "GET"): only(ADMINS, 200),
    ("webhooks_admin.edit_endpoint", "GET"): only(ADMINS, 200),
    # Sent empty, the form keeps the endpoint's values (WTForms): saved as it was.
    ("webhooks_admin.edit_endpoint", "POST"): only(ADMINS, to("webhooks_admin.deliveries")),
    ("webhooks_admin.switch_off", "POST"): only(ADMINS, to("webhooks_admin.deliveries")),
    ("webhooks_admin.switch_on", "POST"): only(ADMINS, to("webhooks_admin.deliveries")),
    ("webhooks_admin.send_test_event", "POST"): only(ADMINS, to("webhooks_admin.deliveries")),
    ("webhooks_admin.send_delivery_again", "POST"): only(ADMINS, to("webhooks_admin.deliveries")),
    ("webhooks_admin.replace_secret", "GET"): only(ADMINS, 200),  # the confirmation
    ("webhooks_admin.replace_secret", "POST"): only(ADMINS, 422),  # not confirmed
    ("webhooks_admin.delete_endpoint", "GET"): only(ADMINS, 200),  # the confirmation
    ("webhooks_admin.delete_endpoint", "POST"): only(ADMINS, 422),  # not confirmed
    # Journey stages (an unused one: the admin's delete goes through); empty forms refused.
    ("journey.stages", "GET"): only(ADMINS, 200),
    ("journey.stages", "POST"): only(ADMINS, to("journey.stages")),
    ("journey.edit_stage", "GET"): only(ADMINS, 200),
    ("journey.edit_stage", "POST"): only(ADMINS, to("journey.stages")),  # kept as it was
    ("journey.move_stage", "POST"): only(ADMINS, to("journey.stages")),
    ("journey.retire_stage", "POST"): only(ADMINS, to("journey.stages")),
    ("journey.restore_stage", "POST"): only(ADMINS, to("journey.stages")),
    ("journey.delete_stage", "POST"): only(ADMINS, to("journey.stages")),
    ("ideas.index", "GET"): signed_in(200),
    ("ideas.mine", "GET"): signed_in(200),
    ("ideas.review", "GET"): only(REVIEWERS, 200),
    ("ideas.new", "GET"): signed_in(200),
    ("ideas.new", "POST"): signed_in(to("ideas.new")),  # refused: back to its page
    ("ideas.show", "GET"): signed_in(200),
    ("ideas.vote", "POST"): signed_in(400),  # no `vote` field: a malformed button, not a form
    ("ideas.follow", "POST"): signed_in(400),  # no `follow` field: a malformed button
    ("ideas.comment", "POST"): signed_in(to("ideas.show")),  # refused: back to the idea
    # Someone else's comment: only its author may edit it (tests/ideas).
    ("ideas.edit_comment", "GET"): signed_in(403),
    ("ideas.edit_comment", "POST"): signed_in(403),
    ("ideas.remove_comment", "POST"): only(REVIEWERS, to("ideas.show")),
    ("ideas.change_status", "POST"): only(REVIEWERS, 400),  # no step chosen
    ("ideas.set_owner", "POST"): only(REVIEWERS, 400),  # no owner chosen
    ("ideas.set_customer_side", "POST"): only(REVIEWERS, 400),  # no version: not our page
    ("ideas.owner_matches", "GET"): only(REVIEWERS, 200),  # nothing typed: nobody listed
    ("ideas.merge_matches", "GET"): only(REVIEWERS, 200),  # nothing typed: no idea listed
    ("ideas.similar", "GET"): signed_in(200),  # nothing typed: no idea listed
    ("ideas.owned", "GET"): signed_in(200),
    # Someone else's idea, owned by nobody: managers record progress; an empty form, 422.
    ("ideas.record_progress", "POST"): only(REVIEWERS, 422),
    # Someone else's idea: only its author shows their hidden name (tests/ideas).
    ("ideas.show_name", "POST"): signed_in(403),
    ("training.mine", "GET"): signed_in(200),
    # Someone else's enrolment: only the learner may open or complete it (tests/training).
    ("training.enrolment", "GET"): signed_in(403),
    ("training.complete", "POST"): signed_in(403),
    ("training.modules", "GET"): only(TRAINERS, 200),
    ("training.new_module", "GET"): only(TRAINERS, 200),
    # A refused form is shown again at its own page (serviceideas/refusals.py).
    ("training.new_module", "POST"): only(TRAINERS, to("training.new_module")),
    ("training.module", "GET"): only(TRAINERS, 200),
    ("training.edit_module", "GET"): only(TRAINERS, 200),
    ("training.edit_module", "POST"): only(TRAINERS, to("training.edit_module")),
    ("training.publish_module", "POST"): only(TRAINERS, to("training.module")),
    ("training.archive_module", "POST"): only(TRAINERS, to("training.module")),
    ("training.assign", "GET"): only(TRAINERS, 200),
    ("training.assign", "POST"): only(TRAINERS, to("training.assign")),
    ("training.assignments", "GET"): only(TRAINERS, 200),
    ("training.withdraw", "GET"): only(TRAINERS, 200),  # the confirmation
    ("training.withdraw", "POST"): only(TRAINERS, 422),  # not confirmed
    ("training.reflections", "GET"): only(REFLECTION_READERS, 200),
    ("training.feedback", "POST"): only(REFLECTION_READERS, to("training.reflections")),
    ("training.coverage", "GET"): only(COVERAGE_READERS, 200),
    ("training.department_coverage", "GET"): only(COVERAGE_READERS, 200),
    ("training.coverage_csv", "GET"): only(COVERAGE_READERS, 200),
    ("training.module_coverage", "GET"): only(COVERAGE_READERS, 200),
    ("training.module_coverage_csv", "GET"): only(COVERAGE_READERS, 200),
    ("insights.dashboard", "GET"): signed_in(200),
    ("insights.leaderboard", "GET"): signed_in(200),
    ("insights.people", "GET"): only(REVIEWERS, 200),
    # The stories behind the headline: what a new employee reads to see what service means
    # here, so everyone signed in (docs/product.md, "What changed").
    ("insights.what_changed", "GET"): signed_in(200),
    ("insights.table_csv", "GET"): signed_in(200),
    ("notifications.index", "GET"): signed_in(200),
    ("notifications.bell_fragment", "GET"): signed_in(200),
    ("notifications.read_all", "POST"): signed_in(to("notifications.index")),
    # Someone else's notification: a 404 for everyone, as if it did not exist.
    ("notifications.open_one", "GET"): signed_in(404),
    ("notifications.open_one", "POST"): signed_in(404),
    ("notifications.settings", "GET"): signed_in(200),
    ("notifications.settings", "POST"): signed_in(422),
    ("notifications.calendar_link", "POST"): signed_in(to("notifications.settings")),
    ("notifications.unsubscribe", "GET"): everyone(200),  # the signed token is the proof
    ("notifications.unsubscribe", "POST"): everyone(200),  # the page that says it is done
    ("notifications.calendar", "GET"): everyone(200),  # calendar apps cannot sign in
    ("access_tokens.index", "GET"): signed_in(200),
    ("access_tokens.index", "POST"): signed_in(to("access_tokens.index")),  # no name
    ("access_tokens.revoke", "GET"): signed_in(404),  # someone else's token
    ("access_tokens.revoke", "POST"): signed_in(404),
    ("language.edit", "GET"): signed_in(200),
    ("language.edit", "POST"): signed_in(to("language.edit")),  # the browser's language
    ("apidocs.page", "GET"): everyone(200),  # like the OpenAPI document it reads
}

# Routes whose address carries a token, and which of `url_values`' tokens opens them.
TOKENS = {
    "auth.set_password": "password_token",
    "notifications.unsubscribe": "unsubscribe_token",
    "notifications.calendar": "calendar_token",
}


def is_refusal(expected: Expected) -> bool:
    """Whether the person is turned away before anything they sent is read."""
    return expected == 403 or expected == SIGN_IN


def routes(app: Flask) -> set[tuple[str, str]]:
    """Every route a person reaches. Not the SCIM service's (/scim/v2): a directory's bearer
    token, not a person, opens them, and every request to them is logged, even refused, so
    they are not "pages that store nothing"; tests/scim covers who gets what there. Nor the
    API's (/api/v1), opened by personal access tokens: tests/api covers them, schemathesis
    included."""
    return {
        (rule.endpoint, method)
        for rule in app.url_map.iter_rules()
        if not rule.endpoint.startswith(("scim.", "api_", "api-docs."))
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}
    }


def test_every_route_is_in_the_matrix_and_nothing_else_is(app):
    assert routes(app) - MATRIX.keys() == set(), "add these routes to the access matrix"
    assert MATRIX.keys() - routes(app) == set(), "these routes no longer exist"


def test_only_routes_for_an_objects_owner_turn_everyone_away_here():
    """A route that refuses or hides itself from everyone is a mistake, unless the matrix's
    objects belong to someone else and only their owner may use it."""
    turned_away = [
        route
        for route, cases in MATRIX.items()
        if all(is_refusal(expected) or expected == 404 for expected in cases.values())
    ]
    assert sorted(turned_away) == [
        ("access_tokens.revoke", "GET"),  # the token's person (tests/api/test_tokens.py)
        ("access_tokens.revoke", "POST"),
        ("ideas.edit_comment", "GET"),  # the comment's author is let in (tests/ideas)
        ("ideas.edit_comment", "POST"),
        ("ideas.show_name", "POST"),  # the idea's author (tests/ideas/test_hidden_names.py)
        ("notifications.open_one", "GET"),  # the notification's person (tests/notifications)
        ("notifications.open_one", "POST"),
        ("oidc.backchannel_logout", "POST"),  # company sign-in, off here
        ("oidc.callback", "GET"),  # company sign-in, off here (tests/people/test_oidc_sign_in.py)
        ("oidc.sign_in", "GET"),
        ("training.complete", "POST"),  # the learner (tests/training)
        ("training.enrolment", "GET"),
    ]


def build_url(app: Flask, endpoint: str, values: dict[str, Any]) -> str:
    (rule,) = [r for r in app.url_map.iter_rules() if r.endpoint == endpoint]
    if endpoint in TOKENS:
        values = {**values, "token": values[TOKENS[endpoint]]}
    with app.test_request_context():
        return url_for(endpoint, **{name: values[name] for name in rule.arguments})


def person(make_user: Any, who: str) -> Any:
    return None if who == "anonymous" else make_user(None if who == "employee" else Role(who))


def answered(response: Any, url: str, expected: Expected, app: Flask, values: Any) -> Expected:
    """What the response was, in the matrix's terms, so a failure reads like the matrix."""
    code, location = response.status_code, response.headers.get("Location")
    if location is None or not isinstance(expected, Redirect):
        return code
    where = urlsplit(location)
    # A page comes back to itself after signing in; an action's address is no page, and with
    # no page it was sent from, signing in leads home (serviceideas/htmx.py, send_to_sign_in).
    back = [url] if response.request.method == "GET" else None
    if where.path == build_url(app, expected.endpoint, values) and (
        expected != SIGN_IN or parse_qs(where.query).get("next") == back
    ):
        return Redirect(expected.endpoint, code)
    return Redirect(location, code)


def pages() -> list[tuple[str, str]]:
    return sorted(route for route in MATRIX if route[1] == "GET")


def actions() -> list[tuple[str, str]]:
    return sorted(route for route in MATRIX if route[1] != "GET")


def everything_stored() -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in a fixed order: what a page, or an action turned away,
    leaves as it found it."""
    db.session.commit()
    return {
        table.name: sorted((tuple(row) for row in db.session.execute(sa.select(table))), key=repr)
        for table in db.metadata.sorted_tables
    }


def answers(
    client: Any, routes: list[tuple[str, str]], who: str, app: Flask, values: Any
) -> tuple[dict[str, Expected], dict[str, Expected]]:
    """What each route answered `client`, and what the matrix expects, keyed by the case."""
    got: dict[str, Expected] = {}
    expected: dict[str, Expected] = {}
    for endpoint, method in routes:
        url = build_url(app, endpoint, values)
        case = f"{method} {url} ({endpoint}) as {who}"
        expected[case] = MATRIX[(endpoint, method)][who]
        got[case] = answered(client.open(url, method=method), url, expected[case], app, values)
    return got, expected


@pytest.mark.parametrize("who", WHO)
def test_every_page(app, client_as, make_user, url_values, who):
    client = client_as(person(make_user, who))
    before = everything_stored()
    got, expected = answers(client, pages(), who, app, url_values)
    assert got == expected
    assert everything_stored() == before, "reading a page changed what is stored"


@pytest.mark.parametrize("who", WHO)
def test_every_action_turned_away(app, client_as, make_user, url_values, who):
    """The actions this kind of person may not take are refused before anything sent is
    read, so they change nothing, and one company serves them all."""
    client = client_as(person(make_user, who))
    refused = [route for route in actions() if is_refusal(MATRIX[route][who])]
    before = everything_stored()
    got, expected = answers(client, refused, who, app, url_values)
    assert got == expected
    assert everything_stored() == before, "a refused action changed what is stored"


@pytest.mark.parametrize(
    ("endpoint", "method", "who"),
    [(*route, who) for route in actions() for who in WHO if not is_refusal(MATRIX[route][who])],
)
def test_each_action_let_through(app, client_as, make_user, url_values, endpoint, method, who):
    url = build_url(app, endpoint, url_values)
    response = client_as(person(make_user, who)).open(url, method=method)
    expected = MATRIX[(endpoint, method)][who]
    assert answered(response, url, expected, app, url_values) == expected, (
        f"{method} {url} as {who}"
    )


@pytest.mark.parametrize("who", ["anonymous", "admin"])
def test_a_method_no_route_takes_answers_405(app, client_as, make_user, url_values, who):
    client = client_as(person(make_user, who))
    for endpoint, _ in sorted(MATRIX):
        response = client.open(build_url(app, endpoint, url_values), method="PUT")
        assert response.status_code == 405, endpoint
