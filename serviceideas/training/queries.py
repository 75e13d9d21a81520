"""Reading training for pages: a person's list, the trainers' inbox, and coverage.

Coverage is defined once here — the page, its CSV and the dashboard use these functions:
an enrolment is *due so far* when its due date is today or earlier, *completed* when done
(on time or late), *overdue* when due so far and not done; *up to date* is completed ÷ due
so far. Only active people and assignments that were not withdrawn count.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa

from serviceideas.extensions import db
from serviceideas.people.models import Department, DepartmentKind, User
from serviceideas.training.models import Assignment, Enrolment, Module, Reflection

DUE_SOON_DAYS = 7


# A learner's own training


@dataclass
class MyTraining:
    overdue: list[Enrolment]
    due_soon: list[Enrolment]
    later: list[Enrolment]
    done: list[Enrolment]
    feedback: dict[int, Reflection]  # enrolment id → their reflection, with any feedback

    @property
    def total(self) -> int:
        return len(self.overdue) + len(self.due_soon) + len(self.later) + len(self.done)

    @property
    def percent_done(self) -> int:
        return round(100 * len(self.done) / self.total) if self.total else 100


def my_training(user: User, today: date) -> MyTraining:
    """The person's enrolments, sorted: overdue, due soon, later, done (two queries)."""
    enrolments = db.session.scalars(
        sa.select(Enrolment)
        .join(Enrolment.assignment)
        .where(
            Enrolment.user_id == user.id,
            sa.or_(Assignment.withdrawn_at.is_(None), Enrolment.completed_at.is_not(None)),
        )
        .order_by(Enrolment.due_on, Enrolment.id)
    ).all()
    reflections = {
        r.enrolment_id: r
        for r in db.session.scalars(
            sa.select(Reflection).join(Reflection.enrolment).where(Enrolment.user_id == user.id)
        )
    }
    soon = date.fromordinal(today.toordinal() + DUE_SOON_DAYS)
    result = MyTraining([], [], [], [], reflections)
    for enrolment in enrolments:
        if enrolment.is_done:
            result.done.append(enrolment)
        elif enrolment.due_on < today:
            result.overdue.append(enrolment)
        elif enrolment.due_on <= soon:
            result.due_soon.append(enrolment)
        else:
            result.later.append(enrolment)
    result.done.sort(key=lambda e: e.completed_at, reverse=True)  # type: ignore[arg-type,return-value]
    return result


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
    due: int
    completed: int
    overdue: int
    key: Any = None  # the department id, for drill-down

    @property
    def percent_up_to_date(self) -> int | None:
        return round(100 * self.completed / self.due) if self.due else None


def _due_so_far(today: date) -> list[sa.ColumnElement[bool]]:
    return [
        Enrolment.due_on <= today,
        Assignment.withdrawn_at.is_(None),
        User.active.is_(True),
    ]


def _coverage(group: Any, today: date) -> dict[Any, tuple[int, int]]:
    """(due so far, completed) per group value, aggregated in the database."""
    completed = sa.func.count(Enrolment.completed_at)
    rows = db.session.execute(
        sa.select(group, sa.func.count(Enrolment.id), completed)
        .select_from(Enrolment)
        .join(Assignment, Enrolment.assignment_id == Assignment.id)
        .join(User, Enrolment.user_id == User.id)
        .join(Department, User.department_id == Department.id)
        .where(*_due_so_far(today))
        .group_by(group)
    )
    return {key: (due, done) for key, due, done in rows}


def _headcount(group: Any) -> dict[Any, int]:
    rows = db.session.execute(
        sa.select(group, sa.func.count(User.id))
        .select_from(User)
        .join(Department, User.department_id == Department.id)
        .where(User.active.is_(True))
        .group_by(group)
    )
    return dict(rows.all())


def coverage_by_department(today: date) -> list[CoverageRow]:
    """One row per department, by name (three queries whatever the size of the company)."""
    figures = _coverage(Department.id, today)
    people = _headcount(Department.id)
    rows = []
    for department in db.session.scalars(sa.select(Department).order_by(Department.name)):
        due, done = figures.get(department.id, (0, 0))
        rows.append(
            CoverageRow(
                department.name,
                department.kind,
                people.get(department.id, 0),
                due,
                done,
                due - done,
                department.id,
            )
        )
    return rows


def coverage_by_kind(today: date) -> list[CoverageRow]:
    """Front line and back office, side by side, then everyone (two queries)."""
    figures = _coverage(Department.kind, today)
    people = _headcount(Department.kind)
    rows = []
    for kind in DepartmentKind:
        due, done = figures.get(kind, (0, 0))
        rows.append(CoverageRow(kind.label, kind, people.get(kind, 0), due, done, due - done))
    total = [
        sum(values) for values in zip(*[(r.people, r.due, r.completed) for r in rows], strict=True)
    ]
    rows.append(CoverageRow("Everyone", None, total[0], total[1], total[2], total[1] - total[2]))
    return rows


def people_coverage(department_id: int, today: date) -> list[tuple[User, int, int, int]]:
    """Each active person of a department: (person, due so far, completed, overdue)."""
    stats = (
        sa.select(
            Enrolment.user_id,
            sa.func.count(Enrolment.id).label("due"),
            sa.func.count(Enrolment.completed_at).label("done"),
        )
        .join(Assignment, Enrolment.assignment_id == Assignment.id)
        .where(Enrolment.due_on <= today, Assignment.withdrawn_at.is_(None))
        .group_by(Enrolment.user_id)
        .subquery()
    )
    rows = db.session.execute(
        sa.select(User, sa.func.coalesce(stats.c.due, 0), sa.func.coalesce(stats.c.done, 0))
        .outerjoin(stats, stats.c.user_id == User.id)
        .where(User.department_id == department_id, User.active.is_(True))
        .order_by(User.name, User.id)
    )
    return [(user, due, done, due - done) for user, due, done in rows]


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
