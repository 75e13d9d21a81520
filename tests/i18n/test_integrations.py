"""The API, webhooks and directory sync in each person's language: the API's problem titles
and details in its token's person's language (else the caller's Accept-Language), a webhook's
switch-off notice in its admin's, and team-chat messages in the company's.

Translated texts show wrapped in ⟦ ⟧ in the pseudo-language (tests/i18n/pseudo.py); names
people wrote are Cyrillic, so what is left in Latin letters is English that missed the
catalogue."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import timedelta
from http import HTTPStatus

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.exceptions import default_exceptions

from serviceideas.api.auth import TOKEN_PREFIX, token_hash
from serviceideas.api.models import ApiToken, Scope
from serviceideas.api.problems import TITLES, WERKZEUG_DETAILS
from serviceideas.database import utcnow
from serviceideas.extensions import db
from serviceideas.notifications.models import Notification
from serviceideas.people.models import Role, User
from serviceideas.webhooks.delivery import failure_reason, tell_admins_switched_off
from serviceideas.webhooks.messages import body_for
from serviceideas.webhooks.models import EndpointKind, WebhookEndpoint
from tests.conftest import table_rows
from tests.i18n import pseudo

PSEUDO = pseudo.PSEUDO
MISSING = "/api/v1/ideas/999999"


def wrapped(text: str) -> str:
    return f"{pseudo.OPEN}{text}{pseudo.CLOSE}"


def token_of(person: User) -> str:
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    db.session.add(
        ApiToken(
            user_id=person.id,
            name="Скрипт",
            token_hash=token_hash(secret),
            prefix=secret[:10],
            scopes=Scope.READ.value,
            expires_at=utcnow() + timedelta(days=30),
        )
    )
    db.session.commit()
    return secret


def person_speaking(make_user: Callable[..., User], locale: str | None, **kwargs: object) -> User:
    person = make_user(name="Ольга", **kwargs)
    person.locale = locale
    db.session.commit()
    return person


def test_the_english_titles_and_details_are_http_and_werkzeugs_own(app: Flask) -> None:
    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert {status: str(title) for status, title in TITLES.items()} == {
            status: HTTPStatus(status).phrase for status in TITLES
        }
        assert {status: str(detail) for status, detail in WERKZEUG_DETAILS.items()} == {
            status: default_exceptions[status].description for status in WERKZEUG_DETAILS
        }


def test_a_problem_speaks_the_language_of_the_tokens_person(
    client: FlaskClient, make_user: Callable[..., User]
) -> None:
    secret = token_of(person_speaking(make_user, PSEUDO))
    response = client.get(MISSING, headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 404
    problem = response.get_json()
    assert problem["title"] == wrapped("Not Found")
    assert problem["detail"] == wrapped(default_exceptions[404].description)
    assert response.headers["Content-Language"] == PSEUDO


def test_the_tokens_persons_choice_wins_over_the_browsers(
    client: FlaskClient, make_user: Callable[..., User]
) -> None:
    secret = token_of(person_speaking(make_user, "en"))
    response = client.get(
        MISSING, headers={"Authorization": f"Bearer {secret}", "Accept-Language": PSEUDO}
    )
    assert response.get_json()["title"] == "Not Found"
    assert response.headers["Content-Language"] == "en"


def test_without_a_choice_a_problem_follows_accept_language(
    client: FlaskClient, make_user: Callable[..., User]
) -> None:
    secret = token_of(person_speaking(make_user, None))
    response = client.get(
        MISSING, headers={"Authorization": f"Bearer {secret}", "Accept-Language": PSEUDO}
    )
    assert response.get_json()["title"] == wrapped("Not Found")

    refused = client.get("/api/v1/ideas", headers={"Accept-Language": PSEUDO})
    assert refused.status_code == 401
    problem = refused.get_json()
    assert problem["title"] == wrapped("Unauthorized")
    assert pseudo.untranslated_text(problem["detail"]) == []


def test_a_refusal_written_by_the_api_is_translated(
    client: FlaskClient, make_user: Callable[..., User]
) -> None:
    secret = token_of(person_speaking(make_user, PSEUDO))
    # A read-only token asking to vote: the scope refusal.
    response = client.put("/api/v1/ideas/1/vote", headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 403
    problem = response.get_json()
    assert problem["title"] == wrapped("Forbidden")
    assert pseudo.untranslated_text(problem["detail"]) == []


@pytest.fixture
def endpoint(make_user: Callable[..., User]) -> WebhookEndpoint:
    made = WebhookEndpoint(
        name="Отчёты",
        url="https://93.184.216.34/hooks",
        kind=EndpointKind.SLACK,
        events="idea.submitted",
        secret="whsec_" + "A" * 43,
        created_by=person_speaking(make_user, PSEUDO, role=Role.ADMIN),
    )
    db.session.add(made)
    db.session.commit()
    return made


def test_the_switch_off_notice_is_in_its_admins_language(endpoint: WebhookEndpoint) -> None:
    # The reason too: the job writes it for the endpoint's page in the company's language, and
    # again for each admin it tells in theirs.
    assert tell_admins_switched_off(endpoint, lambda: failure_reason(15, None)) == 1
    db.session.commit()
    notice = db.session.scalars(
        sa.select(Notification).where(Notification.user_id == endpoint.created_by_id)
    ).one()
    assert notice.title.startswith(pseudo.OPEN)
    assert pseudo.untranslated_text(notice.title, ["Отчёты"]) == []
    assert pseudo.untranslated_text(notice.body, ["https://93.184.216.34/hooks"]) == []
    assert failure_reason(15, None).startswith("15 deliveries in a row failed")  # the test's own


def test_a_team_chat_message_is_in_the_companys_language(app: Flask) -> None:
    payload = {
        "type": "idea.submitted",
        "data": {
            "idea": {
                "number": 7,
                "title": "Звонить клиентам",
                "status": "submitted",
                "url": "https://ideas.example.com/ideas/7",
                "department": {"name": "Склад", "kind": "back_office", "kind_label": "x"},
                "author": "Ольга",
            }
        },
    }
    app.config["DEFAULT_LOCALE"] = PSEUDO
    with app.test_request_context(headers={"Accept-Language": "en"}):
        body = body_for(EndpointKind.SLACK, payload)
    content = ["Звонить клиентам", "Склад", "Ольга", "https://ideas.example.com/ideas/7"]
    assert pseudo.untranslated_text(body["text"], content) == []
    assert "*Звонить клиентам*" in body["blocks"][0]["text"]["text"]


def test_the_scim_request_log_shows_each_outcome_in_the_readers_language(
    pseudo_as: Callable[[User | None], FlaskClient],
    make_user: Callable[..., User],
    make_department: Callable[..., object],
) -> None:
    """The log keeps what came of each request untranslated and writes it in the admin's
    language when they read it: created, refused (a taken userName, an unknown department),
    updated, deactivated, read."""
    from serviceideas.scim import tokens
    from tests.scim.conftest import Directory, new_user

    make_department("продажи")
    admin = make_user(Role.ADMIN, name="Ольга")
    _, secret = tokens.create_token(admin, "Entra")
    db.session.commit()
    directory = Directory(pseudo_as(None), secret)
    email = "greta.scim@example.com"
    created = directory.post("/Users", new_user(email, department="продажи"))
    assert created.status_code == 201, created.get_data(as_text=True)
    user_id = created.get_json()["id"]
    assert directory.post("/Users", new_user(email, department="продажи")).status_code == 409
    unknown = new_user("other@example.com", department="Склад")
    assert directory.post("/Users", unknown).status_code == 400
    renamed = new_user(email, given="Грета", department="продажи")
    assert directory.put(f"/Users/{user_id}", renamed).status_code == 200
    assert directory.delete(f"/Users/{user_id}").status_code == 204
    assert directory.get("/ServiceProviderConfig").status_code == 200

    page = pseudo_as(admin).get("/admin/scim/requests")
    assert page.status_code == 200
    outcomes = [row[5] for row in table_rows(page.get_data(as_text=True))[1:]]
    assert len(outcomes) == 6
    for outcome in outcomes:
        assert outcome.startswith(pseudo.OPEN), outcome
        assert pseudo.untranslated_text(outcome, [email, "Склад"]) == [], outcome
