"""Webhook events, written in the transaction of what caused them (docs/architecture.md,
"Events in the same transaction"). Receivers only flush: a change that is rolled back or
refused takes its events with it, and a committed one always has them."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from serviceideas.ideas.models import Status
from serviceideas.ideas.signals import comment_added, idea_submitted, owner_named, status_changed
from serviceideas.training.signals import completed
from serviceideas.webhooks import (
    events,
    models,  # noqa: F401 - the tables, for the schema
)

if TYPE_CHECKING:
    from serviceideas.ideas.models import Comment, Idea, StatusChange
    from serviceideas.people.models import User
    from serviceideas.training.models import Enrolment


def idea_was_submitted(idea: Idea, **_: object) -> None:
    events.record(
        events.IDEA_SUBMITTED, lambda: {"idea": events.idea_data(idea)}, at=idea.created_at
    )


def idea_moved(change: StatusChange, *, idea: Idea, **_: object) -> None:
    """Every status change; one into *implemented* is also `idea.implemented`, with the
    quarter's figures, which chat messages quote."""

    def moved() -> dict[str, Any]:
        return {"idea": events.idea_data(idea), "change": events.change_data(change, idea)}

    def implemented() -> dict[str, Any]:
        return {
            **moved(),
            "implementation_note": idea.implementation_note or "",
            "quarter": events.quarter_figures(idea),
        }

    events.record(events.IDEA_STATUS_CHANGED, moved, at=change.changed_at)
    if change.to_status is Status.IMPLEMENTED:
        events.record(events.IDEA_IMPLEMENTED, implemented, at=change.changed_at)


def owner_was_named(idea: Idea, *, owner: User, at: datetime, **_: object) -> None:
    events.record(
        events.IDEA_OWNER_NAMED,
        lambda: {"idea": events.idea_data(idea), "owner": events.name_of(idea, owner)},
        at=at,
    )


def someone_commented(comment: Comment, *, idea: Idea, **_: object) -> None:
    events.record(
        events.IDEA_COMMENTED,
        lambda: {"idea": events.idea_data(idea), "comment": events.comment_data(comment, idea)},
        at=comment.created_at,
    )


def training_was_completed(enrolment: Enrolment, **_: object) -> None:
    events.record(
        events.TRAINING_COMPLETED,
        lambda: events.completion_data(enrolment),
        at=enrolment.completed_at,
    )


def connect() -> None:
    """Subscribe to the signals of ideas and training."""
    idea_submitted.connect(idea_was_submitted)
    status_changed.connect(idea_moved)
    owner_named.connect(owner_was_named)
    comment_added.connect(someone_commented)
    completed.connect(training_was_completed)
