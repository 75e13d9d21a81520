"""The events webhooks carry, and the versioned JSON written for each (docs/product.md,
"Events").

`record` writes one WebhookEvent and a pending WebhookDelivery for each active endpoint that
subscribed to its type, in the transaction of what caused it; it only flushes
(docs/architecture.md, "Events in the same transaction"). An event nobody subscribed to is
not written at all.

What leaves the company is chosen here, once: an idea's author is named only when they did
not hide their name (the rule of `ideas.policies.can_see_author`, asked as nobody in
particular), and a completed training names the module and the learner's department,
never the learner, and never what they wrote.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Final

import sqlalchemy as sa
from flask import current_app, has_request_context, url_for
from flask_babel import LazyString, force_locale, lazy_gettext
from flask_login import AnonymousUserMixin

from serviceideas.database import utcnow
from serviceideas.extensions import db
from serviceideas.ideas.models import Idea, Status
from serviceideas.ideas.policies import can_see_author
from serviceideas.insights.metrics import implemented_in
from serviceideas.insights.periods import PeriodKind, calendar_period
from serviceideas.urls import absolute
from serviceideas.webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookEvent

if TYPE_CHECKING:
    from serviceideas.ideas.models import Comment, StatusChange
    from serviceideas.people.models import Department, User
    from serviceideas.training.models import Enrolment

VERSION: Final = 1

IDEA_SUBMITTED: Final = "idea.submitted"
IDEA_STATUS_CHANGED: Final = "idea.status_changed"
IDEA_IMPLEMENTED: Final = "idea.implemented"
IDEA_OWNER_NAMED: Final = "idea.owner_named"
IDEA_COMMENTED: Final = "idea.commented"
TRAINING_COMPLETED: Final = "training.completed"

#: Every event type, with what it means (for the endpoint form's choices), in that order.
EVENT_TYPES: Final[dict[str, LazyString]] = {
    IDEA_SUBMITTED: lazy_gettext("Someone submitted an idea"),
    IDEA_STATUS_CHANGED: lazy_gettext(
        "An idea moved to another status (also when put into practice)"
    ),
    IDEA_IMPLEMENTED: lazy_gettext("An idea was put into practice"),
    IDEA_OWNER_NAMED: lazy_gettext("An idea got a new owner"),
    IDEA_COMMENTED: lazy_gettext("Someone commented on an idea"),
    TRAINING_COMPLETED: lazy_gettext(
        "Someone completed a training module (their department, not their name)"
    ),
}

# Who reads a webhook: nobody in particular, so an author who hid their name stays hidden.
OUTSIDER: Final = AnonymousUserMixin()


def new_message_id() -> str:
    """A delivery's `webhook-id`: unique, and the same for every attempt at it."""
    return "msg_" + secrets.token_urlsafe(18)


def record(
    event_type: str, data: Callable[[], dict[str, Any]], *, at: datetime | None = None
) -> int:
    """Write the event and one pending delivery per active endpoint subscribed to it; flushes.
    Returns the number of deliveries (0: nobody listens, and nothing was written, nor was
    `data` called: what it reads costs nothing then)."""
    endpoints = [
        endpoint_id
        for endpoint_id, events in db.session.execute(
            sa.select(WebhookEndpoint.id, WebhookEndpoint.events).where(
                WebhookEndpoint.active.is_(True)
            )
        )
        if event_type in events.split()
    ]
    if not endpoints:
        return 0
    at = at or utcnow()
    # Data for machines: its labels (a status's, a department kind's) in English, whatever
    # language the request that caused it speaks.
    with force_locale("en"):
        written = data()
    payload = {
        "type": event_type,
        "version": VERSION,
        "id": "evt_" + secrets.token_urlsafe(12),
        "occurred_at": _moment(at),
        "data": written,
    }
    event = WebhookEvent(
        type=event_type, payload=json.dumps(payload, ensure_ascii=False), occurred_at=at
    )
    db.session.add(event)
    db.session.flush()
    now = utcnow()  # due now, whenever the change says it happened
    db.session.execute(
        sa.insert(WebhookDelivery),
        [
            {
                "endpoint_id": endpoint_id,
                "event_id": event.id,
                "message_id": new_message_id(),
                "next_attempt_at": now,
                "created_at": now,
            }
            for endpoint_id in endpoints
        ],
    )
    return len(endpoints)


# What each event says


def idea_data(idea: Idea) -> dict[str, Any]:
    """An idea as every idea event carries it. Its department is the one it counts for (its
    author's when submitting: docs/product.md, "Metrics")."""
    return {
        "number": idea.id,
        "title": idea.title,
        "status": idea.status.value,
        "status_label": status_label(idea.status),
        "url": link("ideas.show", idea_id=idea.id),
        "department": department_data(idea.author_department),
        "for_department": (
            None
            if idea.beneficiary_department is None
            else department_data(idea.beneficiary_department)
        ),
        "author": idea.author.name if can_see_author(OUTSIDER, idea) else None,
        "submitted_at": _moment(idea.created_at),
        "implemented_on": None if idea.implemented_on is None else idea.implemented_on.isoformat(),
    }


def status_label(status: Status) -> str:
    return "Put into practice" if status is Status.IMPLEMENTED else status.label


def department_data(department: Department) -> dict[str, str]:
    return {
        "name": department.name,
        "kind": department.kind.value,
        "kind_label": department.kind.label,
    }


def name_of(idea: Idea, person: User) -> str | None:
    """A person's name as an event about `idea` may carry it: None for its author when they
    hid their name."""
    if person.id == idea.author_id and not can_see_author(OUTSIDER, idea):
        return None
    return person.name


def change_data(change: StatusChange, idea: Idea) -> dict[str, Any]:
    return {
        "from": None if change.from_status is None else change.from_status.value,
        "to": change.to_status.value,
        "note": change.note or "",
        "by": name_of(idea, change.actor),
        "at": _moment(change.changed_at),
    }


def quarter_figures(idea: Idea) -> dict[str, Any]:
    """The quarter the idea was put into practice in, with how many ideas were put into
    practice in it, company-wide and by the idea's department: the dashboard's own
    definition (docs/product.md, "Ideas put into practice"), counted in this transaction."""
    assert idea.implemented_on is not None  # an idea put into practice has its date
    quarter = calendar_period(PeriodKind.QUARTER, idea.implemented_on)
    company, department = db.session.execute(
        sa.select(
            sa.func.count(Idea.id),
            sa.func.count(Idea.id).filter(Idea.author_department_id == idea.author_department_id),
        ).where(implemented_in(quarter))
    ).one()
    return {
        "label": quarter.label,
        "start": quarter.start.isoformat(),
        "end": quarter.end.isoformat(),
        "is_current": quarter.start <= utcnow().date() <= quarter.end,
        "implemented": company,
        "implemented_by_department": department,
    }


def comment_data(comment: Comment, idea: Idea) -> dict[str, Any]:
    """Comments are named on the idea's page, also the author's own (docs/product.md,
    "Speaking up safely"), so they are named here."""
    return {
        "id": comment.id,
        "author": comment.author.name,
        "body": comment.body,
        "url": link("ideas.show", idea_id=idea.id) + f"#comment-{comment.id}",
        "at": _moment(comment.created_at),
    }


def completion_data(enrolment: Enrolment) -> dict[str, Any]:
    """A completed module: which, and the learner's department. Not the learner's name, nor
    their reflection (docs/product.md, "Privacy of reflections")."""
    module = enrolment.assignment.module
    assert enrolment.completed_at is not None  # sent once it is recorded
    return {
        "module": {
            "id": module.id,
            "title": module.title,
            "kind": module.kind.value,
            "url": link("training.module", module_id=module.id),
        },
        "department": department_data(enrolment.user.department),
        "completed_at": _moment(enrolment.completed_at),
        "due_on": _day(enrolment.due_on),
    }


def link(endpoint: str, **values: Any) -> str:
    """The absolute address of a page, as people reach it (urls.absolute). Events are written
    in requests, and by commands outside any request: those build it in a stand-in request
    (which runs no statement)."""
    if has_request_context():
        return absolute(url_for(endpoint, **values))
    with current_app.test_request_context(base_url=current_app.config["BASE_URL"]):
        return absolute(url_for(endpoint, **values))


def _moment(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def _day(day: date) -> str:
    return day.isoformat()
