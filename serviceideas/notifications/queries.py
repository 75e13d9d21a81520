"""What the notifications feature reads: a person's list and unread count, where each
notification leads, the rows behind reminders and digests, and the calendar feed's training.

Nothing here writes; services.py does.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import date, datetime
from functools import cache
from typing import Any, NamedTuple

import sqlalchemy as sa
from flask import current_app, url_for

from serviceideas.extensions import db
from serviceideas.ideas.models import Comment, Idea, Stalled, Status, past_target_clause
from serviceideas.notifications.models import (
    CalendarFeed,
    Category,
    Delivery,
    Email,
    Notification,
    Preference,
    Target,
)
from serviceideas.people.models import User
from serviceideas.people.services import read_with_signed_in_person
from serviceideas.training.models import (
    Assignment,
    Enrolment,
    Module,
    Reflection,
    due_soon_sql,
    overdue_sql,
)

# The pages a notification can lead to that are not about one row.
PAGES = {
    Target.REVIEW_QUEUE: "ideas.review",
    Target.REFLECTIONS: "training.reflections",
    Target.NOTIFICATIONS: "notifications.index",
}


# Where a notification leads


def links(notifications: Iterable[Notification]) -> dict[int, str]:
    """Each notification's address on this site, by notification id, built now with url_for
    from what it leads to. Asks the database once, for the ideas of any comments among them."""
    notifications = list(notifications)
    comment_ids = {n.target_id for n in notifications if n.target is Target.COMMENT and n.target_id}
    ideas = _ideas_of_comments(comment_ids) if comment_ids else {}
    return {n.id: address(n.target, n.target_id, ideas) for n in notifications}


def link(notification: Notification) -> str:
    """One notification's address on this site (see `links`)."""
    return links([notification])[notification.id]


def address(target: Target, target_id: int | None, idea_of_comment: Mapping[int, int]) -> str:
    """The path of what a notification leads to. A row that is gone (a comment whose idea
    cannot be found) leads to the notifications page."""
    if target_id is not None:
        if target is Target.IDEA:
            return url_for("ideas.show", idea_id=target_id, _anchor="history")
        if target is Target.COMMENT and target_id in idea_of_comment:
            idea_id = idea_of_comment[target_id]
            return url_for("ideas.show", idea_id=idea_id, _anchor=f"comment-{target_id}")
        if target is Target.ENROLMENT:
            return url_for("training.enrolment", enrolment_id=target_id)
    return url_for(PAGES.get(target, "notifications.index"))


def _ideas_of_comments(comment_ids: Iterable[int]) -> dict[int, int]:
    rows = db.session.execute(
        sa.select(Comment.id, Comment.idea_id).where(Comment.id.in_(sorted(comment_ids)))
    )
    return {comment_id: idea_id for comment_id, idea_id in rows}


# A person's notifications


UNREAD = "unread_notifications"


def unread_count(user: User) -> int:
    """How many of the person's notifications are unread: the bell, on every page. A page that
    only reads has it already, read with the signed-in person (`unread_count_of`)."""
    counted = read_with_signed_in_person(UNREAD, user)
    if counted is not None:
        return int(counted)
    return db.session.scalar(_unread_count_statement(), {"user_id": user.id}) or 0


def unread_count_of(person_id: sa.ColumnExpressionArgument[int]) -> sa.ScalarSelect[int]:
    """The unread count of the person `person_id` names, as a column (one index range)."""
    return (
        sa.select(sa.func.count(Notification.id))
        .where(Notification.user_id == person_id, Notification.read_at.is_(None))
        .scalar_subquery()
    )


@cache
def _unread_count_statement() -> sa.Select[int]:
    """Built once, with the person as a parameter: the bell of a page that may write."""
    return sa.select(unread_count_of(sa.bindparam("user_id", type_=sa.Integer)))


def recent(user: User, limit: int = 50) -> list[Notification]:
    return list(
        db.session.scalars(
            sa.select(Notification)
            .where(Notification.user_id == user.id)
            .order_by(Notification.created_at.desc(), Notification.id.desc())
            .limit(limit)
        )
    )


def notification_of(user: User, notification_id: int) -> Notification | None:
    """The notification, if it is `user`'s: anyone else's is as if it did not exist."""
    return db.session.scalar(
        sa.select(Notification).where(
            Notification.id == notification_id, Notification.user_id == user.id
        )
    )


def preferences(user: User) -> dict[Category, Delivery]:
    chosen: dict[Category, Delivery] = {
        category: delivery
        for category, delivery in db.session.execute(
            sa.select(Preference.category, Preference.delivery).where(Preference.user_id == user.id)
        )
    }
    return {category: chosen.get(category, Delivery.IMMEDIATELY) for category in Category}


def delivery_is(delivery: Delivery) -> sa.ColumnElement[bool]:
    """For a query over Notification joined to User: the person chose `delivery` for the
    notification's category (no choice means e-mail right away)."""
    chosen = (
        sa.select(Preference.delivery)
        .where(Preference.user_id == User.id, Preference.category == Notification.category)
        .scalar_subquery()
    )
    return sa.func.coalesce(chosen, Delivery.IMMEDIATELY.value) == delivery.value


def calendar_feed_of(user: User) -> CalendarFeed | None:
    """The person's calendar feed, if they turned it on."""
    return db.session.get(CalendarFeed, user.id)


# Whom to write to in which language


def language_of_person() -> sa.ColumnElement[str]:
    """For a query over User: the language the person is written to in away from their
    requests, as `serviceideas.i18n.locale_for` decides it (their choice, else the company
    directory's, else their browser's at their last sign-in, else the company's default), in
    SQL: notifications for many people at once are written once per language
    (docs/product.md, "Notifications and e-mails")."""
    config = current_app.config
    return sa.case(
        (User.locale.in_(config["LANGUAGES"]), User.locale),
        (User.directory_locale.in_(config["LANGUAGES"]), User.directory_locale),
        (User.browser_locale.in_(config["LANGUAGES"]), User.browser_locale),
        else_=sa.literal(str(config["DEFAULT_LOCALE"])),
    )


def languages_of(people: sa.Select[int]) -> list[str]:
    """The languages the people `people` selects (their ids) are written to in."""
    statement = sa.select(language_of_person()).where(User.id.in_(people.correlate(None)))
    return sorted(set(db.session.scalars(statement.distinct())))


def speaks(
    person_id: sa.ColumnElement[int] | sa.orm.QueryableAttribute[int], language: str
) -> sa.ColumnElement[bool]:
    """The person `person_id` names is written to in `language`."""
    # Not correlated: the query it is part of may read User itself (a person's followers).
    people = sa.select(User.id).where(language_of_person() == language).correlate(None)
    return person_id.in_(people)


# What reminders, e-mail and digests are about


def enrolled_on(
    assignment_id: int, today: date, user_ids: Collection[int] | None = None
) -> sa.ColumnElement[bool]:
    """For a query over Enrolment: enrolled in the assignment on `today` (and, with
    `user_ids`, one of those people)."""
    condition = sa.and_(Enrolment.assignment_id == assignment_id, Enrolment.enrolled_on == today)
    return condition if user_ids is None else sa.and_(condition, Enrolment.user_id.in_(user_ids))


class Deadline(NamedTuple):
    """A piece of training a person has still to do."""

    enrolment_id: int
    user_id: int
    due_on: date
    module_title: str
    completed_at: datetime | None  # always None here; read by the deadline rules


def _open_training() -> sa.Select[int, int, date, str, datetime | None]:
    """Training assigned to an active person, not withdrawn and not done yet."""
    return (
        sa.select(
            Enrolment.id.label("enrolment_id"),
            Enrolment.user_id,
            Enrolment.due_on,
            Module.title.label("module_title"),
            Enrolment.completed_at,
        )
        .join(Assignment, Enrolment.assignment_id == Assignment.id)
        .join(Module, Assignment.module_id == Module.id)
        .join(User, Enrolment.user_id == User.id)
        .where(
            Enrolment.completed_at.is_(None),
            Assignment.withdrawn_at.is_(None),
            Enrolment.withdrawn_at.is_(None),  # withdrawn for them: they moved department
            User.is_active,
        )
    )


def due_soon_or_overdue(today: date) -> list[tuple[Deadline, str]]:
    """Open training that is due soon or overdue today (docs/product.md, "Training
    deadlines"): what the reminders are about; each with the language its person is written
    to in."""
    statement = (
        _open_training()
        .add_columns(language_of_person().label("language"))
        .where(sa.or_(due_soon_sql(today), overdue_sql(today)))
    )
    return [(_deadline(row), row.language) for row in db.session.execute(statement)]


def overdue_by_person(today: date) -> list[tuple[User, list[Deadline]]]:
    """Each active person with overdue training, and that training, soonest due first."""
    statement = (
        _open_training()
        .add_columns(User)
        .where(overdue_sql(today))
        .order_by(User.id, Enrolment.due_on, Enrolment.id)
    )
    by_person: dict[int, tuple[User, list[Deadline]]] = {}
    for row in db.session.execute(statement):
        by_person.setdefault(row.User.id, (row.User, []))[1].append(_deadline(row))
    return list(by_person.values())


def _deadline(row: sa.Row[*tuple[Any, ...]]) -> Deadline:
    return Deadline(row.enrolment_id, row.user_id, row.due_on, row.module_title, row.completed_at)


def to_email_now(since: datetime) -> list[tuple[Notification, User]]:
    """Unread notifications since `since`, not yet e-mailed, of active people who want
    e-mail right away (digests have e-mails of their own)."""
    already = sa.exists().where(
        Email.user_id == Notification.user_id,
        Email.key == sa.literal("n:") + sa.cast(Notification.id, sa.String),
    )
    rows = db.session.execute(
        sa.select(Notification, User)
        .join(User, Notification.user_id == User.id)
        .where(
            User.is_active,
            Notification.read_at.is_(None),
            Notification.created_at >= since,
            Notification.category != Category.DIGESTS,
            delivery_is(Delivery.IMMEDIATELY),
            ~already,
        )
        .order_by(Notification.id)
    )
    return [(notification, user) for notification, user in rows]


def told_daily_between(since: datetime, until: datetime) -> list[tuple[User, list[Notification]]]:
    """Each active person who chose a daily e-mail, with what they were told in the period."""
    rows = db.session.execute(
        sa.select(Notification, User)
        .join(User, Notification.user_id == User.id)
        .where(
            User.is_active,
            Notification.created_at >= since,
            Notification.created_at < until,
            Notification.category != Category.DIGESTS,
            delivery_is(Delivery.DAILY),
        )
        .order_by(User.id, Notification.created_at, Notification.id)
    )
    by_person: dict[int, tuple[User, list[Notification]]] = {}
    for notification, user in rows:
        by_person.setdefault(user.id, (user, []))[1].append(notification)
    return list(by_person.values())


def active_managers() -> list[User]:
    """Active managers and admins: the weekly managers' digest goes to them."""
    return _active_people(sa.or_(User.is_manager, User.is_admin))


def active_trainers() -> list[User]:
    return _active_people(User.is_trainer)


def _active_people(condition: sa.ColumnExpressionArgument[bool]) -> list[User]:
    return list(
        db.session.scalars(sa.select(User).where(User.is_active, condition).order_by(User.id))
    )


def waiting_for_review() -> int:
    """Ideas submitted and not yet looked at."""
    statement = sa.select(sa.func.count(Idea.id)).where(Idea.status == Status.SUBMITTED)
    return db.session.scalar(statement) or 0


def stalled_ideas(stalled: Stalled, limit: int = 20) -> list[Idea]:
    """The ideas stalled longest, by the one rule (docs/product.md, "Stalled ideas")."""
    return list(
        db.session.scalars(
            sa.select(Idea).where(stalled.clause()).order_by(Idea.status_changed_at).limit(limit)
        )
    )


def past_target_ideas(today: date, limit: int = 20) -> list[Idea]:
    """Open ideas past their target date, latest first by that date (docs/product.md,
    "Stalled ideas")."""
    return list(
        db.session.scalars(
            sa.select(Idea)
            .where(past_target_clause(today))
            .order_by(Idea.target_date, Idea.id)
            .limit(limit)
        )
    )


def lagging_ideas_by_owner(stalled: Stalled, today: date) -> list[tuple[User, list[Idea]]]:
    """Each active owner with the open ideas they own that have stalled (the one rule) or
    passed their target date, longest waiting first: their weekly digest (two queries)."""
    ideas = db.session.scalars(
        sa.select(Idea)
        .join(User, User.id == Idea.owner_id)
        .where(User.is_active, sa.or_(stalled.clause(), past_target_clause(today)))
        .order_by(Idea.owner_id, Idea.status_changed_at, Idea.id)
    ).all()
    owned: dict[int, list[Idea]] = {}
    for idea in ideas:
        assert idea.owner_id is not None  # joined to its owner
        owned.setdefault(idea.owner_id, []).append(idea)
    owners = db.session.scalars(sa.select(User).where(User.id.in_(owned)).order_by(User.id))
    return [(owner, owned[owner.id]) for owner in owners]


def reflections_written_since(since: datetime) -> int:
    statement = sa.select(sa.func.count(Reflection.enrolment_id)).where(
        Reflection.written_at >= since
    )
    return db.session.scalar(statement) or 0


class CalendarEntry(NamedTuple):
    enrolment_id: int
    due_on: date
    module_title: str


def training_for_calendar(user: User) -> Sequence[CalendarEntry]:
    """The calendar feed's events: the person's training not yet done, by due date (done or
    withdrawn training leaves the calendar)."""
    rows = db.session.execute(
        sa.select(Enrolment.id, Enrolment.due_on, Module.title)
        .join(Assignment, Enrolment.assignment_id == Assignment.id)
        .join(Module, Assignment.module_id == Module.id)
        .where(
            Enrolment.user_id == user.id,
            Enrolment.completed_at.is_(None),
            Assignment.withdrawn_at.is_(None),
            Enrolment.withdrawn_at.is_(None),  # withdrawn for them: they moved department
        )
        .order_by(Enrolment.due_on, Enrolment.id)
    )
    return [CalendarEntry(row.id, row.due_on, row.title) for row in rows]
