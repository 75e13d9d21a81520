"""What can be done with training: write and publish modules, assign them, enrol people,
complete, and give feedback. Functions flush, never commit; `today`/`now` may be passed."""

from __future__ import annotations

import enum
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TypeVar

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from serviceideas.database import insert_ignoring_duplicates, utcnow, violates_unique
from serviceideas.errors import RuleViolation, required_text
from serviceideas.extensions import db
from serviceideas.people.models import Department, DepartmentKind, User
from serviceideas.training.models import (
    ANSWER_MAX,
    ANSWER_MIN,
    BODY_MAX,
    FEEDBACK_MAX,
    PROMPT_MAX,
    SUMMARY_MAX,
    TITLE_MAX,
    AnswerDraft,
    Assignment,
    Audience,
    Enrolment,
    Module,
    ModuleIdea,
    ModuleKind,
    ModuleStatus,
    ModuleVersion,
    Reflection,
    Repeat,
    assignment_departments,
    assignment_people,
)
from serviceideas.training.policies import can_read_reflections, can_train
from serviceideas.training.signals import completed, enrolled, feedback_given

# Someone enrolled after a fixed due date has passed gets this long instead.
LATE_JOINER_DAYS = 14


def _require_trainer(user: User) -> None:
    if not can_train(user):
        raise RuleViolation(gettext("Only trainers can do this."))


# Modules


@dataclass(frozen=True)
class ModuleDraft:
    """A module as a trainer typed it: missing text is refused here, beside its field."""

    title: str | None
    summary: str | None
    body: str | None
    kind: ModuleKind
    prompt: str | None
    minutes: int | None
    # The token of the form it came in (serviceideas/submissions.py), or None.
    submission_token: str | None = None
    # The language it is written in (a code of the LANGUAGES setting), or None: not said.
    language: str | None = None


def _apply(module: Module, draft: ModuleDraft) -> None:
    title = required_text(draft.title, "title", gettext("the title"), TITLE_MAX)
    module.title = " ".join(title.split())
    module.summary = required_text(draft.summary, "summary", gettext("the summary"), SUMMARY_MAX)
    module.body = required_text(draft.body, "body", gettext("the text"), BODY_MAX)
    module.kind = draft.kind
    if draft.kind.needs_answer:
        module.prompt = required_text(
            draft.prompt, "prompt", gettext("the prompt learners answer"), PROMPT_MAX
        )
    else:
        module.prompt = (draft.prompt or "").strip()[:PROMPT_MAX] or None
    if draft.minutes is None or not 1 <= draft.minutes <= 600:
        raise RuleViolation(gettext("Estimate between 1 and 600 minutes."), "minutes")
    module.minutes = draft.minutes
    module.language = module_language(draft.language)


def module_language(code: str | None) -> str | None:
    """A module's language as a trainer gave it: one of the LANGUAGES setting, or None for
    "not said" (also ""); anything else is refused, beside the `language` field."""
    if not code:
        return None
    if code not in current_app.config["LANGUAGES"]:
        raise RuleViolation(gettext("Choose one of the languages listed."), "language")
    return code


def create_module(author: User, draft: ModuleDraft) -> Module:
    """A new module, as a draft: nobody but trainers sees it until it is published.

    The same form sent twice (its `submission_token` already on a module of the author's,
    with the same title) answers that module: one "Save", one module.
    """
    _require_trainer(author)
    module = Module(author=author, status=ModuleStatus.DRAFT, version=1)
    _apply(module, draft)
    token = draft.submission_token

    def sent_before() -> Module | None:
        first = _sent_before(Module, Module.author_id == author.id, token)
        # Edited after going back and sent again: another module, recorded without the token.
        if first is not None and first.title != module.title:
            module.submission_token = None
            return None
        return first

    module.submission_token = token
    return _add_once(module, token, sent_before)


Made = TypeVar("Made", Module, Assignment)


def _sent_before(kind: type[Made], mine: sa.ColumnElement[bool], token: str | None) -> Made | None:
    """What the same person already made with the form carrying `token`, if anything."""
    if token is None:
        return None
    return db.session.scalar(sa.select(kind).where(mine, kind.submission_token == token))


def _add_once(record: Made, token: str | None, sent_before: Callable[[], Made | None]) -> Made:
    """Add `record` (not in the session yet) unless its form was sent before: then answer
    the first record. The unique constraint on (person, token) decides when both requests
    arrive at once."""
    if (first := sent_before()) is not None:
        return first
    try:
        with db.session.begin_nested():
            db.session.add(record)
            db.session.flush()
    except IntegrityError as error:
        if token is None or not violates_unique(error):
            raise
        if (first := sent_before()) is not None:  # the other request has committed
            return first
        raise  # not found after all: not this constraint, so a bug
    return record


def update_module(
    editor: User, module: Module, draft: ModuleDraft, *, opened_at: int | None = None
) -> None:
    """Edit a module. Changing what learners read or answer in a published module raises its
    version, so each completion says which text it was made against; the text it replaces
    is kept (`ModuleVersion`), for learners to see what changed.

    `opened_at` is the module's revision when the editor's form was shown: if anyone saved
    it since, the edit is refused (beside the `revision` field) rather than overwriting a
    colleague's change unseen.
    """
    _require_trainer(editor)
    title = module.title  # read now: a failed flush leaves nothing of the module to read
    if opened_at is not None and opened_at != module.revision:
        raise _edited_meanwhile(title)
    before = (module.version, module.body, module.prompt, module.kind)
    _apply(module, draft)
    new_version = module.status is not ModuleStatus.DRAFT and (
        (module.body, module.prompt, module.kind) != before[1:]
    )
    if new_version:
        module.version += 1
    try:
        # The module's UPDATE first: it names the revision it read, so a save racing this
        # one is refused here, before anything else is written.
        db.session.flush()
    except StaleDataError:  # saved by someone else between reading and writing it
        raise _edited_meanwhile(title) from None
    if new_version:
        version, body, prompt, _kind = before
        db.session.add(
            ModuleVersion(module_id=module.id, version=version, body=body, prompt=prompt)
        )
        db.session.flush()


def _edited_meanwhile(title: str) -> RuleViolation:
    return RuleViolation(
        gettext(
            "Someone else saved a change to %(title)s while you were editing it. Your text "
            "is kept below: compare it with what is saved now, then save again to replace it.",
            title=title,
        ),
        "revision",
    )


def publish(editor: User, module: Module, *, now: datetime | None = None) -> None:
    _require_trainer(editor)
    if module.status is ModuleStatus.PUBLISHED:
        raise RuleViolation(gettext("This module is already published."))
    module.status = ModuleStatus.PUBLISHED
    module.published_at = module.published_at or now or utcnow()
    db.session.flush()


def archive(editor: User, module: Module) -> None:
    """Stop assigning a module. Existing enrolments stay, so nobody's record changes."""
    _require_trainer(editor)
    if module.status is not ModuleStatus.PUBLISHED:
        raise RuleViolation(gettext("Only a published module can be archived."))
    module.status = ModuleStatus.ARCHIVED
    db.session.flush()


# Assignments and enrolment


@dataclass(frozen=True)
class AssignmentDraft:
    audience: Audience
    departments: list[Department] = field(default_factory=list)
    people: list[User] = field(default_factory=list)
    due_on: date | None = None
    due_days: int | None = None
    repeat: Repeat = Repeat.NONE
    # The token of the form it came in (serviceideas/submissions.py), or None.
    submission_token: str | None = None


def period_start(assignment: Assignment, today: date) -> date:
    """The first day of the period `today` falls in (the start, for a one-off assignment)."""
    if assignment.repeat is Repeat.MONTHLY:
        return today.replace(day=1)
    if assignment.repeat is Repeat.QUARTERLY:
        return date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    return assignment.starts_on


def due_date(assignment: Assignment, today: date) -> date:
    """When someone enrolled `today` is due."""
    if assignment.due_days is not None:
        return today + timedelta(days=assignment.due_days)
    assert assignment.due_on is not None
    return assignment.due_on if today <= assignment.due_on else today + timedelta(LATE_JOINER_DAYS)


def create_assignment(
    trainer: User, module: Module, draft: AssignmentDraft, *, today: date | None = None
) -> Assignment:
    """Assign a published module and enrol everyone in its audience now.

    The same form sent twice (its `submission_token` already on an assignment of the
    trainer's, for the same module and due dates) answers that assignment: one "Assign",
    one assignment, one round of enrolments and notices.
    """
    _require_trainer(trainer)
    today = today or utcnow().date()
    if module.status is not ModuleStatus.PUBLISHED:
        raise RuleViolation(gettext("Only a published module can be assigned. Publish it first."))
    if draft.audience is Audience.DEPARTMENTS and not draft.departments:
        raise RuleViolation(gettext("Choose at least one department."), "departments")
    if draft.audience is Audience.PEOPLE and not draft.people:
        raise RuleViolation(gettext("Name at least one person."), "people")
    if (draft.due_on is None) == (draft.due_days is None):
        raise RuleViolation(gettext("Give either a due date or a number of days."), "due_kind")
    if draft.due_on is not None and draft.due_on < today:
        raise RuleViolation(gettext("The due date has passed: choose today or later."), "due_on")
    if draft.due_days is not None and not 1 <= draft.due_days <= 365:
        raise RuleViolation(gettext("Give between 1 and 365 days."), "due_days")
    if draft.repeat is not Repeat.NONE and draft.due_days is None:
        raise RuleViolation(
            gettext("A repeating assignment is due a number of days after each enrolment."),
            "due_kind",
        )
    inactive = [person.name for person in draft.people if not person.is_active]
    if inactive:
        raise RuleViolation(gettext("Deactivated: %(names)s.", names=", ".join(inactive)), "people")

    assignment = Assignment(
        module=module,
        audience=draft.audience,
        due_on=draft.due_on,
        due_days=draft.due_days,
        repeat=draft.repeat,
        starts_on=today,
        assigned_by_id=trainer.id,
        departments=list(draft.departments) if draft.audience is Audience.DEPARTMENTS else [],
        people=list(draft.people) if draft.audience is Audience.PEOPLE else [],
        submission_token=draft.submission_token,
    )
    same = (module.id, draft.audience, draft.due_on, draft.due_days, draft.repeat)

    def sent_before() -> Assignment | None:
        first = _sent_before(
            Assignment, Assignment.assigned_by_id == trainer.id, draft.submission_token
        )
        if (
            first is not None
            and (
                first.module_id,
                first.audience,
                first.due_on,
                first.due_days,
                first.repeat,
            )
            != same
        ):
            # Changed after going back and sent again: another assignment, without the token.
            assignment.submission_token = None
            return None
        return first

    made = _add_once(assignment, draft.submission_token, sent_before)
    if made is assignment:
        enrol(assignment, today)
    return made


# The audiences that are every department of one kind, and that kind.
TEAMS_OF_KIND = {
    Audience.BACK_OFFICE: DepartmentKind.BACK_OFFICE,
    Audience.FRONT_LINE: DepartmentKind.FRONT_LINE,
}


def _audience(assignment: Assignment) -> sa.ColumnElement[bool]:
    """Which people the assignment is for, as a condition on User: read at the moment it is
    asked, so a department created later, or a person moved into one, is in it."""
    if assignment.audience is Audience.DEPARTMENTS:
        return User.department_id.in_(
            sa.select(assignment_departments.c.department_id).where(
                assignment_departments.c.assignment_id == assignment.id
            )
        )
    if assignment.audience is Audience.PEOPLE:
        return User.id.in_(
            sa.select(assignment_people.c.user_id).where(
                assignment_people.c.assignment_id == assignment.id
            )
        )
    if (kind := TEAMS_OF_KIND.get(assignment.audience)) is not None:
        return User.department_id.in_(sa.select(Department.id).where(Department.kind == kind))
    return sa.true()


def enrol(
    assignment: Assignment,
    today: date,
    *,
    only: Collection[int] | None = None,
    restoring: bool = True,
) -> int:
    """Enrol the audience (or just those of `only`, people's ids, who are in it) for the
    current period, in one statement.

    Safe to run any number of times, even at once: the unique constraint on (assignment,
    person, period) turns a second enrolment into nothing. Returns how many were added.
    """
    if assignment.withdrawn_at is not None or today < assignment.starts_on:
        return 0
    period = period_start(assignment, today)
    due_on = due_date(assignment, today)
    in_audience = sa.select(User.id).where(User.is_active, _audience(assignment))
    if only is not None:
        in_audience = in_audience.where(User.id.in_(only))
    # Back in the audience (moved back, say): what was withdrawn for them is theirs again,
    # due as for a joiner. (`restoring=False`: the caller knows nothing was withdrawn.)
    restored = 0
    if restoring:
        result = db.session.execute(
            sa.update(Enrolment)
            .where(
                Enrolment.assignment_id == assignment.id,
                Enrolment.period_start == period,
                Enrolment.withdrawn_at.is_not(None),
                Enrolment.user_id.in_(in_audience),
            )
            .values(withdrawn_at=None, enrolled_on=today, due_on=due_on)
            .execution_options(synchronize_session=False, preserve_rowcount=True)
        )
        assert isinstance(result, sa.CursorResult)  # an UPDATE's result: it has a row count
        restored = result.rowcount
    people = sa.select(
        sa.literal(assignment.id),
        User.id,
        sa.literal(period, sa.Date),
        sa.literal(today, sa.Date),
        sa.literal(due_on, sa.Date),
    ).where(User.is_active, _audience(assignment))
    if only is not None:
        people = people.where(User.id.in_(only))
    table = Enrolment.__table__
    assert isinstance(table, sa.Table)  # a mapped class's own table, not a join or subquery
    statement = insert_ignoring_duplicates(table, db.session.get_bind().dialect.name).from_select(
        ["assignment_id", "user_id", "period_start", "enrolled_on", "due_on"], people
    )
    # preserve_rowcount: SQLAlchemy only keeps the count of INSERTs when asked.
    result = db.session.execute(statement.execution_options(preserve_rowcount=True))
    assert isinstance(result, sa.CursorResult)  # an INSERT's result: it has a row count
    added: int = result.rowcount + restored
    if added:
        enrolled.send(assignment, today=today, only=None if only is None else tuple(only))
    return added


def active_assignments() -> sa.Select[Assignment]:
    return sa.select(Assignment).where(Assignment.withdrawn_at.is_(None))


def enrol_new_members(people: Sequence[User], *, today: date | None = None) -> int:
    """People joined a department (or the company): enrol them where their audience now
    includes them — three statements per assignment for any number of people (a staff
    import sends its batches). Runs on the people feature's `joined_department` signal."""
    if not people:
        return 0
    today = today or utcnow().date()
    departments = {person.department_id for person in people}
    kinds = {person.department.kind for person in people}
    for_them = active_assignments().where(
        sa.or_(
            Assignment.audience == Audience.EVERYONE,
            Assignment.audience.in_([a for a, kind in TEAMS_OF_KIND.items() if kind in kinds]),
            Assignment.id.in_(
                sa.select(assignment_departments.c.assignment_id).where(
                    assignment_departments.c.department_id.in_(departments)
                )
            ),
        )
    )
    ids = [person.id for person in people]
    # New people (a staff import's batch) have nothing withdrawn to give back: one question
    # saves an UPDATE per assignment.
    withdrawn = db.session.scalar(
        sa.select(
            sa.exists().where(Enrolment.user_id.in_(ids), Enrolment.withdrawn_at.is_not(None))
        )
    )
    return sum(
        enrol(a, today, only=ids, restoring=bool(withdrawn)) for a in db.session.scalars(for_them)
    )


def withdraw_uncovered(people: Sequence[User], *, now: datetime | None = None) -> int:
    """People moved department: their unfinished enrolments whose assignment no longer
    covers them are withdrawn for them (docs/product.md, "Assignments"). Finished work and
    its reflection stay as they are; so does a draft, which the person keeps reading on
    My training. One query for the assignments concerned, then one statement per
    assignment, whatever the number of people. Returns how many enrolments were withdrawn."""
    if not people:
        return 0
    now = now or utcnow()
    ids = [person.id for person in people]
    open_for_them = sa.and_(
        Enrolment.user_id.in_(ids),
        Enrolment.completed_at.is_(None),
        Enrolment.withdrawn_at.is_(None),
    )
    concerned = db.session.scalars(
        active_assignments().where(
            Assignment.id.in_(sa.select(Enrolment.assignment_id).where(open_for_them))
        )
    ).all()
    withdrawn = 0
    for assignment in concerned:
        result = db.session.execute(
            sa.update(Enrolment)
            .where(
                Enrolment.assignment_id == assignment.id,
                open_for_them,
                Enrolment.user_id.not_in(sa.select(User.id).where(_audience(assignment))),
            )
            .values(withdrawn_at=now)
            .execution_options(synchronize_session=False, preserve_rowcount=True)
        )
        assert isinstance(result, sa.CursorResult)  # an UPDATE's result: it has a row count
        withdrawn += result.rowcount
    return withdrawn


def enrol_current_periods(*, today: date | None = None) -> int:
    """Start the new period of every repeating assignment, and catch up anyone missed.

    Run daily by `flask --app wsgi enrol-training` (docs/product.md, "Assignments"); safe to
    run any number of times. Pages never call it: a GET writes nothing.
    """
    today = today or utcnow().date()
    return sum(enrol(a, today) for a in db.session.scalars(active_assignments()))


def withdraw(trainer: User, assignment: Assignment, *, now: datetime | None = None) -> None:
    """Stop an assignment. Unfinished enrolments leave people's lists; completed ones stay, and
    so do drafts, for their authors. The trainer confirms first, told how many people have it
    unfinished (`queries.withdrawal_stakes`)."""
    _require_trainer(trainer)
    if assignment.withdrawn_at is not None:
        raise RuleViolation(gettext("This assignment was already withdrawn."))
    assignment.withdrawn_at = now or utcnow()
    db.session.flush()


# Learning


class Completion(enum.Enum):
    """What became of a learner's "Submit": done, or, for training withdrawn while they
    wrote, their answer kept as a draft (nothing a person typed is thrown away)."""

    DONE = "done"
    KEPT_AS_DRAFT = "kept as draft"
    WITHDRAWN = "withdrawn"  # and nothing was written to keep


def shown_version(module: Module, version: int | None) -> int:
    """The version the learner's form was shown with, or the current one when the form did
    not say (a page opened before forms carried it) or said something impossible."""
    if version is not None and 1 <= version <= module.version:
        return version
    return module.version


def complete(
    learner: User,
    enrolment: Enrolment,
    answer: str | None,
    *,
    version: int | None = None,
    now: datetime | None = None,
) -> Completion:
    """Mark an enrolment done, against the module `version` the learner read (the one their
    form was shown with). Reflections and activities need the written answer.

    Late work is welcome: it is labelled late, never refused. If the assignment was withdrawn
    while they wrote, their answer is kept as a draft instead (`KEPT_AS_DRAFT`).
    """
    now = now or utcnow()
    if enrolment.user_id != learner.id:
        raise RuleViolation(gettext("You can only complete your own training."))
    module = enrolment.assignment.module
    version = shown_version(module, version)
    text = (answer or "").strip()
    if len(text) > ANSWER_MAX:
        raise RuleViolation(
            gettext("Keep it to %(maximum)d characters.", maximum=ANSWER_MAX), "answer"
        )
    if enrolment.is_withdrawn:
        if enrolment.completed_at is not None or not text:
            return Completion.WITHDRAWN
        _keep_draft(enrolment, text, version, now)
        return Completion.KEPT_AS_DRAFT
    if module.kind.needs_answer and len(text) < ANSWER_MIN:
        raise RuleViolation(
            gettext(
                "Write at least %(minimum)d characters: a few honest sentences are enough "
                "(you have %(length)d).",
                minimum=ANSWER_MIN,
                length=len(text),
            ),
            "answer",
        )
    # Conditional update: finishing twice at once records one completion.
    result = db.session.execute(
        sa.update(Enrolment)
        .where(Enrolment.id == enrolment.id, Enrolment.completed_at.is_(None))
        .values(completed_at=now, completed_version=version)
        .execution_options(synchronize_session=False)
    )
    assert isinstance(result, sa.CursorResult)  # an UPDATE's result: it has a row count
    if not result.rowcount:
        raise RuleViolation(gettext("You have already completed this."))
    # An answer is kept whenever one was written: also when the module stopped asking for
    # one (an edit made it a reading) while the learner wrote.
    if module.kind.needs_answer or text:
        db.session.add(Reflection(enrolment_id=enrolment.id, text=text, written_at=now))
    db.session.execute(sa.delete(AnswerDraft).where(AnswerDraft.enrolment_id == enrolment.id))
    db.session.flush()
    db.session.refresh(enrolment)
    completed.send(enrolment, learner=learner)
    return Completion.DONE


def save_draft(
    learner: User,
    enrolment: Enrolment,
    answer: str | None,
    *,
    version: int | None = None,
    now: datetime | None = None,
) -> None:
    """Keep an unfinished answer for its author, to finish later (replacing an older draft)."""
    if enrolment.user_id != learner.id:
        raise RuleViolation(gettext("You can only write your own answers."))
    if enrolment.completed_at is not None:
        raise RuleViolation(gettext("You have already completed this."))
    text = (answer or "").strip()
    if not text:
        raise RuleViolation(gettext("There is nothing to save yet."), "answer")
    if len(text) > ANSWER_MAX:
        raise RuleViolation(
            gettext("Keep it to %(maximum)d characters.", maximum=ANSWER_MAX), "answer"
        )
    version = shown_version(enrolment.assignment.module, version)
    _keep_draft(enrolment, text, version, now or utcnow())


def _keep_draft(enrolment: Enrolment, text: str, version: int, now: datetime) -> None:
    """Insert or replace the enrolment's draft. Two saves at once: the later one wins."""
    for _attempt in range(2):
        draft = db.session.get(AnswerDraft, enrolment.id)
        if draft is not None:
            draft.text, draft.module_version, draft.saved_at = text, version, now
            db.session.flush()
            return
        try:
            with db.session.begin_nested():
                db.session.add(
                    AnswerDraft(
                        enrolment_id=enrolment.id, text=text, module_version=version, saved_at=now
                    )
                )
            return
        except IntegrityError:  # another request saved the first draft just now
            continue
    raise RuleViolation(
        gettext("Your draft could not be saved just now. Please try again."), "answer"
    )


def give_feedback(
    trainer: User, reflection: Reflection, text: str | None, *, now: datetime | None = None
) -> None:
    """Written feedback the learner reads on their training page. May be revised."""
    if not can_read_reflections(trainer):
        raise RuleViolation(gettext("Only trainers read reflections and give feedback."))
    reflection.feedback = required_text(text, "feedback", gettext("your feedback"), FEEDBACK_MAX)
    reflection.feedback_by = trainer
    reflection.feedback_at = now or utcnow()
    db.session.flush()
    feedback_given.send(reflection)


def record_idea_from_module(user: User, module_id: int, idea_id: int) -> bool:
    """Link an idea to the module it grew from, if `user` completed that module."""
    completed = db.session.scalar(
        sa.select(sa.literal(True))
        .select_from(Enrolment)
        .join(Assignment)
        .where(
            Enrolment.user_id == user.id,
            Enrolment.completed_at.is_not(None),
            Assignment.module_id == module_id,
        )
        .limit(1)
    )
    if not completed:
        return False
    db.session.add(ModuleIdea(module_id=module_id, idea_id=idea_id, user_id=user.id))
    db.session.flush()
    return True
