"""Training modules, who they are assigned to, each person's enrolment, and reflections."""

from __future__ import annotations

import enum
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Protocol

import sqlalchemy as sa
from flask_babel import gettext, lazy_gettext, ngettext
from sqlalchemy.orm import Mapped, mapped_column, relationship

from serviceideas.database import UTCDateTime, enum_column_type, utcnow
from serviceideas.extensions import db
from serviceideas.i18n import MONTH, format_date
from serviceideas.submissions import TOKEN_MAX

if TYPE_CHECKING:
    from serviceideas.extensions import Base as Model  # what db.Model is, to the type checker
    from serviceideas.people.models import Department, User
else:
    Model = db.Model  # Flask-SQLAlchemy makes it at run time, out of mypy's sight

# A quarter and its year, as CLDR writes it: "Q4 2026", "Q4 2026", "T4 2026".
QUARTER = "yQQQ"

TITLE_MAX = 120
SUMMARY_MAX = 300
BODY_MAX = 20_000
PROMPT_MAX = 1000
ANSWER_MIN = 50
ANSWER_MAX = 10_000
FEEDBACK_MAX = 4000


class ModuleKind(enum.StrEnum):
    READING = "reading"  # read it, and say so
    REFLECTION = "reflection"  # answer the prompt in writing
    ACTIVITY = "activity"  # do something in the real world, then write what you learnt

    @property
    def label(self) -> str:
        return str(KIND_LABELS[self.value])  # by value: str keys, no enum hashing

    @property
    def needs_answer(self) -> bool:
        return self is not ModuleKind.READING


KIND_LABELS = {
    "reading": lazy_gettext("Reading"),
    "reflection": lazy_gettext("Reflection"),
    "activity": lazy_gettext("Activity"),
}


class ModuleStatus(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    ARCHIVED = "archived"

    @property
    def label(self) -> str:
        return str(STATUS_LABELS[self.value])


STATUS_LABELS = {
    # Translators: a training module's status.
    "draft": lazy_gettext("Draft"),
    # Translators: a training module's status.
    "published": lazy_gettext("Published"),
    # Translators: a training module's status.
    "archived": lazy_gettext("Archived"),
}


class Audience(enum.StrEnum):
    EVERYONE = "everyone"
    DEPARTMENTS = "departments"
    PEOPLE = "people"
    # Every department of that kind (people.models.DepartmentKind), including departments
    # created later: who is in it is read when enrolling, never stored.
    BACK_OFFICE = "back_office"
    FRONT_LINE = "front_line"

    @property
    def label(self) -> str:
        return str(AUDIENCE_LABELS[self.value])


AUDIENCE_LABELS = {
    "everyone": lazy_gettext("Everyone"),
    "departments": lazy_gettext("Departments"),
    "people": lazy_gettext("People"),
    "back_office": lazy_gettext("All back-office teams"),
    "front_line": lazy_gettext("All front-line teams"),
}


class Repeat(enum.StrEnum):
    NONE = "none"
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"

    @property
    def label(self) -> str:
        return str(REPEAT_LABELS[self.value])


REPEAT_LABELS = {
    "none": lazy_gettext("Once"),
    "monthly": lazy_gettext("Every month"),
    "quarterly": lazy_gettext("Every quarter"),
}


class Module(Model):
    __tablename__ = "modules"
    __table_args__ = (
        sa.CheckConstraint("minutes BETWEEN 1 AND 600", name="minutes_sensible"),
        sa.CheckConstraint("kind = 'reading' OR prompt IS NOT NULL", name="answer_has_prompt"),
        sa.CheckConstraint("version >= 1", name="version_positive"),
        # One "Save" of the new-module form makes one module, however often it is sent.
        sa.UniqueConstraint("author_id", "submission_token", name="uq_modules_submission"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(sa.String(TITLE_MAX))
    summary: Mapped[str] = mapped_column(sa.String(SUMMARY_MAX))
    body: Mapped[str] = mapped_column(sa.Text)  # Markdown, rendered and sanitised on display
    kind: Mapped[ModuleKind] = mapped_column(enum_column_type(ModuleKind, "kind"))
    prompt: Mapped[str | None] = mapped_column(sa.Text)
    minutes: Mapped[int]
    status: Mapped[ModuleStatus] = mapped_column(
        enum_column_type(ModuleStatus, "status"), default=ModuleStatus.DRAFT, index=True
    )
    # Raised when the body or prompt of a published module changes; completions keep theirs.
    version: Mapped[int] = mapped_column(default=1)
    # Raised by every saved change (SQLAlchemy's version counter: an UPDATE names the revision
    # it read). An edit form carries the revision it was opened at, so one trainer never
    # overwrites a colleague's change unseen.
    revision: Mapped[int] = mapped_column(server_default="1")
    author_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="RESTRICT"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The token of the form that created it (serviceideas/submissions.py), or None.
    submission_token: Mapped[str | None] = mapped_column(sa.String(TOKEN_MAX))
    # The language the module is written in (one of the LANGUAGES setting), or None when its
    # trainer has not said: My training lists a person's own language first.
    language: Mapped[str | None] = mapped_column(sa.String(16))

    # Eager: the module list and pages show who wrote it.
    author: Mapped[User] = relationship(lazy="joined", innerjoin=True)

    __mapper_args__ = {"version_id_col": revision}


class ModuleVersion(Model):
    """The text and prompt of a module's earlier version, kept when an edit raised its
    version, so a learner who answered it can see what changed since."""

    __tablename__ = "module_versions"

    module_id: Mapped[int] = mapped_column(
        sa.ForeignKey("modules.id", ondelete="CASCADE"), primary_key=True
    )
    version: Mapped[int] = mapped_column(primary_key=True)
    body: Mapped[str] = mapped_column(sa.Text)
    prompt: Mapped[str | None] = mapped_column(sa.Text)
    replaced_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


assignment_departments = sa.Table(
    "assignment_departments",
    db.metadata,
    sa.Column(
        "assignment_id", sa.ForeignKey("assignments.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column(
        "department_id",
        sa.ForeignKey("departments.id", ondelete="RESTRICT"),
        primary_key=True,
        index=True,
    ),
)

assignment_people = sa.Table(
    "assignment_people",
    db.metadata,
    sa.Column(
        "assignment_id", sa.ForeignKey("assignments.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column(
        "user_id", sa.ForeignKey("users.id", ondelete="RESTRICT"), primary_key=True, index=True
    ),
)


class Assignment(Model):
    """A published module given to an audience, due on a date or N days after enrolment."""

    __tablename__ = "assignments"
    __table_args__ = (
        sa.CheckConstraint(
            "(due_on IS NULL) <> (due_days IS NULL)", name="fixed_or_relative_due_date"
        ),
        sa.CheckConstraint(
            "due_days IS NULL OR due_days BETWEEN 1 AND 365", name="due_days_sensible"
        ),
        sa.CheckConstraint("repeat = 'none' OR due_days IS NOT NULL", name="repeats_are_relative"),
        # One "Assign" makes one assignment (and one round of enrolments and notices), however
        # often the form is sent.
        sa.UniqueConstraint("assigned_by_id", "submission_token", name="uq_assignments_submission"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    module_id: Mapped[int] = mapped_column(
        sa.ForeignKey("modules.id", ondelete="RESTRICT"), index=True
    )
    audience: Mapped[Audience] = mapped_column(enum_column_type(Audience, "audience"))
    due_on: Mapped[date | None] = mapped_column(sa.Date)
    due_days: Mapped[int | None]
    repeat: Mapped[Repeat] = mapped_column(enum_column_type(Repeat, "repeat"), default=Repeat.NONE)
    starts_on: Mapped[date] = mapped_column(sa.Date)
    assigned_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="RESTRICT"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    # The token of the form that created it (serviceideas/submissions.py), or None.
    submission_token: Mapped[str | None] = mapped_column(sa.String(TOKEN_MAX))

    # Eager: an assignment is shown with its module's title.
    module: Mapped[Module] = relationship(lazy="joined", innerjoin=True)
    # Loaded on request (selectinload) by the assignments page only: a learner's list would
    # otherwise fetch every targeted department and person of every assignment it shows.
    departments: Mapped[list[Department]] = relationship(
        secondary=assignment_departments, order_by="Department.name"
    )
    people: Mapped[list[User]] = relationship(secondary=assignment_people)

    @property
    def is_active(self) -> bool:
        return self.withdrawn_at is None

    @property
    def due_label(self) -> str:
        """ "due 3 Nov 2026", or "due 14 days after enrolment", in the reader's language."""
        if self.due_on is not None:
            return gettext("due %(date)s", date=format_date(self.due_on))
        return ngettext(
            "due %(num)d day after enrolment",
            "due %(num)d days after enrolment",
            self.due_days or 0,
        )


def period_label(repeat: Repeat, period_start: date) -> str | None:
    """ "October 2026" or "Q4 2026" (in the reader's language) for a repeating assignment; None
    for a one-off."""
    if repeat is Repeat.MONTHLY:
        return format_date(period_start, MONTH)
    if repeat is Repeat.QUARTERLY:
        return format_date(period_start, QUARTER)
    return None


class Enrolment(Model):
    """One person's part of an assignment, for one period (a repeat makes one per period)."""

    __tablename__ = "enrolments"
    __table_args__ = (
        # The rule that enrolment can run twice at once and still enrol a person once.
        sa.UniqueConstraint("assignment_id", "user_id", "period_start", name="uq_enrolments_once"),
        sa.Index("ix_enrolments_user_due", "user_id", "due_on"),
        sa.Index("ix_enrolments_due_completed", "due_on", "completed_at"),
        sa.CheckConstraint(
            "(completed_at IS NULL) = (completed_version IS NULL)", name="completion_has_version"
        ),
        sa.CheckConstraint(
            "withdrawn_at IS NULL OR completed_at IS NULL", name="only_unfinished_withdrawn"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(sa.ForeignKey("assignments.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="RESTRICT"))
    period_start: Mapped[date] = mapped_column(sa.Date)
    enrolled_on: Mapped[date] = mapped_column(sa.Date)
    due_on: Mapped[date] = mapped_column(sa.Date)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    completed_version: Mapped[int | None]
    # Withdrawn for this person alone: they moved to a department the assignment does not
    # cover (services.withdraw_uncovered). Only unfinished enrolments are; the row stays,
    # with any draft, and comes back if they move back (docs/product.md, "Assignments").
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    # Eager: an enrolment is always shown with its assignment and module.
    assignment: Mapped[Assignment] = relationship(lazy="joined", innerjoin=True)
    user: Mapped[User] = relationship(lazy="joined", innerjoin=True)

    @property
    def is_done(self) -> bool:
        return self.completed_at is not None

    @property
    def is_withdrawn(self) -> bool:
        """Not theirs to do any more: the assignment was withdrawn, or withdrawn for them."""
        return self.withdrawn_at is not None or self.assignment.withdrawn_at is not None

    @property
    def period_label(self) -> str | None:
        return period_label(self.assignment.repeat, self.period_start)

    @property
    def was_late(self) -> bool:
        return was_late(self)

    def is_overdue(self, today: date) -> bool:
        return is_overdue(self, today)


class Reflection(Model):
    """What a person wrote to complete a reflection or activity. Private: its author and
    trainers read it; nobody else, not even managers or admins (docs/product.md, "Privacy of
    reflections")."""

    __tablename__ = "reflections"
    __table_args__ = (sa.Index("ix_reflections_written", "written_at"),)

    enrolment_id: Mapped[int] = mapped_column(
        sa.ForeignKey("enrolments.id", ondelete="CASCADE"), primary_key=True
    )
    text: Mapped[str] = mapped_column(sa.Text)
    written_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    feedback: Mapped[str | None] = mapped_column(sa.Text)
    feedback_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="RESTRICT")
    )
    feedback_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    enrolment: Mapped[Enrolment] = relationship(lazy="joined", innerjoin=True)
    feedback_by: Mapped[User | None] = relationship(lazy="joined")


class AnswerDraft(Model):
    """A written answer not submitted yet: saved by its author, or kept for them when the
    assignment was withdrawn while they wrote. Only its author reads it (docs/product.md,
    "Privacy of reflections")."""

    __tablename__ = "answer_drafts"

    enrolment_id: Mapped[int] = mapped_column(
        sa.ForeignKey("enrolments.id", ondelete="CASCADE"), primary_key=True
    )
    text: Mapped[str] = mapped_column(sa.Text)
    # The module version the learner was answering when they wrote it.
    module_version: Mapped[int]
    saved_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ModuleIdea(Model):
    """An idea someone started from what they learnt in a module."""

    __tablename__ = "module_ideas"

    module_id: Mapped[int] = mapped_column(
        sa.ForeignKey("modules.id", ondelete="CASCADE"), primary_key=True
    )
    idea_id: Mapped[int] = mapped_column(
        sa.ForeignKey("ideas.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="RESTRICT"))


# Deadlines: the one definition of *due so far*, *overdue*, *due soon* and *late* for an
# enrolment (docs/product.md, "Training deadlines"). Each is a Python function, for an
# Enrolment or a list's item of one, and, where queries need it, the same rule in SQL.
# Due dates are advisory: late work is still done, and counts.

DUE_SOON_DAYS = 7


class HasDueDate(Protocol):
    @property
    def due_on(self) -> date: ...

    @property
    def completed_at(self) -> datetime | None: ...


def is_due(enrolment: HasDueDate, today: date) -> bool:
    """*Due so far*: the due date has passed (it is before today), done or not."""
    return enrolment.due_on < today


def is_overdue(enrolment: HasDueDate, today: date) -> bool:
    """*Overdue*: due so far and not done."""
    return enrolment.completed_at is None and is_due(enrolment, today)


def is_due_soon(enrolment: HasDueDate, today: date) -> bool:
    """*Due soon*: not done, and due today or within the next `DUE_SOON_DAYS` days."""
    return enrolment.completed_at is None and today <= enrolment.due_on <= due_soon_until(today)


def was_late(enrolment: HasDueDate) -> bool:
    """*Late*: done after the day it was due."""
    return enrolment.completed_at is not None and enrolment.completed_at.date() > enrolment.due_on


def is_late(enrolment: HasDueDate, today: date) -> bool:
    """Late by today: done late, or not done and overdue (the coverage CSV's "late")."""
    return was_late(enrolment) or is_overdue(enrolment, today)


def due_soon_until(today: date) -> date:
    return today + timedelta(days=DUE_SOON_DAYS)


def still_assigned_sql() -> sa.ColumnElement[bool]:
    """The enrolment stands: neither its assignment was withdrawn nor it, for its person (a
    query using it joins Assignment). Withdrawn training leaves lists, coverage and reminders."""
    return sa.and_(Assignment.withdrawn_at.is_(None), Enrolment.withdrawn_at.is_(None))


def due_so_far_sql(today: date) -> sa.ColumnElement[bool]:
    return Enrolment.due_on < today


def overdue_sql(today: date) -> sa.ColumnElement[bool]:
    return sa.and_(Enrolment.completed_at.is_(None), due_so_far_sql(today))


def due_soon_sql(today: date) -> sa.ColumnElement[bool]:
    return sa.and_(
        Enrolment.completed_at.is_(None),
        Enrolment.due_on >= today,
        Enrolment.due_on <= due_soon_until(today),
    )
