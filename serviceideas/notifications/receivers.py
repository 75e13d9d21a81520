"""How notifications react to ideas, training and roles: each event becomes a notification.

The receivers run inside the sender's transaction and only flush (docs/architecture.md,
"Signals").
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from serviceideas.database import utcnow
from serviceideas.ideas.models import Status
from serviceideas.ideas.policies import HIDDEN_NAME, name_on
from serviceideas.ideas.signals import comment_added, owner_named, status_changed
from serviceideas.notifications import queries
from serviceideas.notifications.models import Category, Target
from serviceideas.notifications.services import (
    announce_training,
    notify,
    tell_department,
    tell_followers,
)
from serviceideas.people.services import read_alongside_signed_in_person
from serviceideas.people.signals import roles_changed
from serviceideas.training import services as training
from serviceideas.training.signals import enrolled, feedback_given
from serviceideas.wording import noun

if TYPE_CHECKING:
    from serviceideas.ideas.models import Comment, Idea, StatusChange
    from serviceideas.people.models import Role, User
    from serviceideas.training.models import Assignment, Reflection


def idea_moved(change: StatusChange, *, idea: Idea, **_: object) -> None:
    """The author hears of every step someone else took; followers of the endings that
    matter to them (put into practice, declined, merged); the people of the team an idea was
    for, of it being put into practice (docs/product.md, "Notifications"). One key per step,
    so whoever is more than one of these is told once, by the first."""
    if change.from_status is None:
        return
    key = f"status:{change.id}"
    if change.to_status is Status.IMPLEMENTED:
        body = f"What changed: {idea.implementation_note}"
    else:
        body = change.note or ""
    if change.actor_id != idea.author_id:
        if change.to_status is Status.IMPLEMENTED:
            title = f"Thank you: “{idea.title}” has been put into practice"
        else:
            title = f"Your idea “{idea.title}” is now {change.to_status.label.lower()}"
        notify(idea.author_id, Category.IDEAS, key, title, Target.IDEA, idea.id, body)
    followed = FOLLOWERS_HEAR.get(change.to_status)
    if followed is not None:
        title = followed.format(title=idea.title, into=idea.merged_into_id)
        tell_followers(idea.id, key, title, body, except_id=change.actor_id)
    if change.to_status is Status.IMPLEMENTED and idea.beneficiary_department is not None:
        team = idea.beneficiary_department.name
        title = f"Put into practice for {team}: “{idea.title}”"
        tell_department(
            idea.beneficiary_department.id, idea.id, key, title, body, except_id=change.actor_id
        )


# What followers are told of (and of nothing else: the steps between are for the author).
FOLLOWERS_HEAR = {
    Status.IMPLEMENTED: "Put into practice: “{title}”, an idea you follow",
    Status.DECLINED: "Declined: “{title}”, an idea you follow",
    Status.MERGED: "Merged into idea #{into}: “{title}”, an idea you follow",
}


def owner_was_named(idea: Idea, *, owner: User, actor: User, at: datetime, **_: object) -> None:
    """A person named as an idea's owner hears of it, unless they named themselves; named
    again later (after someone else), they are told again (docs/product.md,
    "Notifications")."""
    if owner.id == actor.id:
        return
    # A manager who wrote the idea with their name hidden is not named to its new owner
    # (docs/product.md, "Speaking up safely").
    by = name_on(owner, idea, actor.id, actor.name)
    notify(
        owner.id,
        Category.IDEAS,
        f"owner:{idea.id}:{at:%Y%m%dT%H%M%S%f}",
        f"{'A manager' if by == HIDDEN_NAME else by} made you the owner of “{idea.title}”",
        Target.IDEA,
        idea.id,
        "Set its next step and record progress on its page; it is listed under Ideas I own.",
    )


def someone_commented(comment: Comment, *, idea: Idea, **_: object) -> None:
    if comment.author_id == idea.author_id:
        return
    title = f"{comment.author.name} commented on “{idea.title}”"
    notify(
        idea.author_id, Category.IDEAS, f"comment:{comment.id}", title, Target.COMMENT, comment.id
    )


def trainer_answered(reflection: Reflection, **_: object) -> None:
    enrolment = reflection.enrolment
    module = enrolment.assignment.module
    trainer = reflection.feedback_by
    assert trainer is not None  # the signal is sent once the trainer is recorded
    title = f"{trainer.name} answered your reflection on “{module.title}”"
    notify(
        enrolment.user_id,
        Category.FEEDBACK,
        f"feedback:{enrolment.id}",
        title,
        Target.ENROLMENT,
        enrolment.id,
        (reflection.feedback or "")[:500],
    )


def training_assigned(
    assignment: Assignment,
    *,
    today: date,
    only: tuple[int, ...] | None = None,
    **_: object,
) -> None:
    """Those just enrolled — `only` those people (ids), or the whole audience — hear of it once, in
    one statement. A period already over is not announced: catching up on past periods
    would tell people of training that has since been replaced by the current period's."""
    if training.period_start(assignment, today) < training.period_start(
        assignment, utcnow().date()
    ):
        return
    announce_training(
        assignment,
        today,
        f"New training for you: {assignment.module.title}",
        f"Due on {training.due_date(assignment, today):%-d %B %Y}.",
        user_ids=only,
    )


def roles_were_changed(
    person: User,
    *,
    granted: list[Role],
    removed: list[Role],
    actor: User | None,
    change_id: int,
    **_: object,
) -> None:
    """The person hears of every role given to or taken from them, and by whom
    (docs/product.md, "Roles"). Under "training": the nearest category, since the trainer
    and manager roles are what most changes are about."""
    by = "The command line" if actor is None else actor.name
    parts = []
    if granted:
        parts.append(f"gave you the {_roles(granted)}")
    if removed:
        parts.append(f"took away your {_roles(removed)}")
    title = f"{by} {' and '.join(parts)}"
    notify(
        person.id,
        Category.TRAINING,
        f"roles:{change_id}",
        title,
        Target.NOTIFICATIONS,
        body="If you did not expect this, tell an admin.",
    )


def _roles(roles: list[Role]) -> str:
    names = " and ".join(role.value for role in roles)
    return f"{names} {noun(len(roles), 'role')}"


def connect() -> None:
    # The bell's count comes with the signed-in person on pages that only read: no round trip
    # of its own on every page (docs/benchmark.md, "PostgreSQL: where the time went").
    read_alongside_signed_in_person(queries.UNREAD, queries.unread_count_of)
    roles_changed.connect(roles_were_changed)
    status_changed.connect(idea_moved)
    comment_added.connect(someone_commented)
    owner_named.connect(owner_was_named)
    feedback_given.connect(trainer_answered)
    enrolled.connect(training_assigned)
