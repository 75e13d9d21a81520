"""What people are told, how they want to hear it, and every e-mail we send (or will)."""

from __future__ import annotations

import enum
import secrets
from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from flask_babel import LazyString, lazy_gettext, lazy_pgettext
from sqlalchemy.orm import Mapped, mapped_column

from serviceideas.database import UTCDateTime, enum_column_type, utcnow
from serviceideas.extensions import db

if TYPE_CHECKING:
    from serviceideas.extensions import Base as Model  # what db.Model is, to the type checker
else:
    Model = db.Model  # Flask-SQLAlchemy makes it at run time, out of mypy's sight

KEY_MAX = 120


class Category(enum.StrEnum):
    """What a notification is about; each person chooses how to hear of each."""

    # Your idea moved, someone commented on it, an idea you follow ended (put into practice,
    # declined, merged), an idea for your team was put into practice.
    IDEAS = "ideas"
    FEEDBACK = "feedback"  # a trainer answered your reflection
    TRAINING = "training"  # assigned, due soon, overdue
    DIGESTS = "digests"  # managers' weekly and trainers' daily round-ups

    @property
    def label(self) -> str:
        return str(CATEGORY_LABELS[self])

    @property
    def in_sentence(self) -> str:
        """The label as written inside a sentence ("no longer get e-mail about: feedback on
        your reflections"): lower case in English, each language's own case in others."""
        return str(CATEGORY_IN_SENTENCE[self])


class Delivery(enum.StrEnum):
    IMMEDIATELY = "immediately"
    DAILY = "daily"
    OFF = "off"

    @property
    def label(self) -> str:
        return str(DELIVERY_LABELS[self])


CATEGORY_LABELS: dict[Category, LazyString] = {
    Category.IDEAS: lazy_gettext("News about your ideas and ideas you follow"),
    Category.FEEDBACK: lazy_gettext("Feedback on your reflections"),
    Category.TRAINING: lazy_gettext("Training assigned, due and overdue"),
    Category.DIGESTS: lazy_gettext("Round-ups for managers and trainers"),
}
CATEGORY_IN_SENTENCE: dict[Category, LazyString] = {
    Category.IDEAS: lazy_pgettext(
        "notification category, in a sentence", "news about your ideas and ideas you follow"
    ),
    Category.FEEDBACK: lazy_pgettext(
        "notification category, in a sentence", "feedback on your reflections"
    ),
    Category.TRAINING: lazy_pgettext(
        "notification category, in a sentence", "training assigned, due and overdue"
    ),
    Category.DIGESTS: lazy_pgettext(
        "notification category, in a sentence", "round-ups for managers and trainers"
    ),
}
DELIVERY_LABELS: dict[Delivery, LazyString] = {
    Delivery.IMMEDIATELY: lazy_gettext("E-mail right away"),
    Delivery.DAILY: lazy_gettext("In a daily e-mail"),
    Delivery.OFF: lazy_gettext("In the app only"),
}


class Target(enum.StrEnum):
    """What a notification leads to. The address is built from this when the notification is
    shown or sent, never stored, so a route that moves leaves no dead links in old rows
    (docs/product.md, "Notifications")."""

    IDEA = "idea"  # an idea's history (target_id: the idea)
    COMMENT = "comment"  # a comment, on its idea's page (target_id: the comment)
    ENROLMENT = "enrolment"  # a person's training (target_id: the enrolment)
    REVIEW_QUEUE = "review_queue"  # managers' queue of ideas waiting for review
    REFLECTIONS = "reflections"  # trainers' reflections to read
    NOTIFICATIONS = "notifications"  # the notifications page: for links nothing else fits

    @property
    def has_id(self) -> bool:
        """Whether `target_id` names a row (an idea, a comment, an enrolment)."""
        return self in TARGETS_WITH_ID


TARGETS_WITH_ID = frozenset({Target.IDEA, Target.COMMENT, Target.ENROLMENT})


class Notification(Model):
    __tablename__ = "notifications"
    __table_args__ = (
        # One notification per person per event: a second run of any job adds nothing.
        sa.UniqueConstraint("user_id", "key", name="uq_notifications_once"),
        sa.Index("ix_notifications_user_unread", "user_id", "read_at", "created_at"),
        # A target that is a row names it; a page (the review queue) names nothing.
        sa.CheckConstraint(
            sa.or_(
                sa.and_(
                    sa.column("target").in_([t.value for t in TARGETS_WITH_ID]),
                    sa.column("target_id").is_not(None),
                ),
                sa.and_(
                    sa.column("target").not_in([t.value for t in TARGETS_WITH_ID]),
                    sa.column("target_id").is_(None),
                ),
            ),
            name="target_id_when_a_row",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    category: Mapped[Category] = mapped_column(enum_column_type(Category, "category"))
    key: Mapped[str] = mapped_column(sa.String(KEY_MAX))
    title: Mapped[str] = mapped_column(sa.String(300))
    body: Mapped[str] = mapped_column(sa.Text, default="")
    # What it leads to. The id can name a row in one of three tables, so no foreign key
    # holds it: a notification whose row has gone leads to the notifications page instead.
    target: Mapped[Target] = mapped_column(enum_column_type(Target, "notification_target"))
    target_id: Mapped[int | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Preference(Model):
    """How a person wants to hear about one category. No row: e-mail right away."""

    __tablename__ = "notification_preferences"

    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    category: Mapped[Category] = mapped_column(
        enum_column_type(Category, "category"), primary_key=True
    )
    delivery: Mapped[Delivery] = mapped_column(enum_column_type(Delivery, "delivery"))


class Email(Model):
    """The send log and queue: one row per person per event (or digest period), ever.

    The unique key makes a second run of a job — or two at once — queue nothing new; a row
    is claimed before sending so two senders never send it twice; a failure is kept and the
    next run retries it.
    """

    __tablename__ = "emails"
    __table_args__ = (
        sa.UniqueConstraint("user_id", "key", name="uq_emails_once"),
        sa.Index("ix_emails_pending", "sent_at", "attempts"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(sa.String(KEY_MAX))
    category: Mapped[Category] = mapped_column(enum_column_type(Category, "category"))
    to_address: Mapped[str] = mapped_column(sa.String(254))
    subject: Mapped[str] = mapped_column(sa.String(300))
    text_body: Mapped[str] = mapped_column(sa.Text)
    html_body: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(sa.String(500))


class CalendarFeed(Model):
    """The secret in a person's calendar link; a new one retires the old link."""

    __tablename__ = "calendar_feeds"

    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    secret: Mapped[str] = mapped_column(sa.String(64), default=lambda: secrets.token_hex(16))
