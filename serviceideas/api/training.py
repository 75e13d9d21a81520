"""The API's training (docs/product.md, "Resources"): my enrolments, reading one, answering
it or keeping a draft; for trainers, modules and their assignments.

The same queries, services and policies as the training pages. An enrolment, with its
draft and answer, is opened only by its learner (`can_work_on`): no endpoint gives a
reflection's text to anyone else, trainers included (docs/product.md, "Privacy of
reflections").
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from datetime import date
from http import HTTPStatus
from typing import Any, TypeVar

import marshmallow as ma
from flask import Response, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext

from serviceideas import refusals
from serviceideas.api import resource_blueprint
from serviceideas.api.auth import acting_user, requires
from serviceideas.api.models import Scope
from serviceideas.api.paging import (
    AFTER,
    BROKEN,
    PageArgsSchema,
    after_id,
    id_cursor,
    page_size,
    paged,
)
from serviceideas.api.problems import problem, refusal
from serviceideas.api.training_schemas import (
    AnswerDraftSchema,
    AnswerRequestSchema,
    AssignmentPageSchema,
    AssignmentRequestSchema,
    AssignmentSchema,
    CompletionSchema,
    EnrolmentDetailSchema,
    EnrolmentPageSchema,
    ModuleChangeSchema,
    ModuleDetailSchema,
    ModuleListArgsSchema,
    ModulePageSchema,
    NewModuleSchema,
    TrainingProgressSchema,
)
from serviceideas.database import utcnow
from serviceideas.errors import RuleViolation
from serviceideas.extensions import db
from serviceideas.people.models import User
from serviceideas.people.services import find_user
from serviceideas.training import queries, services
from serviceideas.training.models import AnswerDraft, Assignment, Audience, Enrolment, Module
from serviceideas.training.policies import can_train, can_work_on
from serviceideas.urls import DATABASE_INT_MAX, absolute
from serviceideas.writes import commit_or_refuse

blp = resource_blueprint("api_training", __name__, "training")

T = TypeVar("T")


def _today() -> date:
    return utcnow().date()


def _finish(action: Callable[[], T]) -> T | Response:
    """Commit what one service call did, or roll it back and answer its refusal (422)."""
    outcome = commit_or_refuse(action, flash_refusal=False)
    if outcome.refusal is not None:
        return refusal(outcome.refusal)
    return outcome.kept


# My training


def _due_cursor(item: queries.TrainingItem) -> str:
    raw = json.dumps([item.due_on.isoformat(), item.id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _after_due(cursor: str | None) -> tuple[date, int] | None:
    """The (due date, id) a `_due_cursor` carries; a cursor this app did not write is refused."""
    if cursor is None:
        return None
    try:
        due, last_id = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if type(last_id) is not int or not 1 <= last_id <= DATABASE_INT_MAX:
            raise ValueError(last_id)
        return date.fromisoformat(due), last_id
    except (ValueError, TypeError, binascii.Error):
        raise RuleViolation(str(BROKEN), AFTER) from None


def _enrolment_line(item: queries.TrainingItem, today: date) -> dict[str, Any]:
    return {
        "id": item.id,
        "module": {
            "id": item.module_id,
            "title": item.title,
            "summary": item.summary,
            "kind": item.kind,
            "minutes": item.minutes,
        },
        "state": queries.standing(item, today, withdrawn=item.withdrawn),
        "due_on": item.due_on,
        "period_start": item.period_start,
        "period": item.period_label,
        "repeat": item.repeat,
        "completed_at": item.completed_at,
        "late": item.was_late,
        "has_draft": item.has_draft,
        "feedback_by": item.feedback_by,
    }


@blp.route("/training/enrolments")
@requires(Scope.READ)
@blp.arguments(PageArgsSchema, location="query", unknown=ma.RAISE)
@blp.response(200, EnrolmentPageSchema)
def enrolments(args: dict[str, Any]) -> ResponseReturnValue:
    """My training, by due date: each module with its due date and where it stands (overdue,
    due soon, later, done, or withdrawn while I had a draft of it)."""
    try:
        after = _after_due(args.get(AFTER))
    except RuleViolation as error:
        return refusal(error)
    size = page_size(args)
    items = queries.my_training_page(acting_user(), after=after, limit=size + 1)
    cursor = _due_cursor(items[size - 1]) if len(items) > size else None
    today = _today()
    return paged([_enrolment_line(item, today) for item in items[:size]], cursor)


@blp.route("/training/progress")
@requires(Scope.READ)
@blp.response(200, TrainingProgressSchema)
def progress() -> ResponseReturnValue:
    """How far I am: My training's progress bar (withdrawn training is outside it)."""
    mine = queries.my_training(acting_user(), _today())
    return {
        "total": mine.total,
        "done": len(mine.done),
        "overdue": len(mine.overdue),
        "due_soon": len(mine.due_soon),
        "later": len(mine.later),
        "percent_done": mine.percent_done,
    }


def _my_enrolment(enrolment_id: int) -> Enrolment | Response:
    """The enrolment, when it is the caller's: only its learner opens it (404 when missing)."""
    enrolment = db.get_or_404(Enrolment, enrolment_id)
    if not can_work_on(acting_user(), enrolment):
        return problem(
            HTTPStatus.FORBIDDEN,
            gettext("This is someone else's training: only they can open it."),
        )
    return enrolment


def _draft(draft: AnswerDraft) -> dict[str, Any]:
    return {"text": draft.text, "module_version": draft.module_version, "saved_at": draft.saved_at}


def _enrolment_detail(enrolment: Enrolment) -> dict[str, Any]:
    """The enrolment as its learner's page shows it; only ever given to its learner."""
    module = enrolment.assignment.module
    draft = None if enrolment.is_done else queries.draft_of(enrolment)
    reflection = queries.reflection_on(enrolment) if enrolment.is_done else None
    since = enrolment.completed_version or (draft.module_version if draft else None)
    changes = queries.changes_since(module, since) if since else None
    return {
        "id": enrolment.id,
        "module": {
            "id": module.id,
            "title": module.title,
            "summary": module.summary,
            "kind": module.kind,
            "minutes": module.minutes,
            "body": module.body,
            "prompt": module.prompt,
            "needs_answer": module.kind.needs_answer,
            "version": module.version,
        },
        "state": queries.standing(enrolment, _today(), withdrawn=enrolment.is_withdrawn),
        "due_on": enrolment.due_on,
        "period_start": enrolment.period_start,
        "period": enrolment.period_label,
        "completed_at": enrolment.completed_at,
        "completed_version": enrolment.completed_version,
        "late": enrolment.was_late,
        "draft": _draft(draft) if draft else None,
        "reflection": None
        if reflection is None
        else {
            "text": reflection.text,
            "written_at": reflection.written_at,
            "feedback": reflection.feedback,
            "feedback_by": reflection.feedback_by.name if reflection.feedback_by else None,
            "feedback_at": reflection.feedback_at,
        },
        "changes": None
        if changes is None
        else {
            "since": changes.since,
            "now": changes.now,
            "body": None
            if changes.body is None
            else [{"mark": line.mark, "text": line.text} for line in changes.body],
            "prompt_before": changes.prompt_before,
            "prompt_now": changes.prompt_now,
        },
    }


@blp.route("/training/enrolments/<id:enrolment_id>")
@requires(Scope.READ)
@blp.response(200, EnrolmentDetailSchema)
def enrolment(enrolment_id: int) -> ResponseReturnValue:
    """One of my enrolments: the module to read (and its prompt), my draft, my answer and a
    trainer's feedback on it, and what changed in the module since the version I answered.
    Only its learner may open it."""
    found = _my_enrolment(enrolment_id)
    if isinstance(found, Response):
        return found
    return _enrolment_detail(found)


@blp.route("/training/enrolments/<id:enrolment_id>/completion", methods=["POST"])
@requires(Scope.WRITE)
@blp.arguments(AnswerRequestSchema)
@blp.response(200, CompletionSchema)
def complete(body: dict[str, Any], enrolment_id: int) -> ResponseReturnValue:
    """Complete it: a reading with no answer, a reflection or activity with a written answer
    (50 to 10,000 characters), recorded against `module_version`, the version read. Late work
    counts. Withdrawn meanwhile, a written answer is kept as my draft (`kept_as_draft`).
    Already done: 409."""
    found = _my_enrolment(enrolment_id)
    if isinstance(found, Response):
        return found
    learner = acting_user()
    page = url_for("training.enrolment", enrolment_id=found.id)
    if found.is_done:
        return problem(HTTPStatus.CONFLICT, gettext("You have already completed this."))

    def finish() -> services.Completion:
        completion = services.complete(
            learner, found, body["answer"], version=body["module_version"]
        )
        refusals.forget(learner.id, page)  # the refused copies of a private answer, if any
        return completion

    outcome = commit_or_refuse(finish, flash_refusal=False)
    if outcome.refusal is not None:
        db.session.refresh(found)  # completed in another request meanwhile: a conflict
        done = found.completed_at is not None
        status = HTTPStatus.CONFLICT if done else HTTPStatus.UNPROCESSABLE_ENTITY
        return refusal(outcome.refusal, status)
    kept = outcome.kept
    return {"outcome": kept.name.lower(), "enrolment": _enrolment_detail(found)}


@blp.route("/training/enrolments/<id:enrolment_id>/draft", methods=["PUT"])
@requires(Scope.WRITE)
@blp.arguments(AnswerRequestSchema)
@blp.response(200, AnswerDraftSchema)
def save_draft(body: dict[str, Any], enrolment_id: int) -> ResponseReturnValue:
    """Keep my unfinished answer (replacing my earlier draft): only I read it."""
    found = _my_enrolment(enrolment_id)
    if isinstance(found, Response):
        return found
    learner = acting_user()
    if found.is_done:
        return problem(HTTPStatus.CONFLICT, gettext("You have already completed this."))
    saved = _finish(
        lambda: services.save_draft(learner, found, body["answer"], version=body["module_version"])
    )
    if isinstance(saved, Response):
        return saved
    draft = queries.draft_of(found)
    assert draft is not None  # just saved
    return _draft(draft)


# Trainers: modules and assignments


def _not_a_trainer() -> Response | None:
    if can_train(acting_user()):
        return None
    return problem(HTTPStatus.FORBIDDEN, gettext("Only trainers see modules and assignments."))


def _module(module: Module, active_assignments: int) -> dict[str, Any]:
    return {
        "id": module.id,
        "title": module.title,
        "summary": module.summary,
        "kind": module.kind,
        "status": module.status,
        "minutes": module.minutes,
        "version": module.version,
        "author": module.author.name,
        "language": module.language,
        "created_at": module.created_at,
        "updated_at": module.updated_at,
        "published_at": module.published_at,
        "active_assignments": active_assignments,
    }


@blp.route("/training/modules")
@requires(Scope.READ)
@blp.arguments(ModuleListArgsSchema, location="query", unknown=ma.RAISE)
@blp.response(200, ModulePageSchema)
def modules(args: dict[str, Any]) -> ResponseReturnValue:
    """Every module (of a status, if asked), oldest first, with its assignments not
    withdrawn. Trainers only."""
    if (refused := _not_a_trainer()) is not None:
        return refused
    try:
        after = after_id(args.get(AFTER))
    except RuleViolation as error:
        return refusal(error)
    size = page_size(args)
    rows = queries.modules_page(after=after, limit=size + 1, status=args["status"])
    cursor = id_cursor(rows[size - 1][0].id) if len(rows) > size else None
    return paged([_module(module, count) for module, count in rows[:size]], cursor)


@blp.route("/training/modules/<id:module_id>")
@requires(Scope.READ)
@blp.response(200, ModuleDetailSchema)
def module(module_id: int) -> ResponseReturnValue:
    """A module with its text and prompt, as learners will read it. Trainers only."""
    if (refused := _not_a_trainer()) is not None:
        return refused
    return _module_detail(db.get_or_404(Module, module_id))


def _module_detail(module: Module) -> dict[str, Any]:
    return {
        **_module(module, queries.active_assignments_of(module)),
        "body": module.body,
        "prompt": module.prompt,
        "revision": module.revision,
    }


@blp.route("/training/modules", methods=["POST"])
@requires(Scope.WRITE)
@blp.arguments(NewModuleSchema)
@blp.response(201, ModuleDetailSchema)
def new_module(body: dict[str, Any]) -> ResponseReturnValue:
    """Write a module, as the new-module form does: it starts as a draft, seen only by
    trainers, until it is published. Trainers only."""
    if (refused := _not_a_trainer()) is not None:
        return refused
    author = acting_user()
    draft = services.ModuleDraft(
        title=body["title"],
        summary=body["summary"],
        body=body["body"],
        kind=body["kind"],
        prompt=body["prompt"],
        minutes=body["minutes"],
        language=body["language"],
    )
    made = _finish(lambda: services.create_module(author, draft))
    if isinstance(made, Response):
        return made
    return (
        _module_detail(made),
        201,
        {"Location": absolute(url_for("api_training.module", module_id=made.id))},
    )


@blp.route("/training/modules/<id:module_id>", methods=["PATCH"])
@requires(Scope.WRITE)
@blp.arguments(ModuleChangeSchema)
@blp.response(200, ModuleDetailSchema)
def change_module(body: dict[str, Any], module_id: int) -> ResponseReturnValue:
    """Change a module, as its edit form does: send the `revision` you read; a change someone
    else saved since is a 409 (read it again, then send yours). Changing what learners read or
    answer in a published module raises its version. Trainers only."""
    if (refused := _not_a_trainer()) is not None:
        return refused
    editor = acting_user()
    found = db.get_or_404(Module, module_id)
    draft = services.ModuleDraft(
        title=body.get("title", found.title),
        summary=body.get("summary", found.summary),
        body=body.get("body", found.body),
        kind=body.get("kind", found.kind),
        prompt=body.get("prompt", found.prompt),
        minutes=body.get("minutes", found.minutes),
        language=body.get("language", found.language),
    )
    outcome = commit_or_refuse(
        lambda: services.update_module(editor, found, draft, opened_at=body["revision"]),
        flash_refusal=False,
    )
    if outcome.refusal is not None:
        edited_meanwhile = outcome.refusal.field == "revision"
        return refusal(outcome.refusal, 409 if edited_meanwhile else 422)
    return _module_detail(found)


@blp.route("/training/modules/<id:module_id>/publication", methods=["POST"])
@requires(Scope.WRITE)
@blp.response(200, ModuleDetailSchema)
def publish_module(module_id: int) -> ResponseReturnValue:
    """Publish a module, so it can be assigned (409 when it already is). Trainers only."""
    return _module_step(module_id, services.publish)


@blp.route("/training/modules/<id:module_id>/archival", methods=["POST"])
@requires(Scope.WRITE)
@blp.response(200, ModuleDetailSchema)
def archive_module(module_id: int) -> ResponseReturnValue:
    """Archive a published module: no new assignments, existing enrolments stay (409 when it
    is not published). Trainers only."""
    return _module_step(module_id, services.archive)


def _module_step(module_id: int, step: Callable[[User, Module], None]) -> ResponseReturnValue:
    if (refused := _not_a_trainer()) is not None:
        return refused
    trainer = acting_user()
    found = db.get_or_404(Module, module_id)
    outcome = commit_or_refuse(lambda: step(trainer, found), flash_refusal=False)
    if outcome.refusal is not None:
        return refusal(outcome.refusal, HTTPStatus.CONFLICT)
    return _module_detail(found)


def _assignment(assignment: Assignment, enrolled: int, completed: int) -> dict[str, Any]:
    return {
        "id": assignment.id,
        "module_id": assignment.module_id,
        "audience": assignment.audience,
        "departments": [{"id": d.id, "name": d.name} for d in assignment.departments],
        "people": [{"id": person.id, "name": person.name} for person in assignment.people],
        "due_on": assignment.due_on,
        "due_days": assignment.due_days,
        "repeat": assignment.repeat,
        "starts_on": assignment.starts_on,
        "created_at": assignment.created_at,
        "withdrawn_at": assignment.withdrawn_at,
        "enrolled": enrolled,
        "completed": completed,
    }


@blp.route("/training/modules/<id:module_id>/assignments")
@requires(Scope.READ)
@blp.response(200, AssignmentPageSchema)
def assignments(module_id: int) -> ResponseReturnValue:
    """The module's assignments, active ones first, newest first, with how many people are
    enrolled and done: one page holds them all. Trainers only."""
    if (refused := _not_a_trainer()) is not None:
        return refused
    found = db.get_or_404(Module, module_id)
    rows = queries.assignments_with_progress(found.id)
    return paged([_assignment(row.assignment, row.enrolled, row.completed) for row in rows], None)


def _assignment_draft(body: dict[str, Any]) -> services.AssignmentDraft | Response:
    """The draft the request describes, or a 422 naming the departments or people unknown."""
    ids: list[int] = body["departments"]
    departments = queries.departments_by_id(sorted(set(ids)))
    missing = sorted(set(ids) - {department.id for department in departments})
    if missing:
        message = gettext("No department has these ids: %(ids)s.", ids=", ".join(map(str, missing)))
        return problem(422, message, errors={"departments": [message]})
    people: list[User] = []
    unknown: list[str] = []
    for email in body["people"]:
        person = find_user(email)
        if person is None:
            unknown.append(email)
        elif person not in people:
            people.append(person)
    if unknown and body["audience"] is Audience.PEOPLE:  # as the assign page: else unread
        message = gettext(
            "Nobody has these email addresses: %(emails)s.", emails=", ".join(unknown)
        )
        return problem(422, message, errors={"people": [message]})
    return services.AssignmentDraft(
        audience=body["audience"],
        departments=departments,
        people=people,
        due_on=body["due_on"],
        due_days=body["due_days"],
        repeat=body["repeat"],
        submission_token=body["submission_token"],
    )


# The assign page's "due_kind" (a date or a number of days) is two fields here.
DUE_FIELDS = {"due_kind": "due_days"}


@blp.route("/training/modules/<id:module_id>/assignments", methods=["POST"])
@requires(Scope.WRITE)
@blp.arguments(AssignmentRequestSchema)
@blp.response(201, AssignmentSchema)
def assign(body: dict[str, Any], module_id: int) -> ResponseReturnValue:
    """Assign a published module to everyone, all front-line or back-office teams, departments
    or named people, due on a date or a number of days after each enrolment, once or every
    month or quarter; everyone in the audience is enrolled now. The same `submission_token`
    sent again answers the first assignment. Trainers only."""
    if (refused := _not_a_trainer()) is not None:
        return refused
    found = db.get_or_404(Module, module_id)
    draft = _assignment_draft(body)
    if isinstance(draft, Response):
        return draft
    trainer = acting_user()
    outcome = commit_or_refuse(
        lambda: services.create_assignment(trainer, found, draft), flash_refusal=False
    )
    if outcome.refusal is not None:
        error = outcome.refusal
        field = DUE_FIELDS.get(error.field or "", error.field)
        return refusal(RuleViolation(error.message, field))
    return _assignment_with_progress(outcome.kept), 201


def _assignment_with_progress(assignment: Assignment) -> dict[str, Any]:
    rows = queries.assignments_with_progress(assignment.module_id)
    (row,) = (row for row in rows if row.assignment.id == assignment.id)
    return _assignment(row.assignment, row.enrolled, row.completed)


@blp.route("/training/assignments/<id:assignment_id>/withdrawal", methods=["POST"])
@requires(Scope.WRITE)
@blp.response(200, AssignmentSchema)
def withdraw(assignment_id: int) -> ResponseReturnValue:
    """Withdraw an assignment: unfinished work leaves people's lists, completed work and
    drafts stay with the people who wrote them (409 when it already was). Trainers only."""
    if (refused := _not_a_trainer()) is not None:
        return refused
    trainer = acting_user()
    found = db.get_or_404(Assignment, assignment_id)
    outcome = commit_or_refuse(lambda: services.withdraw(trainer, found), flash_refusal=False)
    if outcome.refusal is not None:
        return refusal(outcome.refusal, HTTPStatus.CONFLICT)
    return _assignment_with_progress(found)
