"""How notifications react to ideas and training: each event becomes a notification."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from serviceideas.extensions import db
from serviceideas.ideas.models import Status
from serviceideas.ideas.signals import comment_added, status_changed
from serviceideas.notifications.models import Category
from serviceideas.notifications.services import notify
from serviceideas.training.signals import enrolled, feedback_given


def idea_moved(change: Any, idea: Any, **_: Any) -> None:
    if change.from_status is None or change.actor_id == idea.author_id:
        return
    if change.to_status is Status.IMPLEMENTED:
        title = f"Thank you: “{idea.title}” has been put into practice"
        body = f"What changed: {idea.implementation_note}"
    else:
        title = f"Your idea “{idea.title}” is now {change.to_status.label.lower()}"
        body = change.note or ""
    notify(
        idea.author_id,
        Category.IDEAS,
        f"status:{change.id}",
        title,
        f"/ideas/{idea.id}#history",
        body,
    )


def someone_commented(comment: Any, idea: Any, **_: Any) -> None:
    if comment.author_id == idea.author_id:
        return
    title = f"{comment.author.name} commented on “{idea.title}”"
    notify(
        idea.author_id,
        Category.IDEAS,
        f"comment:{comment.id}",
        title,
        f"/ideas/{idea.id}#comment-{comment.id}",
    )


def trainer_answered(reflection: Any, **_: Any) -> None:
    enrolment = reflection.enrolment
    module = enrolment.assignment.module
    title = f"{reflection.feedback_by.name} answered your reflection on “{module.title}”"
    notify(
        enrolment.user_id,
        Category.FEEDBACK,
        f"feedback:{enrolment.id}",
        title,
        f"/training/enrolments/{enrolment.id}",
        reflection.feedback[:500],
    )


def training_assigned(assignment: Any, today: Any, **_: Any) -> None:
    """Everyone enrolled today in this assignment hears of it (one query to find them)."""
    from serviceideas.training.models import Enrolment

    title = f"New training for you: {assignment.module.title}"
    rows = db.session.execute(
        sa.select(Enrolment.id, Enrolment.user_id, Enrolment.due_on).where(
            Enrolment.assignment_id == assignment.id, Enrolment.enrolled_on == today
        )
    )
    for enrolment_id, user_id, due_on in rows:
        notify(
            user_id,
            Category.TRAINING,
            f"assigned:{enrolment_id}",
            title,
            f"/training/enrolments/{enrolment_id}",
            f"Due on {due_on:%-d %B %Y}.",
        )


def connect() -> None:
    status_changed.connect(idea_moved)
    comment_added.connect(someone_commented)
    feedback_given.connect(trainer_answered)
    enrolled.connect(training_assigned)
