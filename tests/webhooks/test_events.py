"""Webhook events: written in the transaction of what caused them, one delivery per active
endpoint that subscribed, and nothing in them that must not leave (docs/product.md, "Events")."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from serviceideas.database import utcnow
from serviceideas.errors import RuleViolation
from serviceideas.extensions import db
from serviceideas.ideas import services as ideas
from serviceideas.ideas.models import Lens, Status
from serviceideas.people.models import DepartmentKind, Role
from serviceideas.webhooks.models import DeliveryState, WebhookEvent
from tests.webhooks.conftest import deliveries


def events(event_type: str | None = None) -> list[dict[str, Any]]:
    statement = sa.select(WebhookEvent).order_by(WebhookEvent.id)
    if event_type is not None:
        statement = statement.where(WebhookEvent.type == event_type)
    return [json.loads(e.payload) for e in db.session.scalars(statement)]


def draft(title: str, *, hidden: bool = False) -> ideas.IdeaDraft:
    return ideas.IdeaDraft(
        title=title,
        problem="Stores do not know when a lorry is late.",
        proposal="Text the store manager.",
        lens=Lens.CARE,
        beneficiary=None,
        name_hidden=hidden,
    )


def test_an_event_goes_to_each_active_endpoint_that_subscribed(
    make_endpoint, make_user, make_department
):
    first = make_endpoint(events=("idea.submitted",))
    second = make_endpoint(events=("idea.submitted", "idea.implemented"))
    make_endpoint(events=("idea.implemented",))  # not subscribed
    make_endpoint(active=False)  # switched off: nothing new for it
    logistics = make_department("Logistics", DepartmentKind.BACK_OFFICE)
    author = make_user(name="Lena Lorry", department=logistics)

    idea = ideas.submit_idea(author, draft("Tell stores when a delivery will be late"))
    db.session.commit()

    [payload] = events()
    assert payload["type"] == "idea.submitted" and payload["version"] == 1
    assert payload["id"].startswith("evt_") and payload["occurred_at"].endswith("Z")
    assert payload["data"]["idea"] == {
        "number": idea.id,
        "title": "Tell stores when a delivery will be late",
        "status": "submitted",
        "status_label": "Submitted",
        "url": f"https://ideas.example.com/ideas/{idea.id}",
        "department": {"name": "Logistics", "kind": "back_office", "kind_label": "Back office"},
        "for_department": None,
        "author": "Lena Lorry",
        "submitted_at": payload["data"]["idea"]["submitted_at"],
        "implemented_on": None,
    }
    sent = deliveries()
    assert sorted(d.endpoint_id for d in sent) == sorted([first.id, second.id])
    assert all(d.state is DeliveryState.PENDING and d.attempts == 0 for d in sent)
    assert all(d.message_id.startswith("msg_") for d in sent)
    assert len({d.message_id for d in sent}) == 2


def test_nothing_is_written_when_nobody_subscribed(make_endpoint, make_idea):
    make_endpoint(events=("training.completed",))
    make_idea(Status.IMPLEMENTED)
    assert events() == [] and deliveries() == []


def test_a_change_rolled_back_or_refused_writes_no_event(make_endpoint, make_idea, make_user):
    make_endpoint()
    idea = make_idea()
    manager = make_user(Role.MANAGER)
    before = len(events())

    ideas.change_status(manager, idea, ideas.Decision(Status.UNDER_REVIEW))
    db.session.flush()
    assert len(events()) == before + 1  # written with the change, in its transaction
    db.session.rollback()
    assert len(events()) == before

    with pytest.raises(RuleViolation):
        ideas.change_status(manager, idea, ideas.Decision(Status.IMPLEMENTED))  # no note
    db.session.rollback()
    assert len(events()) == before


def test_put_into_practice_is_also_idea_implemented_with_the_quarters_count(
    make_endpoint, make_idea, make_user, make_department
):
    make_endpoint(events=("idea.status_changed", "idea.implemented"))
    logistics = make_department("Logistics", DepartmentKind.BACK_OFFICE)
    make_idea(Status.IMPLEMENTED)  # another department's
    make_idea(Status.IMPLEMENTED, author=make_user(department=logistics))

    moves = events("idea.status_changed")
    assert [m["data"]["change"]["to"] for m in moves][-4:] == [
        "under_review",
        "approved",
        "in_progress",
        "implemented",
    ]
    [_, latest] = events("idea.implemented")
    data = latest["data"]
    assert data["change"]["to"] == "implemented"
    assert data["implementation_note"] == "Done, and it worked."
    assert data["quarter"]["implemented"] == 2  # company-wide, this idea included
    assert data["quarter"]["implemented_by_department"] == 1
    assert data["quarter"]["is_current"] is True
    assert data["idea"]["department"]["name"] == "Logistics"


def test_a_hidden_authors_name_never_leaves(make_endpoint, make_user):
    make_endpoint()
    author = make_user(Role.MANAGER, name="Hidden Harriet")
    manager = make_user(Role.MANAGER)
    idea = ideas.submit_idea(author, draft("Quietly better", hidden=True))
    ideas.change_status(author, idea, ideas.Decision(Status.UNDER_REVIEW, note="Mine"))
    ideas.set_owner(manager, idea, author)
    ideas.add_comment(manager, idea, "Looks good.")
    db.session.commit()

    written = events()
    assert {e["type"] for e in written} == {
        "idea.submitted",
        "idea.status_changed",
        "idea.owner_named",
        "idea.commented",
    }
    assert all(e["data"]["idea"]["author"] is None for e in written)
    assert "Hidden Harriet" not in json.dumps(written)
    [moved] = events("idea.status_changed")
    assert moved["data"]["change"]["by"] is None
    [owned] = events("idea.owner_named")
    assert owned["data"]["owner"] is None
    [commented] = events("idea.commented")
    assert commented["data"]["comment"]["body"] == "Looks good."
    assert commented["data"]["comment"]["author"] == manager.name


def test_a_completed_training_names_the_department_not_the_learner_nor_their_words(
    make_endpoint, make_enrolment, make_user, make_department
):
    make_endpoint(events=("training.completed",))
    shop = make_department("Shop floor", DepartmentKind.FRONT_LINE)
    learner = make_user(name="Private Pat", department=shop)
    enrolment = make_enrolment(
        "reflection",
        learner=learner,
        answer="I noticed that I rush the older customers at the till, every day.",
    )

    [payload] = events()
    data = payload["data"]
    assert data["department"] == {
        "name": "Shop floor",
        "kind": "front_line",
        "kind_label": "Front line",
    }
    module = enrolment.assignment.module
    assert data["module"]["title"] == module.title and data["module"]["kind"] == "reflection"
    assert data["module"]["url"] == f"https://ideas.example.com/training/modules/{module.id}"
    text = json.dumps(payload)
    assert "Private Pat" not in text and "older customers" not in text


def test_a_delivery_is_due_at_once_whatever_time_the_change_gives(make_endpoint, make_user):
    make_endpoint(events=("idea.submitted",))
    later = utcnow() + timedelta(hours=3)
    ideas.submit_idea(make_user(), draft("Dated later"), now=later)
    db.session.commit()
    [due] = deliveries()
    assert due.next_attempt_at is not None and due.next_attempt_at <= utcnow()
