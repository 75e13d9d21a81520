"""Service ideas, their votes and comments, and the history of every status change."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Protocol

import sqlalchemy as sa
from flask import current_app
from flask_babel import LazyString, gettext, lazy_gettext, lazy_pgettext
from sqlalchemy.orm import Mapped, mapped_column, relationship

from serviceideas.database import UTCDateTime, enum_column_type, utcnow
from serviceideas.extensions import db
from serviceideas.submissions import TOKEN_MAX

if TYPE_CHECKING:
    from serviceideas.extensions import Base as Model  # what db.Model is, to the type checker
    from serviceideas.people.models import Department, User
else:
    Model = db.Model  # Flask-SQLAlchemy makes it at run time, out of mypy's sight

TITLE_MAX = 120
TEXT_MAX = 5000
NOTE_MAX = 2000
COMMENT_MAX = 2000
NEXT_STEP_MAX = 300
STAGE_NAME_MAX = 60
STAGE_EXPLANATION_MAX = 300


class Lens(enum.StrEnum):
    """How an idea serves: one of four lenses (docs/product.md, "The pipeline")."""

    LEARN = "learn"
    CARE = "care"
    TEACH = "teach"
    REMOVE_GO_AWAY = "remove_go_away"

    @property
    def label(self) -> str:
        return str(LENS_TEXT[self][0])

    @property
    def explanation(self) -> str:
        return str(LENS_TEXT[self][1])


LENS_TEXT: dict[Lens, tuple[LazyString, LazyString]] = {
    Lens.LEARN: (
        lazy_pgettext("lens", "Learn"),
        lazy_gettext("We learn from the customer and make things better."),
    ),
    Lens.CARE: (
        lazy_pgettext("lens", "Care"),
        lazy_gettext("We bring empathy and care to a hard moment."),
    ),
    Lens.TEACH: (
        lazy_pgettext("lens", "Teach"),
        lazy_gettext("We teach the customer to solve it themselves."),
    ),
    Lens.REMOVE_GO_AWAY: (
        lazy_gettext("Remove a “go away”"),
        lazy_gettext(
            "We remove a place where we push customers away: hold queues, mazes, "
            "“not my department”."
        ),
    ),
}


class Compass(enum.StrEnum):
    """What a change does for the guest: Disney's Guestology compass (docs/product.md,
    "Journey stages and the compass"). Optional on an idea, beside its lens."""

    NEED = "need"
    WANT = "want"
    EMOTION = "emotion"
    STEREOTYPE = "stereotype"

    @property
    def label(self) -> str:
        return str(COMPASS_TEXT[self][0])

    @property
    def explanation(self) -> str:
        return str(COMPASS_TEXT[self][1])

    @property
    def in_sentence(self) -> str:
        """The label as written inside a sentence ("Compass: a need"): lower case in
        English, each language's own case in others (never `label|lower`)."""
        return str(COMPASS_IN_SENTENCE[self])


COMPASS_TEXT: dict[Compass, tuple[LazyString, LazyString]] = {
    Compass.NEED: (
        lazy_gettext("A need"),
        lazy_gettext("It meets something the customer must have done."),
    ),
    Compass.WANT: (
        lazy_gettext("A want"),
        lazy_gettext("It serves something the customer would like, beyond the need."),
    ),
    Compass.EMOTION: (
        lazy_gettext("An emotion"),
        lazy_gettext("It leaves the customer feeling good about us."),
    ),
    Compass.STEREOTYPE: (
        lazy_gettext("A stereotype"),
        lazy_gettext("It strengthens a good picture people have of us, or breaks a bad one."),
    ),
}
COMPASS_IN_SENTENCE: dict[Compass, LazyString] = {
    Compass.NEED: lazy_pgettext("compass point, in a sentence", "a need"),
    Compass.WANT: lazy_pgettext("compass point, in a sentence", "a want"),
    Compass.EMOTION: lazy_pgettext("compass point, in a sentence", "an emotion"),
    Compass.STEREOTYPE: lazy_pgettext("compass point, in a sentence", "a stereotype"),
}


class JourneyStage(Model):
    """A moment of the customer's journey that an idea may improve (docs/product.md,
    "Journey stages and the compass"): kept by admins, in order. A stage in use is retired,
    never deleted: the ideas' foreign key refuses the delete."""

    __tablename__ = "journey_stages"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(STAGE_NAME_MAX), unique=True)
    explanation: Mapped[str] = mapped_column(sa.String(STAGE_EXPLANATION_MAX), default="")
    position: Mapped[int] = mapped_column(default=0)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    @property
    def is_retired(self) -> bool:
        return self.retired_at is not None

    def __repr__(self) -> str:
        return f"<JourneyStage {self.id} {self.name!r}>"


class Status(enum.StrEnum):
    SUBMITTED = "submitted"
    UNDER_REVIEW = "under_review"
    APPROVED = "approved"
    IN_PROGRESS = "in_progress"
    IMPLEMENTED = "implemented"
    DECLINED = "declined"
    MERGED = "merged"

    @property
    def label(self) -> str:
        return str(STATUS_LABELS[self])

    @property
    def in_sentence(self) -> str:
        """The label as written inside a sentence ("moved it from submitted to under
        review"): lower case in English, each language's own case in others (never
        `label|lower`, which would write German nouns in lower case)."""
        return str(STATUS_IN_SENTENCE[self])

    @property
    def is_open(self) -> bool:
        """Still on its way to practice: waiting for a decision or for the work."""
        return self in OPEN_STATUSES

    @property
    def accepts_votes(self) -> bool:
        return self in VOTABLE_STATUSES


STATUS_LABELS: dict[Status, LazyString] = {
    Status.SUBMITTED: lazy_pgettext("status", "Submitted"),
    Status.UNDER_REVIEW: lazy_pgettext("status", "Under review"),
    Status.APPROVED: lazy_pgettext("status", "Approved"),
    Status.IN_PROGRESS: lazy_pgettext("status", "In progress"),
    Status.IMPLEMENTED: lazy_pgettext("status", "Implemented"),
    Status.DECLINED: lazy_pgettext("status", "Declined"),
    Status.MERGED: lazy_pgettext("status", "Merged"),
}
STATUS_IN_SENTENCE: dict[Status, LazyString] = {
    Status.SUBMITTED: lazy_pgettext("status, in a sentence", "submitted"),
    Status.UNDER_REVIEW: lazy_pgettext("status, in a sentence", "under review"),
    Status.APPROVED: lazy_pgettext("status, in a sentence", "approved"),
    Status.IN_PROGRESS: lazy_pgettext("status, in a sentence", "in progress"),
    Status.IMPLEMENTED: lazy_pgettext("status, in a sentence", "implemented"),
    Status.DECLINED: lazy_pgettext("status, in a sentence", "declined"),
    Status.MERGED: lazy_pgettext("status, in a sentence", "merged"),
}

OPEN_STATUSES = frozenset(
    {Status.SUBMITTED, Status.UNDER_REVIEW, Status.APPROVED, Status.IN_PROGRESS}
)
VOTABLE_STATUSES = OPEN_STATUSES

# These transitions and no others (docs/product.md, "The pipeline"). There is deliberately no
# pilot stage, and an idea someone already put into practice is recorded as implemented
# straight away (the fast track) rather than clicked through stages that did not happen.
FAST_TRACK_FROM = frozenset({Status.SUBMITTED, Status.UNDER_REVIEW, Status.APPROVED})
TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.SUBMITTED: frozenset(
        {Status.UNDER_REVIEW, Status.IMPLEMENTED, Status.DECLINED, Status.MERGED}
    ),
    Status.UNDER_REVIEW: frozenset(
        {Status.APPROVED, Status.IMPLEMENTED, Status.DECLINED, Status.MERGED}
    ),
    Status.APPROVED: frozenset(
        {Status.IN_PROGRESS, Status.IMPLEMENTED, Status.DECLINED, Status.MERGED}
    ),
    Status.IN_PROGRESS: frozenset({Status.IMPLEMENTED, Status.DECLINED}),
    Status.DECLINED: frozenset({Status.UNDER_REVIEW}),
    Status.IMPLEMENTED: frozenset(),
    Status.MERGED: frozenset(),
}


def _legal_transitions_sql() -> str:
    """The CHECK that keeps illegal steps out of the history table, whatever the code does."""
    pairs = [(None, Status.SUBMITTED)] + [
        (source, target) for source, targets in TRANSITIONS.items() for target in sorted(targets)
    ]
    return " OR ".join(
        f"(from_status IS NULL AND to_status = '{target}')"
        if source is None
        else f"(from_status = '{source}' AND to_status = '{target}')"
        for source, target in pairs
    )


class Idea(Model):
    __tablename__ = "ideas"
    __table_args__ = (
        sa.CheckConstraint("vote_count >= 0", name="vote_count_not_negative"),
        sa.CheckConstraint(
            "(status = 'implemented') = (implemented_on IS NOT NULL "
            "AND implementation_note IS NOT NULL)",
            name="implemented_has_evidence",
        ),
        sa.CheckConstraint(
            "(status = 'merged') = (merged_into_id IS NOT NULL)", name="merged_has_target"
        ),
        sa.CheckConstraint("merged_into_id <> id", name="not_merged_into_itself"),
        sa.Index("ix_ideas_status_changed", "status", "status_changed_at"),
        sa.Index("ix_ideas_created", "created_at", "id"),
        sa.Index("ix_ideas_votes", "vote_count", "id"),
        # One idea per submitted form, however often it is sent: a double click, a resent
        # request on a slow connection or a second tab all carry the same token.
        sa.UniqueConstraint("author_id", "submission_token", name="uq_ideas_submission"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(sa.String(TITLE_MAX))
    problem: Mapped[str] = mapped_column(sa.Text)
    proposal: Mapped[str] = mapped_column(sa.Text)
    lens: Mapped[Lens] = mapped_column(enum_column_type(Lens, "lens"), index=True)
    # None: external customers benefit. Otherwise the internal team that does.
    beneficiary_department_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("departments.id", ondelete="RESTRICT"), index=True
    )
    author_id: Mapped[int] = mapped_column(
        sa.ForeignKey("users.id", ondelete="RESTRICT"), index=True
    )
    # Where the author worked when submitting: reports credit that team even if they move.
    author_department_id: Mapped[int] = mapped_column(
        sa.ForeignKey("departments.id", ondelete="RESTRICT"), index=True
    )
    status: Mapped[Status] = mapped_column(
        enum_column_type(Status, "status"), default=Status.SUBMITTED
    )
    owner_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="RESTRICT"), index=True
    )
    # What the owner does next, and by when (docs/product.md, "The pipeline"): set by the
    # owner or a manager while the idea is open.
    next_step: Mapped[str | None] = mapped_column(sa.String(NEXT_STEP_MAX))
    target_date: Mapped[date | None] = mapped_column(sa.Date)
    implemented_on: Mapped[date | None] = mapped_column(sa.Date, index=True)
    implementation_note: Mapped[str | None] = mapped_column(sa.Text)
    merged_into_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("ideas.id", ondelete="RESTRICT"), index=True
    )
    # The moment of the customer's journey it improves, and what it does for the guest: both
    # optional (docs/product.md, "Journey stages and the compass").
    journey_stage_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("journey_stages.id", ondelete="RESTRICT"), index=True
    )
    compass: Mapped[Compass | None] = mapped_column(enum_column_type(Compass, "compass"))
    # Submitted without showing the author's name to colleagues: only managers, admins and
    # the author see it (docs/product.md, "Speaking up safely").
    name_hidden: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    # Kept equal to the rows in `votes` by the vote service, in the same transaction.
    vote_count: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    status_changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # The token of the form it was submitted with (None: submitted some other way).
    submission_token: Mapped[str | None] = mapped_column(sa.String(TOKEN_MAX))
    # Optimistic locking: two managers changing the same idea at once cannot both win.
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}

    # Eager: every page that shows an idea shows these names.
    author: Mapped[User] = relationship(foreign_keys=[author_id], lazy="joined", innerjoin=True)
    author_department: Mapped[Department] = relationship(
        foreign_keys=[author_department_id], lazy="joined", innerjoin=True
    )
    beneficiary_department: Mapped[Department | None] = relationship(
        foreign_keys=[beneficiary_department_id], lazy="joined"
    )
    # Not joined: an outer join to a person (and their department) makes SQLite materialise
    # every user for each list query. Only the idea page shows the owner: one query there.
    owner: Mapped[User | None] = relationship(foreign_keys=[owner_id], lazy="select")
    merged_into: Mapped[Idea | None] = relationship(remote_side=[id], lazy="select")
    journey_stage: Mapped[JourneyStage | None] = relationship(lazy="select")

    @property
    def beneficiary_label(self) -> str:
        if self.beneficiary_department is None:
            return gettext("External customers")
        return self.beneficiary_department.name

    @property
    def for_whom(self) -> str:
        department = self.beneficiary_department
        return for_whom(None if department is None else department.name)

    def __repr__(self) -> str:
        return f"<Idea {self.id} {self.status.value}>"


class Vote(Model):
    __tablename__ = "votes"
    # Participation in a period reads votes by time.
    __table_args__ = (sa.Index("ix_votes_created", "created_at"),)

    # The primary key is the rule: one vote per person per idea, even when requests race.
    idea_id: Mapped[int] = mapped_column(
        sa.ForeignKey("ideas.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("users.id", ondelete="RESTRICT"), primary_key=True, index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Follower(Model):
    """Someone who hears what becomes of an idea (docs/product.md, "Following an idea").

    The author, voters and commenters follow automatically (`automatic`); anyone may follow
    or unfollow. An unfollow keeps the row, with `unfollowed_at`, so that voting or commenting
    again does not make them follow once more: an explicit choice sticks.
    """

    __tablename__ = "idea_followers"

    # The primary key is the rule: one row per person per idea, even when requests race.
    idea_id: Mapped[int] = mapped_column(
        sa.ForeignKey("ideas.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    followed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    automatic: Mapped[bool] = mapped_column(default=True)
    unfollowed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Duplicate(Model):
    """An idea likely the same as an older one, found when it was written (docs/product.md,
    "Similar ideas and duplicates"). Stored once, newer idea to older; the review queue shows
    it on both. `score`: the lower of the shares of each idea's distinctive words the other has.
    """

    __tablename__ = "idea_duplicates"

    idea_id: Mapped[int] = mapped_column(
        sa.ForeignKey("ideas.id", ondelete="CASCADE"), primary_key=True
    )
    duplicate_id: Mapped[int] = mapped_column(
        sa.ForeignKey("ideas.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    score: Mapped[float] = mapped_column(sa.Float())


class RemovalColumns(Protocol):
    """What Removable reads from the class it is mixed into."""

    @property
    def author_id(self) -> int: ...

    @property
    def removed_at(self) -> datetime | None: ...

    @property
    def removed_by_id(self) -> int | None: ...


class Removable:
    """What a comment's removal columns say: for the model, and for the idea page's plain
    rows of comments (queries.CommentItem). Needs author_id, removed_at and removed_by_id."""

    __slots__ = ()

    @property
    def is_removed(self: RemovalColumns) -> bool:
        return self.removed_at is not None

    @property
    def removed_by_author(self: RemovalColumns) -> bool:
        return self.removed_by_id == self.author_id


class Comment(Removable, Model):
    __tablename__ = "comments"
    __table_args__ = (
        sa.Index("ix_comments_idea_created", "idea_id", "created_at"),
        sa.Index("ix_comments_created", "created_at"),  # participation in a period
        # One comment per sent form, as for ideas (see Idea).
        sa.UniqueConstraint("author_id", "submission_token", name="uq_comments_submission"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    idea_id: Mapped[int] = mapped_column(sa.ForeignKey("ideas.id", ondelete="CASCADE"))
    author_id: Mapped[int] = mapped_column(
        sa.ForeignKey("users.id", ondelete="RESTRICT"), index=True
    )
    body: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Soft delete: the text stays in the database, the page says who removed it.
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    removed_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="RESTRICT")
    )
    # The token of the form it was posted with (None: posted some other way).
    submission_token: Mapped[str | None] = mapped_column(sa.String(TOKEN_MAX))

    # Eager: a comment is always shown with its author's name.
    author: Mapped[User] = relationship(foreign_keys=[author_id], lazy="joined", innerjoin=True)


class StatusChange(Model):
    """One step of an idea's history: who moved it, when, from where to where, and why."""

    __tablename__ = "status_changes"
    __table_args__ = (
        sa.CheckConstraint(_legal_transitions_sql(), name="legal_transition"),
        sa.Index("ix_status_changes_idea_at", "idea_id", "changed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    idea_id: Mapped[int] = mapped_column(sa.ForeignKey("ideas.id", ondelete="CASCADE"))
    actor_id: Mapped[int] = mapped_column(
        sa.ForeignKey("users.id", ondelete="RESTRICT"), index=True
    )
    from_status: Mapped[Status | None] = mapped_column(enum_column_type(Status, "from_status"))
    to_status: Mapped[Status] = mapped_column(enum_column_type(Status, "to_status"))
    note: Mapped[str] = mapped_column(sa.Text, default="")
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    # Eager: the history always shows who acted.
    actor: Mapped[User] = relationship(lazy="joined", innerjoin=True)

    @property
    def is_fast_track(self) -> bool:
        """Put into practice directly, without the stages between (docs/product.md,
        "The pipeline")."""
        return self.to_status is Status.IMPLEMENTED and self.from_status in FAST_TRACK_FROM


class ProgressNote(Model):
    """What the owner (or a manager) says about the work on an idea: shown in its history."""

    __tablename__ = "progress_notes"
    __table_args__ = (sa.Index("ix_progress_notes_idea_at", "idea_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    idea_id: Mapped[int] = mapped_column(sa.ForeignKey("ideas.id", ondelete="CASCADE"))
    author_id: Mapped[int] = mapped_column(
        sa.ForeignKey("users.id", ondelete="RESTRICT"), index=True
    )
    body: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    # Eager: the history always shows who wrote it.
    author: Mapped[User] = relationship(lazy="joined", innerjoin=True)


# Momentum: the one definition of *stalled* (docs/product.md, "Stalled ideas").


class Waiting(Protocol):
    """An idea, or a list's card of one: enough to tell whether it has stalled."""

    @property
    def status(self) -> Status: ...

    @property
    def status_changed_at(self) -> datetime: ...


@dataclass(frozen=True, slots=True)
class Stalled:
    """An open idea whose status has not changed for `days` days, as of `now`, is stalled.

    The review queue, the idea cards, the dashboard's funnel and the managers' weekly digest
    all ask this one rule: in Python (`rule(idea)`) or in SQL (`rule.clause()`).
    """

    now: datetime
    days: int

    @classmethod
    def as_configured(cls, now: datetime) -> Stalled:
        """The rule with the company's setting (`SERVICEIDEAS_STALLED_AFTER_DAYS`)."""
        return cls(now, current_app.config["STALLED_AFTER_DAYS"])

    @property
    def since(self) -> datetime:
        """Open ideas whose status has not changed since this moment are stalled."""
        return self.now - timedelta(days=self.days)

    def __call__(self, idea: Waiting) -> bool:
        return idea.status.is_open and idea.status_changed_at < self.since

    def clause(self) -> sa.ColumnElement[bool]:
        return sa.and_(Idea.status.in_(OPEN_STATUSES), Idea.status_changed_at < self.since)


class Targeted(Protocol):
    """An idea, or a list's row of one: enough to tell whether its target date has passed."""

    @property
    def status(self) -> Status: ...

    @property
    def target_date(self) -> date | None: ...


def for_whom(team: str | None) -> str:
    """Whom an idea is for, as a phrase: "for Stores", or "for external customers" (None).
    Two sentences, not the list's label put into one: German writes the label "Externe
    Kundschaft" with a capital, and "für externe Kundschaft" without."""
    if team is None:
        return gettext("for external customers")
    return gettext("for %(beneficiary)s", beneficiary=team)


def is_past_target(idea: Targeted, today: date) -> bool:
    """An open idea whose target date is before `today` is late (docs/product.md,
    "Stalled ideas"); `past_target_clause` is the same in SQL."""
    return idea.status.is_open and idea.target_date is not None and idea.target_date < today


def past_target_clause(today: date) -> sa.ColumnElement[bool]:
    return sa.and_(Idea.status.in_(OPEN_STATUSES), Idea.target_date < today)
