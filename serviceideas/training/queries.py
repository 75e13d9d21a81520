"""Reading training for pages: a person's list, the trainers' inbox, and coverage.

Coverage is defined once here — the page, its CSV and the dashboard use these functions:
an enrolment is *assigned* once it exists; *due so far* when its due date has passed
(before today); *completed* when done, early, on time or late; *overdue* when due so far
and not done. *Up to date* is the share of enrolments due so far that are done. Only active
people and assignments that were not withdrawn count.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from serviceideas.extensions import db
from serviceideas.people.models import Department, DepartmentKind, User
from serviceideas.training.models import (
    Assignment,
    Enrolment,
    Module,
    ModuleKind,
    Reflection,
    Repeat,
    period_label,
)

DUE_SOON_DAYS = 7


# A learner's own training


@dataclass(frozen=True, slots=True)
class TrainingItem:
    """One line of a person's training: plain values read as columns of one query."""

    id: int
    due_on: date
    completed_at: datetime | None
    period_start: date
    repeat: Repeat
    title: str
    kind: ModuleKind
    minutes: int
    summary: str
    feedback_by: str | None  # who gave feedback on the reflection, if anyone has

    @property
    def is_done(self) -> bool:
        return self.completed_at is not None

    @property
    def was_late(self) -> bool:
        return self.completed_at is not None and self.completed_at.date() > self.due_on

    @property
    def period_label(self) -> str | None:
        return period_label(self.repeat, self.period_start)


@dataclass
class MyTraining:
    overdue: list[TrainingItem]
    due_soon: list[TrainingItem]
    later: list[TrainingItem]
    done: list[TrainingItem]

    @property
    def total(self) -> int:
        return len(self.overdue) + len(self.due_soon) + len(self.later) + len(self.done)

    @property
    def percent_done(self) -> int:
        return round(100 * len(self.done) / self.total) if self.total else 100


def my_training(user: User, today: date) -> MyTraining:
    """The person's training, sorted: overdue, due soon, later, done (one query)."""
    rows = db.session.execute(_my_training_statement(), {"user_id": user.id}).all()
    soon = date.fromordinal(today.toordinal() + DUE_SOON_DAYS)
    result = MyTraining([], [], [], [])
    for item in (TrainingItem(*row) for row in rows):
        if item.is_done:
            result.done.append(item)
        elif item.due_on < today:
            result.overdue.append(item)
        elif item.due_on <= soon:
            result.due_soon.append(item)
        else:
            result.later.append(item)
    result.done.sort(key=lambda item: item.completed_at, reverse=True)  # type: ignore[arg-type,return-value]
    return result


@cache
def _my_training_statement() -> sa.Select[Any]:
    """Built once, with the person as a parameter: every visit to My training runs it."""
    giver = aliased(User)
    return (
        sa.select(
            Enrolment.id,
            Enrolment.due_on,
            Enrolment.completed_at,
            Enrolment.period_start,
            Assignment.repeat,
            Module.title,
            Module.kind,
            Module.minutes,
            Module.summary,
            giver.name,
        )
        .join(Assignment, Assignment.id == Enrolment.assignment_id)
        .join(Module, Module.id == Assignment.module_id)
        .outerjoin(
            Reflection,
            sa.and_(Reflection.enrolment_id == Enrolment.id, Reflection.feedback != ""),
        )
        .outerjoin(giver, giver.id == Reflection.feedback_by_id)
        .where(
            Enrolment.user_id == sa.bindparam("user_id", type_=sa.Integer),
            sa.or_(Assignment.withdrawn_at.is_(None), Enrolment.completed_at.is_not(None)),
        )
        .order_by(Enrolment.due_on, Enrolment.id)
    )


# The trainers' inbox


@dataclass(frozen=True)
class InboxFilters:
    module_id: int | None = None
    department_id: int | None = None
    waiting_only: bool = False  # no feedback yet


def inbox_query(filters: InboxFilters) -> sa.Select[tuple[Reflection]]:
    """Reflections and activity write-ups, newest first (eager: enrolment, person, module)."""
    query = (
        sa.select(Reflection)
        .join(Reflection.enrolment)
        .join(Enrolment.assignment)
        .join(Enrolment.user)
        .order_by(Reflection.written_at.desc(), Reflection.enrolment_id.desc())
    )
    if filters.module_id:
        query = query.where(Assignment.module_id == filters.module_id)
    if filters.department_id:
        query = query.where(User.department_id == filters.department_id)
    if filters.waiting_only:
        query = query.where(Reflection.feedback.is_(None))
    return query


# Coverage


@dataclass(frozen=True)
class CoverageRow:
    label: str
    kind: DepartmentKind | None
    people: int
    assigned: int
    due: int
    completed: int
    overdue: int
    key: Any = None  # the department id, for drill-down

    @property
    def percent_up_to_date(self) -> int | None:
        return round(100 * (self.due - self.overdue) / self.due) if self.due else None


Figures = tuple[int, int, int, int]  # assigned, due so far, completed, overdue


def _figures(today: date) -> list[Any]:
    due = Enrolment.due_on < today
    return [
        sa.func.count(Enrolment.id),
        sa.func.count(Enrolment.id).filter(due),
        sa.func.count(Enrolment.completed_at),
        sa.func.count(Enrolment.id).filter(due, Enrolment.completed_at.is_(None)),
    ]


def _coverage(group: Any, today: date) -> dict[Any, Figures]:
    """The figures per group value, aggregated in the database (one query)."""
    rows = db.session.execute(
        sa.select(group, *_figures(today))
        .select_from(Enrolment)
        .join(Assignment, Enrolment.assignment_id == Assignment.id)
        .join(User, Enrolment.user_id == User.id)
        .join(Department, User.department_id == Department.id)
        .where(Assignment.withdrawn_at.is_(None), User.active.is_(True))
        .group_by(group)
    )
    return {key: tuple(numbers) for key, *numbers in rows}  # type: ignore[misc]


def _headcount(group: Any) -> dict[Any, int]:
    rows = db.session.execute(
        sa.select(group, sa.func.count(User.id))
        .select_from(User)
        .join(Department, User.department_id == Department.id)
        .where(User.active.is_(True))
        .group_by(group)
    )
    return dict(rows.all())


NO_FIGURES: Figures = (0, 0, 0, 0)


def coverage_by_department(today: date) -> list[CoverageRow]:
    """One row per department, by name (three queries whatever the size of the company)."""
    figures = _coverage(Department.id, today)
    people = _headcount(Department.id)
    return [
        CoverageRow(
            department.name,
            department.kind,
            people.get(department.id, 0),
            *figures.get(department.id, NO_FIGURES),
            key=department.id,
        )
        for department in db.session.scalars(sa.select(Department).order_by(Department.name))
    ]


def coverage_by_kind(today: date) -> list[CoverageRow]:
    """Front line and back office, side by side, then everyone (two queries)."""
    figures = _coverage(Department.kind, today)
    people = _headcount(Department.kind)
    rows = [
        CoverageRow(kind.label, kind, people.get(kind, 0), *figures.get(kind, NO_FIGURES))
        for kind in DepartmentKind
    ]
    totals = [sum(column) for column in zip(*(_numbers(row) for row in rows), strict=True)]
    rows.append(CoverageRow("Everyone", None, *totals))
    return rows


def _numbers(row: CoverageRow) -> tuple[int, int, int, int, int]:
    return (row.people, row.assigned, row.due, row.completed, row.overdue)


def people_coverage(department_id: int, today: date) -> list[tuple[User, Figures]]:
    """Each active person of a department with their figures (one query)."""
    assigned, due, completed, overdue = _figures(today)
    stats = (
        sa.select(
            Enrolment.user_id,
            assigned.label("assigned"),
            due.label("due"),
            completed.label("completed"),
            overdue.label("overdue"),
        )
        .join(Assignment, Enrolment.assignment_id == Assignment.id)
        .where(Assignment.withdrawn_at.is_(None))
        .group_by(Enrolment.user_id)
        .subquery()
    )
    columns = [
        sa.func.coalesce(stats.c[name], 0) for name in ("assigned", "due", "completed", "overdue")
    ]
    rows = db.session.execute(
        sa.select(User, *columns)
        .outerjoin(stats, stats.c.user_id == User.id)
        .where(User.department_id == department_id, User.active.is_(True))
        .order_by(User.name, User.id)
    )
    return [(user, tuple(numbers)) for user, *numbers in rows]  # type: ignore[misc]


def enrolment_rows(today: date) -> sa.Select[Any]:
    """Person × assignment for the CSV export: completion facts only, never reflection text."""
    return (
        sa.select(
            User.name,
            Department.name.label("department"),
            Department.kind,
            Module.title,
            Enrolment.period_start,
            Enrolment.due_on,
            Enrolment.completed_at,
        )
        .select_from(Enrolment)
        .join(Assignment, Enrolment.assignment_id == Assignment.id)
        .join(Module, Assignment.module_id == Module.id)
        .join(User, Enrolment.user_id == User.id)
        .join(Department, User.department_id == Department.id)
        .where(Assignment.withdrawn_at.is_(None), User.active.is_(True))
        .order_by(Department.name, User.name, Module.title, Enrolment.period_start)
    )
