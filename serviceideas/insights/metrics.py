"""Every figure of the dashboard and leaderboard, defined once, in SQL.

The pages, the CSV downloads and the tests all call these functions, so a number can only
mean one thing (docs/product.md, "Metrics"). Days are UTC days; a period includes its first
and last day. The rules they share are each written once: *put into practice in a period* is
`implemented_in` below; *active staff* is `User.is_active`; *stalled* is `Stalled`.

*Put into practice in a period*: the idea's current status is implemented and its
implementation date lies in the period. Merged and declined ideas never count. An idea is
credited to the department its author was in when submitting it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from itertools import groupby
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext
from sqlalchemy.orm import aliased

from serviceideas.extensions import db
from serviceideas.ideas.models import Comment, Compass, Idea, JourneyStage, Stalled, Status, Vote
from serviceideas.insights.periods import Period, months_up_to, whole_months
from serviceideas.people.models import Department, DepartmentKind, User
from serviceideas.training.models import Module, ModuleIdea


def _moment(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def _within(column: Any, period: Period) -> sa.ColumnElement[bool]:
    """A timestamp column inside the period's days."""
    return sa.and_(column >= _moment(period.start), column < _moment(period.end + timedelta(1)))


def implemented_in(period: Period) -> sa.ColumnElement[bool]:
    """The one definition of an idea put into practice in `period` (docs/product.md, "Ideas
    put into practice"): the headline, the trend, the teams, the leaderboards and the
    per-person table all count with it."""
    return sa.and_(
        Idea.status == Status.IMPLEMENTED,
        Idea.implemented_on >= period.start,
        Idea.implemented_on <= period.end,
    )


def _dialect() -> str:
    return db.session.get_bind().dialect.name


def _month_key(column: Any) -> Any:
    """'2026-10' for a date column, on either database."""
    if _dialect() == "postgresql":
        return sa.func.to_char(column, "YYYY-MM")
    return sa.func.strftime("%Y-%m", column)


def _days_to_practice() -> Any:
    """Whole days from submission (UTC day) to the implementation date."""
    if _dialect() == "postgresql":
        return Idea.implemented_on - sa.cast(sa.func.timezone("UTC", Idea.created_at), sa.Date)
    return sa.cast(
        sa.func.julianday(Idea.implemented_on) - sa.func.julianday(sa.func.date(Idea.created_at)),
        sa.Integer,
    )


# Headline


def count_implemented(period: Period) -> int:
    return db.session.scalar(sa.select(sa.func.count(Idea.id)).where(implemented_in(period))) or 0


@dataclass(frozen=True)
class Headline:
    implemented: int
    implemented_before: int
    all_time: int
    submitted: int
    submitted_before: int

    @property
    def change(self) -> int:
        return self.implemented - self.implemented_before


def headline(period: Period) -> Headline:
    """The headline figures for the period and the one before it (one query)."""
    before = period.previous()
    row = db.session.execute(
        sa.select(
            sa.func.count(Idea.id).filter(implemented_in(period)),
            sa.func.count(Idea.id).filter(implemented_in(before)),
            sa.func.count(Idea.id).filter(Idea.status == Status.IMPLEMENTED),
            sa.func.count(Idea.id).filter(_within(Idea.created_at, period)),
            sa.func.count(Idea.id).filter(_within(Idea.created_at, before)),
        )
    ).one()
    return Headline(*row)


# Trend


def trend(period: Period) -> list[tuple[date, int]]:
    """Ideas put into practice per calendar month, each month counted whole: the 12 months up
    to the period's end (or, for a longer custom period, each of its months). One query."""
    months = period.months()
    if len(months) < 12:
        months = months_up_to(period.end, 12)
    key = _month_key(Idea.implemented_on)
    rows = db.session.execute(
        sa.select(key, sa.func.count(Idea.id))
        .where(implemented_in(whole_months(months[0], months[-1])))
        .group_by(key)
    )
    counts: dict[str, int] = {month: count for month, count in rows}
    return [(month, counts.get(month.strftime("%Y-%m"), 0)) for month in months]


# Departments and kinds


@dataclass(frozen=True)
class TeamFigures:
    """A department's figures, a kind's (`department_name` None), or everyone's (both None).
    Labels are not kept: the figures are remembered for readers of every language."""

    department_name: str | None
    kind: DepartmentKind | None
    staff: int  # active people now
    submitted: int
    implemented: int
    department_id: int | None = None

    @property
    def name(self) -> str:
        """The department's name, else the kind's label, else "Everyone" (in the reader's
        language)."""
        if self.department_name is not None:
            return self.department_name
        return self.kind.label if self.kind else gettext("Everyone")

    @property
    def per_100_staff(self) -> float | None:
        """Ideas put into practice per 100 active staff (None for a team with nobody)."""
        return round(100 * self.implemented / self.staff, 1) if self.staff else None


def _staff_by(group: Any) -> dict[Any, int]:
    return dict(
        db.session.execute(
            sa.select(group, sa.func.count(User.id))
            .select_from(User)
            .join(Department, User.department_id == Department.id)
            .where(User.is_active)
            .group_by(group)
        ).all()
    )


def _ideas_by(group: Any, period: Period) -> dict[Any, tuple[int, int]]:
    rows = db.session.execute(
        sa.select(
            group,
            sa.func.count(Idea.id).filter(_within(Idea.created_at, period)),
            sa.func.count(Idea.id).filter(implemented_in(period)),
        )
        .select_from(Idea)
        .join(Department, Idea.author_department_id == Department.id)
        .group_by(group)
    )
    return {key: (submitted, implemented) for key, submitted, implemented in rows}


def by_department(period: Period) -> list[TeamFigures]:
    """Every department, by name, with its figures (three queries)."""
    staff, ideas = _staff_by(Department.id), _ideas_by(Department.id, period)
    return [
        TeamFigures(
            d.name, d.kind, staff.get(d.id, 0), *ideas.get(d.id, (0, 0)), department_id=d.id
        )
        for d in db.session.scalars(sa.select(Department).order_by(Department.name))
    ]


def by_kind(period: Period) -> list[TeamFigures]:
    """Front line and back office, then everyone (two queries)."""
    staff, ideas = _staff_by(Department.kind), _ideas_by(Department.kind, period)
    rows = [
        TeamFigures(None, kind, staff.get(kind, 0), *ideas.get(kind, (0, 0)))
        for kind in DepartmentKind
    ]
    total = TeamFigures(
        None,
        None,
        sum(r.staff for r in rows),
        sum(r.submitted for r in rows),
        sum(r.implemented for r in rows),
    )
    return [*rows, total]


# Time to practice


@dataclass(frozen=True)
class TimeToPractice:
    ideas: int
    median_days: float | None
    p90_days: int | None


def time_to_practice(period: Period) -> TimeToPractice:
    """Median and 90th percentile (nearest rank) of days from submission to implementation,
    for ideas put into practice in the period — computed by the database (one query)."""
    days = _days_to_practice().label("days")
    ranked = (
        sa.select(
            days,
            sa.func.row_number().over(order_by=days).label("rank"),
            sa.func.count().over().label("n"),
        )
        .where(implemented_in(period))
        .subquery()
    )
    n, r, d = ranked.c.n, ranked.c.rank, ranked.c.days
    row = db.session.execute(
        sa.select(
            sa.func.max(n),
            sa.func.avg(d).filter(r.in_([(n + 1) // 2, (n + 2) // 2])),
            sa.func.max(d).filter(r == (9 * n + 9) // 10),
        )
    ).one()
    count, median, p90 = row
    if not count:
        return TimeToPractice(0, None, None)
    return TimeToPractice(count, round(float(median), 1), int(p90))


# Funnel


def funnel(stalled: Stalled) -> tuple[dict[Status, int], int]:
    """How many ideas stand in each status now, and how many of them have stalled by the
    `stalled` rule (docs/product.md, "Stalled ideas"). One query."""
    rows = db.session.execute(
        sa.select(
            Idea.status, sa.func.count(Idea.id), sa.func.count(Idea.id).filter(stalled.clause())
        ).group_by(Idea.status)
    )
    counts: dict[Status, int] = {}
    stalled_count = 0
    for status, ideas, stalled_ideas in rows:
        counts[status] = ideas
        stalled_count += stalled_ideas
    return {status: counts.get(status, 0) for status in Status}, stalled_count


# Participation


@dataclass(frozen=True)
class Participation:
    kind: DepartmentKind | None  # None: everyone
    staff: int
    taking_part: int

    @property
    def label(self) -> str:
        """The kind's label, or "Everyone", in the reader's language."""
        return self.kind.label if self.kind else gettext("Everyone")

    @property
    def percent(self) -> int | None:
        return round(100 * self.taking_part / self.staff) if self.staff else None


def participation(period: Period) -> list[Participation]:
    """Share of active staff who submitted, voted or commented in the period, by kind (two
    queries). People count in the department they are in now."""
    active = sa.union(
        sa.select(Idea.author_id.label("user_id")).where(_within(Idea.created_at, period)),
        sa.select(Vote.user_id).where(_within(Vote.created_at, period)),
        sa.select(Comment.author_id).where(_within(Comment.created_at, period)),
    ).subquery()
    taking_part = dict(
        db.session.execute(
            sa.select(Department.kind, sa.func.count(sa.distinct(User.id)))
            .select_from(User)
            .join(active, active.c.user_id == User.id)
            .join(Department, User.department_id == Department.id)
            .where(User.is_active)
            .group_by(Department.kind)
        ).all()
    )
    staff = _staff_by(Department.kind)
    rows = [
        Participation(kind, staff.get(kind, 0), taking_part.get(kind, 0)) for kind in DepartmentKind
    ]
    rows.append(Participation(None, sum(r.staff for r in rows), sum(r.taking_part for r in rows)))
    return rows


# Leaderboard


@dataclass(frozen=True)
class Credit:
    """A person's ideas put into practice in the period that count for one department: the
    one they were in when submitting them."""

    department: str
    kind: DepartmentKind
    implemented: int


@dataclass(frozen=True)
class Leader:
    rank: int
    user_id: int
    name: str
    active: bool
    implemented: int
    first_on: date
    credits: tuple[Credit, ...]  # most first, then by name: they add up to `implemented`
    department_now: str

    @property
    def moved(self) -> bool:
        """None of their ideas here counts for the department they are in now."""
        return all(credit.department != self.department_now for credit in self.credits)


LEADERBOARD_SIZE = 25


def people_leaderboard(period: Period, limit: int = LEADERBOARD_SIZE) -> list[Leader]:
    """People by ideas they authored that were put into practice in the period, each idea
    credited to the department its author was in when submitting it, as the department
    tables credit it (docs/product.md, "Leaderboard"): someone who moved has one credit per
    department, and the credits of everyone listed add up to the department tables' figures,
    less the ideas whose authors hid their name. Those count for the department only: this
    table is public, and would name them (docs/product.md, "Speaking up safely").

    Ties: whoever had an idea put into practice first in the period ranks higher; then by
    name, then by account number, so the order never changes between two looks (one query).
    """
    per_department = (
        sa.select(
            Idea.author_id.label("user_id"),
            Idea.author_department_id.label("department_id"),
            sa.func.count(Idea.id).label("implemented"),
            sa.func.min(Idea.implemented_on).label("first_on"),
        )
        .where(implemented_in(period), Idea.name_hidden.is_(False))
        .group_by(Idea.author_id, Idea.author_department_id)
        .subquery()
    )
    person = per_department.c.user_id
    with_totals = sa.select(
        *per_department.c,
        sa.func.sum(per_department.c.implemented).over(partition_by=person).label("total"),
        sa.func.min(per_department.c.first_on).over(partition_by=person).label("person_first_on"),
    ).subquery()
    # Every row of one person has the same ordering key, and the key ends with the account
    # number, so the dense rank is the person's place.
    ranked = (
        sa.select(
            *with_totals.c,
            User.name,
            User.is_active.label("active"),
            User.department_id.label("department_now_id"),
            sa.func.dense_rank()
            .over(
                order_by=(
                    with_totals.c.total.desc(),
                    with_totals.c.person_first_on,
                    User.name,
                    User.id,
                )
            )
            .label("rank"),
        )
        .join(User, User.id == with_totals.c.user_id)
        .subquery()
    )
    credited, now = aliased(Department), aliased(Department)
    rows = db.session.execute(
        sa.select(
            ranked.c.rank,
            ranked.c.user_id,
            ranked.c.name,
            ranked.c.active,
            ranked.c.total,
            ranked.c.person_first_on,
            ranked.c.implemented,
            credited.name.label("department"),
            credited.kind,
            now.name.label("department_now"),
        )
        .join(credited, credited.id == ranked.c.department_id)
        .join(now, now.id == ranked.c.department_now_id)
        .where(ranked.c.rank <= limit)
        .order_by(ranked.c.rank, ranked.c.implemented.desc(), credited.name, credited.id)
    ).all()
    leaders: list[Leader] = []
    for rank, group in groupby(rows, key=lambda row: row.rank):
        person_rows = list(group)
        first = person_rows[0]
        leaders.append(
            Leader(
                rank=rank,
                user_id=first.user_id,
                name=first.name,
                active=first.active,
                implemented=int(first.total),  # PostgreSQL sums counts as numeric
                first_on=first.person_first_on,
                credits=tuple(
                    Credit(row.department, row.kind, row.implemented) for row in person_rows
                ),
                department_now=first.department_now,
            )
        )
    return leaders


def department_leaderboards(period: Period) -> tuple[list[TeamFigures], list[TeamFigures]]:
    """Departments by ideas put into practice, and by the same per 100 active staff.

    Ties: more ideas submitted in the period ranks higher, then the name. A department with
    no active staff has no per-100 figure and comes last in that table.
    """
    departments = by_department(period)
    by_count = sorted(departments, key=lambda t: (-t.implemented, -t.submitted, t.name))
    by_rate = sorted(
        departments,
        key=lambda t: (t.per_100_staff is None, -(t.per_100_staff or 0), -t.implemented, t.name),
    )
    return by_count, by_rate


# Born from training


@dataclass(frozen=True)
class ModuleIdeas:
    """The ideas started from one training module: submitted and put into practice."""

    module_id: int
    title: str
    submitted: int
    implemented: int


@dataclass(frozen=True)
class BornFromTraining:
    """Ideas started from a training module, in all (each idea once) and per module."""

    submitted: int
    implemented: int
    modules: tuple[ModuleIdeas, ...]  # most put into practice first, then most submitted


def born_from_training(period: Period) -> BornFromTraining:
    """Ideas their authors started from their own finished work in a training module (a row
    of `module_ideas`, written when the idea is submitted from a reflection): submitted in the
    period (created in it, whatever became of them since) and put into practice in it
    (`implemented_in`), in all and per module (docs/product.md, "Ideas born from training").
    In the total an idea counts once; per module, for each module it was started from. Only
    modules with an idea in either figure are listed. Two queries."""
    submitted = _within(Idea.created_at, period)
    implemented = implemented_in(period)
    total = db.session.execute(
        sa.select(
            sa.func.count(Idea.id).filter(submitted),
            sa.func.count(Idea.id).filter(implemented),
        ).where(sa.exists().where(ModuleIdea.idea_id == Idea.id), sa.or_(submitted, implemented))
    ).one()
    rows = db.session.execute(
        sa.select(
            Module.id,
            Module.title,
            sa.func.count(Idea.id).filter(submitted),
            sa.func.count(Idea.id).filter(implemented),
        )
        .select_from(ModuleIdea)
        .join(Idea, Idea.id == ModuleIdea.idea_id)
        .join(Module, Module.id == ModuleIdea.module_id)
        .where(sa.or_(submitted, implemented))
        .group_by(Module.id, Module.title)
    ).all()
    modules = sorted(
        (ModuleIdeas(*row) for row in rows),
        key=lambda m: (-m.implemented, -m.submitted, m.title, m.module_id),
    )
    return BornFromTraining(total[0], total[1], tuple(modules))


# The customer's side


NO_STAGE = "No stage given"  # the row's name as read; pages show `StageFigures.label`


@dataclass(frozen=True)
class StageFigures:
    """One moment of the customer's journey, or (`stage_id` None) the ideas that name none."""

    stage_id: int | None
    name: str
    explanation: str
    retired: bool
    submitted: int
    implemented: int

    @property
    def label(self) -> str:
        """The stage's name, or for the ideas that name none, NO_STAGE in the reader's
        language."""
        return self.name if self.stage_id is not None else gettext("No stage given")


def by_journey_stage(period: Period) -> list[StageFigures]:
    """Per journey stage, ideas submitted in the period (created in it, whatever became of
    them since) and put into practice in it (`implemented_in`), as docs/product.md, "Metrics",
    "Journey stages and the compass", defines them. Every stage in use is listed in the admins'
    order, with none as 0 — the moments nobody improves are the point; a retired stage only
    when it has an idea in either figure; last, the ideas that name no stage. Each idea is in
    one row, so the rows add up to the headline's figures. One query."""
    submitted = _within(Idea.created_at, period)
    implemented = implemented_in(period)
    in_period = sa.or_(submitted, implemented)
    in_figures = (
        sa.func.count(Idea.id).filter(submitted).label("submitted"),
        sa.func.count(Idea.id).filter(implemented).label("implemented"),
    )
    stages = (
        sa.select(
            JourneyStage.id,
            JourneyStage.name,
            JourneyStage.explanation,
            JourneyStage.retired_at.is_not(None).label("retired"),
            JourneyStage.position,
            *in_figures,
        )
        .select_from(JourneyStage)
        .outerjoin(Idea, sa.and_(Idea.journey_stage_id == JourneyStage.id, in_period))
        .group_by(JourneyStage.id)
        .having(sa.or_(JourneyStage.retired_at.is_(None), sa.func.count(Idea.id) > 0))
    )
    no_stage = sa.select(  # an aggregate without GROUP BY: always its one row
        sa.literal(None, sa.Integer),
        sa.literal(NO_STAGE),
        sa.literal(""),
        sa.false(),
        sa.literal(None, sa.Integer),
        *in_figures,
    ).where(Idea.journey_stage_id.is_(None), in_period)
    rows = sa.union_all(stages, no_stage).subquery()
    ordered = sa.select(
        rows.c.id,
        rows.c.name,
        rows.c.explanation,
        rows.c.retired,
        rows.c.submitted,
        rows.c.implemented,
    ).order_by(rows.c.id.is_(None), rows.c.position, rows.c.name, rows.c.id)
    return [
        StageFigures(id, name, explanation, bool(retired), submitted, implemented)
        for id, name, explanation, retired, submitted, implemented in db.session.execute(ordered)
    ]


@dataclass(frozen=True)
class CompassFigures:
    """Ideas put into practice for one point of the compass, or (`point` None) for none."""

    point: Compass | None
    implemented: int

    @property
    def label(self) -> str:
        return self.point.label if self.point else gettext("None given")

    @property
    def explanation(self) -> str:
        return self.point.explanation if self.point else ""


def by_compass(period: Period) -> list[CompassFigures]:
    """Ideas put into practice in the period (`implemented_in`) per point of the Guestology
    compass — need, want, emotion, stereotype, each listed even with none — then those that
    name no point (docs/product.md, "Metrics", "Journey stages and the compass"). One query."""
    counts: dict[Compass | None, int] = dict(
        db.session.execute(
            sa.select(Idea.compass, sa.func.count(Idea.id))
            .where(implemented_in(period))
            .group_by(Idea.compass)
        ).all()
    )
    points: list[Compass | None] = [*Compass, None]
    return [CompassFigures(point, counts.get(point, 0)) for point in points]


# Per person, for managers


@dataclass(frozen=True)
class PersonActivity:
    name: str
    department: str
    kind: DepartmentKind
    submitted: int
    implemented: int
    votes: int
    comments: int


def people_activity(period: Period) -> list[PersonActivity]:
    """Each active person's part in the period (one query): for managers and admins."""

    def counted(column: Any, where: Any) -> Any:
        return sa.select(sa.func.count()).where(column == User.id, where).scalar_subquery()

    rows = db.session.execute(
        sa.select(
            User.name,
            Department.name,
            Department.kind,
            counted(Idea.author_id, _within(Idea.created_at, period)),
            counted(Idea.author_id, implemented_in(period)),
            counted(Vote.user_id, _within(Vote.created_at, period)),
            counted(Comment.author_id, _within(Comment.created_at, period)),
        )
        .select_from(User)
        .join(Department, User.department_id == Department.id)
        .where(User.is_active)
        .order_by(Department.name, User.name, User.id)
    ).all()
    return [PersonActivity(*row) for row in rows]
