"""schemathesis against /api/v1/openapi.json: every operation, called with a token of each
role on a small company's data, answers as the document says — a documented status, the
documented content type, a body that matches its schema — rejects what the document says is
invalid, and never answers 500.

Generated inputs are derandomised (the same examples every run: a failure here is never a
flake) and as many per operation as the suite's Hypothesis profile gives every generated test
(tests/conftest.py: 6 in `make test`; `--hypothesis-profile=fuzz` runs 200).
"""

from __future__ import annotations

import contextvars

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from serviceideas.extensions import db
from serviceideas.ideas.models import Status
from serviceideas.people.models import DepartmentKind, Role

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
]
ROLES = (Role.EMPLOYEE, Role.TRAINER, Role.MANAGER, Role.ADMIN)


@pytest.fixture
def app_settings():
    # Hundreds of requests a minute with one token: past the API's rate limit (counted per
    # token over the whole API) the last operations would only ever be answered 429.
    return {"API_RATE_LIMIT": "100000 per minute"}


@pytest.fixture
def company(make_user, make_department, make_idea, make_module, make_enrolment):
    """One person of each role, both kinds of team, ideas at several stages (one with its
    author's name hidden), training assigned and done: small ids the generator often hits."""
    back_office = make_department("Logistics", DepartmentKind.BACK_OFFICE)
    front_line = make_department("Stores", DepartmentKind.FRONT_LINE)
    people = {
        role: make_user(role, department=back_office if i % 2 else front_line)
        for i, role in enumerate(ROLES)
    }
    manager = people[Role.MANAGER]
    for status in (Status.SUBMITTED, Status.UNDER_REVIEW, Status.IMPLEMENTED, Status.DECLINED):
        make_idea(status, author=people[Role.EMPLOYEE], reviewer=manager)
    make_idea(author=people[Role.TRAINER])
    module = make_module("reflection", author=people[Role.TRAINER])
    make_enrolment("reflection", learner=people[Role.EMPLOYEE], module=module)
    make_enrolment(learner=people[Role.MANAGER], answer="")
    return people


# Valid requests as each role; invalid ones as an admin, whose token reaches every operation's
# parsing (another role's would mostly be refused first, by its scope).
RUNS = [(role, GenerationMode.POSITIVE) for role in ROLES] + [(Role.ADMIN, GenerationMode.NEGATIVE)]


@pytest.mark.parametrize(("role", "mode"), RUNS, ids=lambda value: str(value))
def test_every_operation_answers_as_documented(app, company, make_token, role, mode):
    """Each operation in turn (a plain loop, not schemathesis' pytest plugin, whose lazy
    schema takes no parametrised fixtures): positive examples must be answered as documented,
    negative ones (what the document says is invalid) refused with a 4xx."""
    headers = {"Authorization": f"Bearer {make_token(company[role])}"}
    api = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in api.get_all_operations()]
    assert len(operations) >= 30  # the document lists the API, not an empty skeleton

    for operation in operations:

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=settings.default.max_examples,
            derandomize=True,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
        )
        def answers_as_documented(case):
            # Each request in a context of its own, as tests/conftest.py's IsolatedClient
            # sends them: schemathesis calls the app inside the test's app context, where
            # requests would share `g` (a GET's read-only connection would serve the next
            # POST on PostgreSQL).
            db.session.commit()
            contextvars.Context().run(case.call_and_validate, headers=headers, checks=CHECKS)

        answers_as_documented()
