"""Reading training for pages: a person's list, modules and assignments, the trainers'
inbox, and coverage.

Coverage is defined once here — the page, its CSV and the dashboard use these functions
(docs/product.md, "Training coverage"): an enrolment is *assigned* once it exists; *due so
far*, *overdue* and *late* are the deadline rules of training/models.py (docs/product.md,
"Training deadlines"); *completed* when done, early, on time or late. *Up to date* is the
share of enrolments due so far that are done. Only active staff and training still assigned
count (neither the assignment withdrawn, nor the enrolment withdrawn for its person).
"""

from __future__ import annotations

import difflib
import enum
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext, lazy_gettext
from sqlalchemy.orm import QueryableAttribute, aliased, selectinload

from serviceideas.extensions import db
from serviceideas.i18n import format_date
from serviceideas.ideas.models import Idea, Status
from serviceideas.ideas.policies import author_shown_to
from serviceideas.people.models import Department, DepartmentKind, User
from serviceideas.people.policies import Someone
from serviceideas.training.models import (
    AnswerDraft,
    Assignment,
    Enrolment,
    HasDueDate,
    Module,
    ModuleIdea,
    ModuleKind,
    ModuleStatus,
    ModuleVersion,
    Reflection,
    Repeat,
    due_so_far_sql,
    is_due_soon,
    is_late,
    is_overdue,
    overdue_sql,
    period_label,
    still_assigned_sql,
    was_late,
)

# A learner's own training


@dataclass(frozen=True, slots=True)
class TrainingItem:
    """One line of a person's training: plain values read as columns of one query."""

    id: int
    due_on: date
    completed_at: datetime | None
    period_start: date
    repeat: Repeat
    module_id: int
    title: str
    kind: ModuleKind
    minutes: int
    summary: str
    feedback_by: str | None  # who gave feedback on the reflection, if anyone has
    withdrawn: bool  # listed only while done, or while the learner has a draft of it
    moved_away: bool  # withdrawn for them alone: they moved to a team it does not cover
    has_draft: bool
    language: str | None  # the module's, if its trainer said

    @property
    def is_done(self) -> bool:
        return self.completed_at is not None

    @property
    def was_late(self) -> bool:
        return was_late(self)

    @property
    def period_label(self) -> str | None:
        return period_label(self.repeat, self.period_start)


@dataclass
class MyTraining:
    overdue: list[TrainingItem]
    due_soon: list[TrainingItem]
    later: list[TrainingItem]
    done: list[TrainingItem]
    # Withdrawn while the learner had a draft: kept for them, outside the progress figures.
    withdrawn: list[TrainingItem]

    @property
    def total(self) -> int:
        return len(self.overdue) + len(self.due_soon) + len(self.later) + len(self.done)

    @property
    def percent_done(self) -> int:
        return round(100 * len(self.done) / self.total) if self.total else 100


class Standing(enum.StrEnum):
    """Where one line of a person's training stands today: the section My training lists it
    in (and the API's `state`)."""

    OVERDUE = "overdue"
    DUE_SOON = "due_soon"
    LATER = "later"
    DONE = "done"
    WITHDRAWN = "withdrawn"  # withdrawn while they had a draft of it: kept for them


def standing(item: HasDueDate, today: date, *, withdrawn: bool) -> Standing:
    """By the deadline rules (docs/product.md, "Training deadlines"); `withdrawn`: the
    training was withdrawn (for everyone, or for this person)."""
    if item.completed_at is None and withdrawn:
        return Standing.WITHDRAWN
    if item.completed_at is not None:
        return Standing.DONE
    if is_overdue(item, today):
        return Standing.OVERDUE
    return Standing.DUE_SOON if is_due_soon(item, today) else Standing.LATER


def my_training(user: User, today: date, *, language: str | None = None) -> MyTraining:
    """The person's training, sorted: overdue, due soon, later, done, then withdrawn work they
    have a draft of (one query). Within each, by due date (done: latest done first); with a
    `language` (the reader's), modules in it come first, then those whose language nobody
    said, then those in other languages (docs/product.md, "Modules")."""
    rows = db.session.execute(_my_training_statement(), {"user_id": user.id})
    result = MyTraining([], [], [], [], [])
    sections = {
        Standing.OVERDUE: result.overdue,
        Standing.DUE_SOON: result.due_soon,
        Standing.LATER: result.later,
        Standing.DONE: result.done,
        Standing.WITHDRAWN: result.withdrawn,
    }
    for item in (TrainingItem(**row._asdict()) for row in rows):
        sections[standing(item, today, withdrawn=item.withdrawn)].append(item)
    result.done.sort(key=_completed_at, reverse=True)
    if language is not None:
        for section in sections.values():
            section.sort(key=lambda item: language_rank(item.language, language))  # stable
    return result


def language_rank(module_language: str | None, reader_language: str) -> int:
    """0 for a module in the reader's language, 1 for one whose language is not said, 2 for
    one in another language: sorted by it (a stable sort), each keeps its order."""
    if module_language == reader_language:
        return 0
    return 1 if module_language is None else 2


def my_training_page(
    user: User, *, after: tuple[date, int] | None, limit: int
) -> list[TrainingItem]:
    """Up to `limit` lines of the person's training (what My training lists), by due date then
    id, after the line `after` (due date, id): a keyset page, for the API (one query)."""
    statement = _my_training_statement()
    if after is not None:
        due_on, last_id = after
        statement = statement.where(
            sa.or_(
                Enrolment.due_on > due_on,
                sa.and_(Enrolment.due_on == due_on, Enrolment.id > last_id),
            )
        )
    rows = db.session.execute(statement.limit(limit), {"user_id": user.id})
    return [TrainingItem(**row._asdict()) for row in rows]


def _completed_at(item: TrainingItem) -> datetime:
    assert item.completed_at is not None  # only done items are sorted by it
    return item.completed_at


@cache
def _my_training_statement() -> sa.Select[*tuple[Any, ...]]:
    """Built once, with the person as a parameter: every visit to My training runs it.
    Each column is labelled with the TrainingItem field it fills."""
    giver = aliased(User)
    return (
        sa.select(
            Enrolment.id.label("id"),
            Enrolment.due_on.label("due_on"),
            Enrolment.completed_at.label("completed_at"),
            Enrolment.period_start.label("period_start"),
            Assignment.repeat.label("repeat"),
            Module.id.label("module_id"),
            Module.title.label("title"),
            Module.kind.label("kind"),
            Module.minutes.label("minutes"),
            Module.summary.label("summary"),
            giver.name.label("feedback_by"),
            sa.not_(still_assigned_sql()).label("withdrawn"),
            Enrolment.withdrawn_at.is_not(None).label("moved_away"),
            AnswerDraft.enrolment_id.is_not(None).label("has_draft"),
            Module.language.label("language"),
        )
        .join(Assignment, Assignment.id == Enrolment.assignment_id)
        .join(Module, Module.id == Assignment.module_id)
        .outerjoin(
            Reflection,
            sa.and_(Reflection.enrolment_id == Enrolment.id, Reflection.feedback != ""),
        )
        .outerjoin(giver, giver.id == Reflection.feedback_by_id)
        .outerjoin(AnswerDraft, AnswerDraft.enrolment_id == Enrolment.id)
        .where(
            Enrolment.user_id == sa.bindparam("user_id", type_=sa.Integer),
            sa.or_(
                still_assigned_sql(),
                Enrolment.completed_at.is_not(None),
                AnswerDraft.enrolment_id.is_not(None),
            ),
        )
        .order_by(Enrolment.due_on, Enrolment.id)
    )


def reflection_on(enrolment: Enrolment) -> Reflection | None:
    """What the learner wrote to complete `enrolment`, if anything."""
    return db.session.get(Reflection, enrolment.id)


def draft_of(enrolment: Enrolment) -> AnswerDraft | None:
    """The learner's unsubmitted answer to `enrolment`, if they have one."""
    return db.session.get(AnswerDraft, enrolment.id)


@dataclass(frozen=True, slots=True)
class ChangedLine:
    mark: str  # "+" added, "-" removed, " " unchanged (context), "…" lines left out
    text: str


@dataclass(frozen=True)
class ModuleChanges:
    """How a module's text and prompt differ now from an earlier version."""

    since: int
    now: int
    body: list[ChangedLine] | None  # None: that version's text was not kept
    prompt_before: str | None
    prompt_now: str | None

    @property
    def prompt_changed(self) -> bool:
        return self.prompt_before != self.prompt_now


def changes_since(module: Module, version: int) -> ModuleChanges | None:
    """What changed in `module` since `version` (None if nothing did). Earlier texts are kept
    from the moment edits started keeping them; an older one shows as not kept."""
    if version >= module.version:
        return None
    earlier = db.session.get(ModuleVersion, (module.id, version))
    if earlier is None:
        return ModuleChanges(version, module.version, None, None, None)
    return ModuleChanges(
        version,
        module.version,
        _line_changes(earlier.body, module.body),
        earlier.prompt,
        module.prompt,
    )


def _line_changes(before: str, after: str) -> list[ChangedLine]:
    lines: list[ChangedLine] = []
    diff = difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=1)
    for line in diff:
        if line.startswith(("---", "+++")):
            continue
        if line.startswith("@@"):
            if lines:
                lines.append(ChangedLine("…", ""))
            continue
        if line[1:].strip():  # blank lines only separate paragraphs: not worth a line
            lines.append(ChangedLine(line[:1], line[1:]))
    return lines


# Modules and assignments, for trainers


def modules_with_active_assignments() -> list[tuple[Module, int]]:
    """Every module (drafts first, then by title) with how many of its assignments are not
    withdrawn (one query)."""
    rows = db.session.execute(
        sa.select(Module, _active_assignments_of_module()).order_by(Module.status, Module.title)
    )
    return [(module, count) for module, count in rows]


def modules_page(
    *, after: int | None, limit: int, status: ModuleStatus | None = None
) -> list[tuple[Module, int]]:
    """Up to `limit` modules (of the status, if given) by id, after the module `after`, each
    with how many of its assignments are not withdrawn: a keyset page, for the API (one
    query)."""
    statement = sa.select(Module, _active_assignments_of_module()).order_by(Module.id)
    if after is not None:
        statement = statement.where(Module.id > after)
    if status is not None:
        statement = statement.where(Module.status == status)
    return [(module, count) for module, count in db.session.execute(statement.limit(limit))]


def active_assignments_of(module: Module) -> int:
    """How many of the module's assignments are not withdrawn."""
    return (
        db.session.scalar(
            sa.select(sa.func.count(Assignment.id)).where(
                Assignment.module_id == module.id, Assignment.withdrawn_at.is_(None)
            )
        )
        or 0
    )


def _active_assignments_of_module() -> sa.ScalarSelect[int]:
    return (
        sa.select(sa.func.count(Assignment.id))
        .where(Assignment.module_id == Module.id, Assignment.withdrawn_at.is_(None))
        .scalar_subquery()
    )


def people_enrolled_in(assignment: Assignment) -> int:
    """How many enrolments the assignment has, over every period."""
    return (
        db.session.scalar(
            sa.select(sa.func.count(Enrolment.id)).where(
                Enrolment.assignment_id == assignment.id, Enrolment.withdrawn_at.is_(None)
            )
        )
        or 0
    )


@dataclass(frozen=True, slots=True)
class WithdrawalStakes:
    """What withdrawing an assignment would take off people's lists, counted in people
    (active ones): `unfinished` have an enrolment not done; `started` are those of them who
    saved a draft of their answer; `completed` finished it at least once (their work stays)."""

    unfinished: int
    started: int
    completed: int


def withdrawal_stakes(assignment: Assignment) -> WithdrawalStakes:
    """Counted for the trainer's confirmation before withdrawing (one query)."""
    unfinished = Enrolment.completed_at.is_(None)
    row = db.session.execute(
        sa.select(
            sa.func.count(sa.distinct(Enrolment.user_id)).filter(unfinished),
            sa.func.count(sa.distinct(Enrolment.user_id)).filter(
                unfinished, AnswerDraft.enrolment_id.is_not(None)
            ),
            sa.func.count(sa.distinct(Enrolment.user_id)).filter(
                Enrolment.completed_at.is_not(None)
            ),
        )
        .select_from(Enrolment)
        .join(User, User.id == Enrolment.user_id)
        .outerjoin(AnswerDraft, AnswerDraft.enrolment_id == Enrolment.id)
        .where(
            Enrolment.assignment_id == assignment.id,
            Enrolment.withdrawn_at.is_(None),
            User.is_active,
        )
    ).one()
    return WithdrawalStakes(*row)


def departments_by_id(ids: list[int]) -> list[Department]:
    """The departments a trainer ticked, by name (ids the form already checked exist)."""
    if not ids:
        return []
    return list(
        db.session.scalars(
            sa.select(Department).where(Department.id.in_(ids)).order_by(Department.name)
        )
    )


@dataclass(frozen=True, slots=True)
class AssignmentProgress:
    assignment: Assignment
    enrolled: int
    completed: int


def assignments_with_progress(module_id: int | None = None) -> list[AssignmentProgress]:
    """Every assignment (of the module, if given), active ones first, newest first, with how
    many are enrolled and done (one query, and one each for the departments and people it
    names)."""
    counts = (
        sa.select(
            Enrolment.assignment_id,
            sa.func.count(Enrolment.id).label("enrolled"),
            sa.func.count(Enrolment.completed_at).label("completed"),
        )
        .where(Enrolment.withdrawn_at.is_(None))
        .group_by(Enrolment.assignment_id)
        .subquery()
    )
    statement = (
        sa.select(
            Assignment,
            sa.func.coalesce(counts.c.enrolled, 0),
            sa.func.coalesce(counts.c.completed, 0),
        )
        .outerjoin(counts, counts.c.assignment_id == Assignment.id)
        # Eager: the page names the departments or people each assignment is for.
        .options(selectinload(Assignment.departments), selectinload(Assignment.people))
        .order_by(Assignment.withdrawn_at.is_not(None), Assignment.id.desc())
    )
    if module_id is not None:
        statement = statement.where(Assignment.module_id == module_id)
    rows = db.session.execute(statement)
    return [AssignmentProgress(a, enrolled, completed) for a, enrolled, completed in rows]


# The trainers' inbox


def modules_with_written_answers() -> list[Module]:
    """Modules whose learners write an answer (reflections and activities), by title: the
    inbox's module filter."""
    return list(
        db.session.scalars(
            sa.select(Module).where(Module.kind != ModuleKind.READING).order_by(Module.title)
        )
    )


@dataclass(frozen=True)
class InboxFilters:
    module_id: int | None = None
    department_id: int | None = None
    waiting_only: bool = False  # no feedback yet


def inbox_query(filters: InboxFilters) -> sa.Select[Reflection]:
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
    # A department's or module's name; "" for a kind of team, or everyone, whose label is
    # written when shown, in the reader's language (rows are remembered, figures.py).
    name: str
    kind: DepartmentKind | None
    people: int
    assigned: int
    due: int
    completed: int
    overdue: int
    key: Any = None  # the department id, for drill-down

    @property
    def label(self) -> str:
        if self.name:
            return self.name
        return self.kind.label if self.kind is not None else gettext("Everyone")

    @property
    def percent_up_to_date(self) -> int | None:
        return round(100 * (self.due - self.overdue) / self.due) if self.due else None


Figures = tuple[int, int, int, int]  # assigned, due so far, completed, overdue


def _figures(today: date) -> list[sa.ColumnElement[int]]:
    """Assigned, due so far, completed and overdue, as aggregates over enrolments."""
    return [
        sa.func.count(Enrolment.id),
        sa.func.count(Enrolment.id).filter(due_so_far_sql(today)),
        sa.func.count(Enrolment.completed_at),
        sa.func.count(Enrolment.id).filter(overdue_sql(today)),
    ]


def _coverage(group: QueryableAttribute[Any], today: date) -> dict[Any, Figures]:
    """The figures per group value, aggregated in the database (one query)."""
    rows = db.session.execute(
        sa.select(group, *_figures(today))
        .select_from(Enrolment)
        .join(Assignment, Enrolment.assignment_id == Assignment.id)
        .join(User, Enrolment.user_id == User.id)
        .join(Department, User.department_id == Department.id)
        .where(still_assigned_sql(), User.is_active)
        .group_by(group)
    )
    return {key: (assigned, due, done, overdue) for key, assigned, due, done, overdue in rows}


def _headcount(group: QueryableAttribute[Any]) -> dict[Any, int]:
    rows = db.session.execute(
        sa.select(group, sa.func.count(User.id))
        .select_from(User)
        .join(Department, User.department_id == Department.id)
        .where(User.is_active)
        .group_by(group)
    )
    return {key: people for key, people in rows}


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
        CoverageRow("", kind, people.get(kind, 0), *figures.get(kind, NO_FIGURES))
        for kind in DepartmentKind
    ]
    totals = [sum(column) for column in zip(*(_numbers(row) for row in rows), strict=True)]
    rows.append(CoverageRow("", None, *totals))
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
        .where(still_assigned_sql())
        .group_by(Enrolment.user_id)
        .subquery()
    )
    columns = [
        sa.func.coalesce(stats.c[name], 0) for name in ("assigned", "due", "completed", "overdue")
    ]
    rows = db.session.execute(
        sa.select(User, *columns)
        .outerjoin(stats, stats.c.user_id == User.id)
        .where(User.department_id == department_id, User.is_active)
        .order_by(User.name, User.id)
    )
    return [(user, (a, d, c, o)) for user, a, d, c, o in rows]


def enrolment_rows(
    today: date,
) -> sa.Select[str, str, DepartmentKind, str, date, date, datetime | None]:
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
        .where(still_assigned_sql(), User.is_active)
        .order_by(Department.name, User.name, Module.title, Enrolment.period_start)
    )


# Translators: the coverage CSV's column names, lower case: spreadsheets and scripts read them.
COVERAGE_CSV_HEADER = [
    lazy_gettext("name"),
    lazy_gettext("department"),
    lazy_gettext("kind"),
    lazy_gettext("module"),
    lazy_gettext("period"),
    lazy_gettext("due"),
    lazy_gettext("completed"),
    lazy_gettext("late"),
]


def coverage_csv_rows(today: date) -> Iterator[list[str]]:
    """The coverage CSV: its header (in the reader's language), then one line per person ×
    assignment period, its dates ISO (for spreadsheets and scripts). "late" is `is_late`
    (docs/product.md, "Training deadlines"): done late, or overdue today."""
    yield [str(name) for name in COVERAGE_CSV_HEADER]
    yes, no = gettext("yes"), gettext("no")
    for row in db.session.execute(enrolment_rows(today)):
        completed = row.completed_at.date() if row.completed_at else None
        yield [
            row.name,
            row.department,
            row.kind.label,
            row.title,
            row.period_start.isoformat(),
            row.due_on.isoformat(),
            completed.isoformat() if completed else "",
            yes if is_late(row, today) else no,
        ]


# Ideas started from training (docs/product.md, "Training"): read here, where training meets
# ideas; the reflection itself stays private, only the module is named.


@dataclass(frozen=True, slots=True)
class StartedIdea:
    id: int
    title: str
    status: Status
    created_at: datetime


def ideas_started_in(module_id: int) -> list[StartedIdea]:
    """The ideas started from a reflection on the module, newest first (one query)."""
    rows = db.session.execute(
        sa.select(Idea.id, Idea.title, Idea.status, Idea.created_at)
        .join(ModuleIdea, ModuleIdea.idea_id == Idea.id)
        .where(ModuleIdea.module_id == module_id)
        .order_by(Idea.created_at.desc(), Idea.id.desc())
    )
    return [StartedIdea(*row) for row in rows]


def module_title_of_idea(idea_id: int) -> str | None:
    """The title of the module the idea was started in, if it was (one query)."""
    return db.session.scalar(
        sa.select(Module.title)
        .join(ModuleIdea, ModuleIdea.module_id == Module.id)
        .where(ModuleIdea.idea_id == idea_id)
        .limit(1)
    )


def ideas_from_reflections(
    reflections: list[Reflection], viewer: Someone
) -> dict[int, list[StartedIdea]]:
    """For each reflection (by its enrolment id), the ideas its writer started from that
    module: one query for a whole page of the inbox. The link is kept by module and person
    (`module_ideas`), so a person with two reflections on one module (a repeating
    assignment) shows the idea beside both. An idea whose author hid their name from `viewer`
    is left out: beside a named reflection it would name them (docs/product.md, "Speaking up
    safely")."""
    if not reflections:
        return {}
    enrolment_ids = [reflection.enrolment_id for reflection in reflections]
    rows = db.session.execute(
        sa.select(Reflection.enrolment_id, Idea.id, Idea.title, Idea.status, Idea.created_at)
        .join(Enrolment, Enrolment.id == Reflection.enrolment_id)
        .join(Assignment, Assignment.id == Enrolment.assignment_id)
        .join(
            ModuleIdea,
            sa.and_(
                ModuleIdea.module_id == Assignment.module_id,
                ModuleIdea.user_id == Enrolment.user_id,
            ),
        )
        .join(Idea, Idea.id == ModuleIdea.idea_id)
        .where(Reflection.enrolment_id.in_(enrolment_ids), author_shown_to(viewer))
        .order_by(Idea.created_at, Idea.id)
    )
    found: dict[int, list[StartedIdea]] = {}
    for row in rows:
        idea = StartedIdea(row.id, row.title, row.status, row.created_at)
        found.setdefault(row.enrolment_id, []).append(idea)
    return found


# Coverage of one module: who has done it, who is behind, per team and kind


def coverage_by_module(today: date) -> list[CoverageRow]:
    """One row per module anyone is enrolled in, by title; `people` counts the people
    enrolled (one query)."""
    assigned, due, completed, overdue = _figures(today)
    rows = db.session.execute(
        sa.select(
            Module.id,
            Module.title,
            sa.func.count(sa.distinct(Enrolment.user_id)),
            assigned,
            due,
            completed,
            overdue,
        )
        .select_from(Enrolment)
        .join(Assignment, Enrolment.assignment_id == Assignment.id)
        .join(Module, Assignment.module_id == Module.id)
        .join(User, Enrolment.user_id == User.id)
        .where(still_assigned_sql(), User.is_active)
        .group_by(Module.id, Module.title)
        .order_by(Module.title, Module.id)
    )
    return [
        CoverageRow(row[1], None, row[2], row[3], row[4], row[5], row[6], key=row[0])
        for row in rows
    ]


@dataclass(frozen=True)
class ModuleCoverage:
    """One module's coverage: per department with anyone enrolled (`teams`, by name), per
    kind of team and in all (`kinds`); `people` counts the people enrolled."""

    teams: list[CoverageRow]
    kinds: list[CoverageRow]


def module_coverage(module_id: int, today: date) -> ModuleCoverage:
    """One query: the kinds are sums of the teams (each person is in one department)."""
    assigned, due, completed, overdue = _figures(today)
    rows = db.session.execute(
        sa.select(
            Department.id,
            Department.name,
            Department.kind,
            sa.func.count(sa.distinct(Enrolment.user_id)),
            assigned,
            due,
            completed,
            overdue,
        )
        .select_from(Enrolment)
        .join(Assignment, Enrolment.assignment_id == Assignment.id)
        .join(User, Enrolment.user_id == User.id)
        .join(Department, User.department_id == Department.id)
        .where(Assignment.module_id == module_id, still_assigned_sql(), User.is_active)
        .group_by(Department.id, Department.name, Department.kind)
        .order_by(Department.name)
    )
    teams = [
        CoverageRow(row[1], row[2], row[3], row[4], row[5], row[6], row[7], key=row[0])
        for row in rows
    ]
    kinds = [_sum(kind, [row for row in teams if row.kind is kind]) for kind in DepartmentKind]
    kinds.append(_sum(None, teams))
    return ModuleCoverage(teams, kinds)


def _sum(kind: DepartmentKind | None, rows: list[CoverageRow]) -> CoverageRow:
    """The rows' totals, as the row of a kind of team (or of everyone, for None)."""
    totals = [sum(column) for column in zip(*(_numbers(row) for row in rows), strict=True)]
    return CoverageRow("", kind, *(totals or [0, 0, 0, 0, 0]))


class Progress(enum.StrEnum):
    """Where a person stands with one module, over all their enrolments in it."""

    BEHIND = "behind"  # some of it overdue
    TO_DO = "to_do"  # some of it not done, none overdue
    DONE = "done"  # all of it done

    @property
    def label(self) -> str:
        return str(PROGRESS_LABELS[self.value])


PROGRESS_LABELS = {
    "behind": lazy_gettext("Behind"),
    "to_do": lazy_gettext("To do, not due yet"),
    # Translators: where a person stands with a module: all of it done.
    "done": lazy_gettext("Done"),
}


@dataclass(frozen=True, slots=True)
class PersonProgress:
    name: str
    department: str
    kind: DepartmentKind
    assigned: int
    completed: int
    overdue: int
    next_due: date | None  # the earliest due date of what they have still to do
    last_completed: datetime | None

    @property
    def progress(self) -> Progress:
        if self.overdue:
            return Progress.BEHIND
        return Progress.DONE if self.completed == self.assigned else Progress.TO_DO


def module_people(module_id: int, today: date, show: Progress) -> list[PersonProgress]:
    """The active people enrolled in the module who stand at `show`, by department then
    name (one query, whatever the number of people or periods)."""
    open_ = Enrolment.completed_at.is_(None)
    overdue = sa.func.count(Enrolment.id).filter(overdue_sql(today))
    statement = (
        sa.select(
            User.name,
            Department.name.label("department"),
            Department.kind,
            sa.func.count(Enrolment.id),
            sa.func.count(Enrolment.completed_at),
            overdue,
            sa.func.min(Enrolment.due_on).filter(open_),
            sa.func.max(Enrolment.completed_at),
        )
        .select_from(Enrolment)
        .join(Assignment, Enrolment.assignment_id == Assignment.id)
        .join(User, Enrolment.user_id == User.id)
        .join(Department, User.department_id == Department.id)
        .where(Assignment.module_id == module_id, still_assigned_sql(), User.is_active)
        .group_by(User.id, User.name, Department.name, Department.kind)
        .order_by(Department.name, User.name, User.id)
    )
    if show is Progress.BEHIND:
        statement = statement.having(overdue > 0)
    elif show is Progress.TO_DO:
        statement = statement.having(overdue == 0, sa.func.count(Enrolment.id).filter(open_) > 0)
    else:
        statement = statement.having(sa.func.count(Enrolment.id).filter(open_) == 0)
    return [PersonProgress(*row) for row in db.session.execute(statement)]


MODULE_CSV_HEADER = [
    lazy_gettext("Name"),
    lazy_gettext("Department"),
    lazy_gettext("Kind of team"),
    lazy_gettext("Period"),
    lazy_gettext("Due"),
    lazy_gettext("Completed"),
    lazy_gettext("Status"),
]


def module_coverage_csv_rows(module_id: int, today: date) -> Iterator[list[str]]:
    """The module's coverage CSV: its header, then one line per person × period, with
    labels and dates in the reader's language (docs/product.md, "Training coverage").
    Completion facts only."""
    yield [str(name) for name in MODULE_CSV_HEADER]
    once = gettext("Once")
    rows = db.session.execute(
        sa.select(
            User.name,
            Department.name.label("department"),
            Department.kind,
            Assignment.repeat,
            Enrolment.period_start,
            Enrolment.due_on,
            Enrolment.completed_at,
        )
        .select_from(Enrolment)
        .join(Assignment, Enrolment.assignment_id == Assignment.id)
        .join(User, Enrolment.user_id == User.id)
        .join(Department, User.department_id == Department.id)
        .where(Assignment.module_id == module_id, still_assigned_sql(), User.is_active)
        .order_by(Department.name, User.name, User.id, Enrolment.period_start)
    )
    for row in rows:
        yield [
            row.name,
            row.department,
            row.kind.label,
            period_label(row.repeat, row.period_start) or once,
            format_date(row.due_on),
            format_date(row.completed_at),
            _status(row, today),
        ]


def _status(enrolment: HasDueDate, today: date) -> str:
    """A line's status in words, by the deadline rules (docs/product.md, "Training
    deadlines")."""
    if enrolment.completed_at is not None:
        return gettext("Done late") if was_late(enrolment) else gettext("Done")
    if is_overdue(enrolment, today):
        return gettext("Overdue")
    return gettext("Due soon") if is_due_soon(enrolment, today) else gettext("Not due yet")
