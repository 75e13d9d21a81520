"""What the API's training resources read and answer (api/training.py). A learner's answer
and draft appear only in their own enrolment: no schema here carries anyone else's
(docs/product.md, "Privacy of reflections")."""

from __future__ import annotations

from typing import Any

import marshmallow as ma

from serviceideas.api.paging import PageArgsSchema, page_schema
from serviceideas.api.text import Text
from serviceideas.submissions import TOKEN_MAX
from serviceideas.training.models import (
    BODY_MAX,
    PROMPT_MAX,
    SUMMARY_MAX,
    TITLE_MAX,
    Audience,
    ModuleKind,
    ModuleStatus,
    Repeat,
)
from serviceideas.training.queries import Standing
from serviceideas.urls import DATABASE_INT_MAX

COMPLETION_OUTCOMES = ("done", "kept_as_draft", "withdrawn")


def _enum(
    kind: type[ModuleKind | ModuleStatus | Repeat | Audience | Standing],
) -> ma.fields.Enum[Any]:
    """Dumped by value: the document lists each enum's values, as sent."""
    return ma.fields.Enum(kind, by_value=True, required=True)


# A learner's own training


class EnrolmentModuleSchema(ma.Schema):
    """The module an enrolment is for, as a list shows it."""

    id = ma.fields.Integer(required=True)
    title = Text(required=True)
    summary = Text(required=True)
    kind = _enum(ModuleKind)
    minutes = ma.fields.Integer(required=True)


class EnrolmentSchema(ma.Schema):
    """One line of my training."""

    id = ma.fields.Integer(required=True)
    module = ma.fields.Nested(EnrolmentModuleSchema, required=True)
    state = ma.fields.Enum(
        Standing,
        by_value=True,
        required=True,
        metadata={
            "description": "overdue, due soon (today or within 7 days), later, done, or "
            "withdrawn (while I had a draft of it: kept for me)"
        },
    )
    due_on = ma.fields.Date(required=True)
    period_start = ma.fields.Date(required=True)
    period = Text(
        required=True,
        allow_none=True,
        metadata={"description": "'October 2026' or 'Q4 2026' for a repeating assignment"},
    )
    repeat = _enum(Repeat)
    completed_at = ma.fields.DateTime(required=True, allow_none=True)
    late = ma.fields.Boolean(required=True, metadata={"description": "Done after its due date"})
    has_draft = ma.fields.Boolean(required=True)
    feedback_by = Text(
        required=True,
        allow_none=True,
        metadata={"description": "The trainer who answered my reflection, if one has"},
    )


EnrolmentPageSchema = page_schema(EnrolmentSchema, "EnrolmentPage")


class TrainingProgressSchema(ma.Schema):
    """How far I am with my training, as My training's progress bar counts it (withdrawn
    training is outside the figures)."""

    total = ma.fields.Integer(required=True)
    done = ma.fields.Integer(required=True)
    overdue = ma.fields.Integer(required=True)
    due_soon = ma.fields.Integer(required=True)
    later = ma.fields.Integer(required=True)
    percent_done = ma.fields.Integer(required=True)


class EnrolmentModuleTextSchema(EnrolmentModuleSchema):
    """The module as the learner reads it."""

    body = Text(required=True, metadata={"description": "Markdown"})
    prompt = Text(
        required=True, allow_none=True, metadata={"description": "What the answer responds to"}
    )
    needs_answer = ma.fields.Boolean(
        required=True, metadata={"description": "Reflections and activities need one"}
    )
    version = ma.fields.Integer(
        required=True,
        metadata={"description": "Send it back as module_version with the answer"},
    )


class AnswerDraftSchema(ma.Schema):
    """My unsubmitted answer: only I read it."""

    text = Text(required=True)
    module_version = ma.fields.Integer(required=True)
    saved_at = ma.fields.DateTime(required=True)


class MyReflectionSchema(ma.Schema):
    """What I wrote to complete it, and a trainer's answer."""

    text = Text(required=True)
    written_at = ma.fields.DateTime(required=True)
    feedback = Text(required=True, allow_none=True)
    feedback_by = Text(required=True, allow_none=True)
    feedback_at = ma.fields.DateTime(required=True, allow_none=True)


class ChangedLineSchema(ma.Schema):
    mark = Text(
        required=True,
        validate=ma.validate.OneOf(["+", "-", " ", "…"]),
        metadata={"description": "+ added, - removed, space unchanged, … lines left out"},
    )
    text = Text(required=True)


class ModuleChangesSchema(ma.Schema):
    """How the module differs now from the version I answered (or wrote my draft against)."""

    since = ma.fields.Integer(required=True)
    now = ma.fields.Integer(required=True)
    body = ma.fields.List(
        ma.fields.Nested(ChangedLineSchema),
        required=True,
        allow_none=True,
        metadata={"description": "null: that version's text was not kept"},
    )
    prompt_before = Text(required=True, allow_none=True)
    prompt_now = Text(required=True, allow_none=True)


class EnrolmentDetailSchema(ma.Schema):
    """One of my enrolments, with the module to read, my draft, and my answer."""

    id = ma.fields.Integer(required=True)
    module = ma.fields.Nested(EnrolmentModuleTextSchema, required=True)
    state = ma.fields.Enum(Standing, by_value=True, required=True)
    due_on = ma.fields.Date(required=True)
    period_start = ma.fields.Date(required=True)
    period = Text(required=True, allow_none=True)
    completed_at = ma.fields.DateTime(required=True, allow_none=True)
    completed_version = ma.fields.Integer(required=True, allow_none=True)
    late = ma.fields.Boolean(required=True)
    draft = ma.fields.Nested(AnswerDraftSchema, required=True, allow_none=True)
    reflection = ma.fields.Nested(MyReflectionSchema, required=True, allow_none=True)
    changes = ma.fields.Nested(ModuleChangesSchema, required=True, allow_none=True)


class AnswerRequestSchema(ma.Schema):
    """An answer to submit, or to keep as a draft."""

    answer = Text(
        load_default=None,
        allow_none=True,
        metadata={"description": "50 to 10,000 characters for a reflection or activity"},
    )
    module_version = ma.fields.Integer(
        load_default=None,
        allow_none=True,
        strict=True,
        metadata={"description": "The module version read (module.version); else the current"},
    )


class CompletionSchema(ma.Schema):
    """What became of a submitted answer: done, or, for training withdrawn meanwhile, kept as
    my draft (or nothing to keep)."""

    outcome = Text(required=True, validate=ma.validate.OneOf(COMPLETION_OUTCOMES))
    enrolment = ma.fields.Nested(EnrolmentDetailSchema, required=True)


# Trainers: modules and assignments


class ModuleListArgsSchema(PageArgsSchema):
    status = ma.fields.Enum(ModuleStatus, by_value=True, load_default=None)


class ModuleSchema(ma.Schema):
    """A training module, for trainers."""

    id = ma.fields.Integer(required=True)
    title = Text(required=True)
    summary = Text(required=True)
    kind = _enum(ModuleKind)
    status = _enum(ModuleStatus)
    minutes = ma.fields.Integer(required=True)
    version = ma.fields.Integer(required=True)
    author = Text(required=True, metadata={"description": "Who wrote it"})
    language = Text(
        required=True,
        allow_none=True,
        metadata={"description": "The language it is written in (a code, as de), if said"},
    )
    created_at = ma.fields.DateTime(required=True)
    updated_at = ma.fields.DateTime(required=True)
    published_at = ma.fields.DateTime(required=True, allow_none=True)
    active_assignments = ma.fields.Integer(
        required=True, metadata={"description": "Assignments not withdrawn"}
    )


ModulePageSchema = page_schema(ModuleSchema, "ModulePage")


class ModuleDetailSchema(ModuleSchema):
    body = Text(required=True, metadata={"description": "Markdown"})
    prompt = Text(required=True, allow_none=True)
    revision = ma.fields.Integer(
        required=True,
        metadata={"description": "Raised by every save: send it back with a change"},
    )


def _text(maximum: int, **kwargs: Any) -> Text:
    return Text(validate=[ma.validate.Length(max=maximum)], **kwargs)


class NewModuleSchema(ma.Schema):
    """A module, as the new-module form takes it: it starts as a draft."""

    title = _text(TITLE_MAX, required=True)
    summary = _text(SUMMARY_MAX, required=True)
    body = _text(BODY_MAX, required=True, metadata={"description": "Markdown"})
    kind = ma.fields.Enum(ModuleKind, by_value=True, required=True)
    prompt = _text(
        PROMPT_MAX,
        load_default=None,
        allow_none=True,
        metadata={"description": "Needed for a reflection or activity"},
    )
    minutes = ma.fields.Integer(required=True, strict=True, metadata={"description": "1 to 600"})
    language = _text(
        16,
        load_default=None,
        allow_none=True,
        metadata={"description": "One of the languages the app speaks (en, de, es), or null"},
    )


class ModuleChangeSchema(ma.Schema):
    """A change to a module: what is left out stays as it is. `revision` is the module's
    revision the change was made from: a save by someone else since is a 409."""

    revision = ma.fields.Integer(required=True, strict=True)
    title = _text(TITLE_MAX)
    summary = _text(SUMMARY_MAX)
    body = _text(BODY_MAX, metadata={"description": "Markdown"})
    kind = ma.fields.Enum(ModuleKind, by_value=True)
    prompt = _text(PROMPT_MAX, allow_none=True)
    minutes = ma.fields.Integer(strict=True)
    language = _text(16, allow_none=True, metadata={"description": "null: not said"})


class AssignedDepartmentSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    name = Text(required=True)


class AssignedPersonSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    name = Text(required=True)


class AssignmentSchema(ma.Schema):
    """A module given to an audience, with how many are enrolled and done."""

    id = ma.fields.Integer(required=True)
    module_id = ma.fields.Integer(required=True)
    audience = _enum(Audience)
    departments = ma.fields.List(ma.fields.Nested(AssignedDepartmentSchema), required=True)
    people = ma.fields.List(ma.fields.Nested(AssignedPersonSchema), required=True)
    due_on = ma.fields.Date(required=True, allow_none=True)
    due_days = ma.fields.Integer(required=True, allow_none=True)
    repeat = _enum(Repeat)
    starts_on = ma.fields.Date(required=True)
    created_at = ma.fields.DateTime(required=True)
    withdrawn_at = ma.fields.DateTime(required=True, allow_none=True)
    enrolled = ma.fields.Integer(required=True)
    completed = ma.fields.Integer(required=True)


AssignmentPageSchema = page_schema(AssignmentSchema, "AssignmentPage")


class AssignmentRequestSchema(ma.Schema):
    """An assignment, as the assign page takes it: who (departments by id, people by e-mail),
    and due either on a date (today or later) or a number of days after each enrolment."""

    audience = ma.fields.Enum(
        Audience,
        by_value=True,
        required=True,
        # Stays English, as marshmallow's own messages do: marshmallow reads a message that
        # is not a str as a list of messages.
        error_messages={"required": "Choose who this is for."},
    )
    departments = ma.fields.List(
        ma.fields.Integer(strict=True, validate=ma.validate.Range(min=1, max=DATABASE_INT_MAX)),
        load_default=list,
        validate=ma.validate.Length(max=1000),
    )
    people = ma.fields.List(
        Text(validate=[ma.validate.Length(max=254)]),
        load_default=list,
        validate=ma.validate.Length(max=1000),
        metadata={"description": "E-mail addresses"},
    )
    due_on = ma.fields.Date(load_default=None, allow_none=True)
    due_days = ma.fields.Integer(load_default=None, allow_none=True, strict=True)
    repeat = ma.fields.Enum(Repeat, by_value=True, load_default=Repeat.NONE)
    submission_token = Text(
        load_default=None,
        allow_none=True,
        validate=[ma.validate.Length(min=1, max=TOKEN_MAX)],
        metadata={"description": "Sent again with the same token, it assigns once"},
    )
