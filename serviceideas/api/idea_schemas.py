"""How the API shows ideas and reads them (docs/product.md, "Resources"): marshmallow schemas,
named uniquely in the OpenAPI document, and the functions that turn what ideas/queries.py
reads into what those schemas dump.

Who wrote an idea is shown as the idea page shows it (docs/product.md, "Speaking up safely"):
to a viewer who may not see an author who hid their name, the author, and anyone who is that
author on the idea (its owner, a step of its history, a progress note), is
`{"id": null, "name": "Name not shown"}`. Lists take that from the list's own query
(queries.IdeaCard); one idea asks policies.can_see_author.
"""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask_babel import lazy_gettext

from serviceideas.api.paging import PageArgsSchema, page_schema
from serviceideas.api.text import Text, not_blank
from serviceideas.ideas.models import (
    COMMENT_MAX,
    TEXT_MAX,
    TITLE_MAX,
    Compass,
    Idea,
    Lens,
    ProgressNote,
    Status,
    StatusChange,
)
from serviceideas.ideas.policies import HIDDEN_NAME, can_see_author
from serviceideas.ideas.queries import EXTERNAL, CommentItem, IdeaCard, IdeaStory, Sort
from serviceideas.people.models import DepartmentKind, User
from serviceideas.submissions import TOKEN_MAX
from serviceideas.urls import DATABASE_INT_MAX

# The sorts the ideas page offers (the review queue's oldest-first is not one of them).
LIST_SORTS = (Sort.VOTES, Sort.NEWEST, Sort.WAITING, Sort.BEST_MATCH)
SEARCH_MAX = 200  # as the ideas page's search box
IDEMPOTENCY_KEY = "Idempotency-Key"


def _id_parameter(description: str | None = None) -> ma.fields.Integer:
    """A query parameter naming a row: an id the database can hold (a larger one would fail
    there, not here)."""
    return ma.fields.Integer(
        load_default=None,
        allow_none=False,
        validate=ma.validate.Range(min=1, max=DATABASE_INT_MAX),
        metadata={"description": description} if description else {},
    )


# What the API answers


class ShownPersonSchema(ma.Schema):
    """A person as the viewer may see them on an idea: id null and name "Name not shown" for
    an author who hid their name from this viewer."""

    id = ma.fields.Integer(required=True, allow_none=True)
    name = Text(required=True, metadata={"example": "Ada Lovelace"})


class IdeaDepartmentSchema(ma.Schema):
    """The author's department when the idea was submitted: it counts for it, and is shown
    even when the author's name is not."""

    name = Text(required=True)
    kind = ma.fields.Enum(DepartmentKind, by_value=True, required=True)


class IdeaSummarySchema(ma.Schema):
    """An idea in a list, as a card on the ideas page shows it."""

    id = ma.fields.Integer(required=True)
    title = Text(required=True)
    status = ma.fields.Enum(Status, by_value=True, required=True)
    lens = ma.fields.Enum(Lens, by_value=True, required=True)
    problem_start = Text(
        required=True, metadata={"description": "The first 240 characters of the problem."}
    )
    vote_count = ma.fields.Integer(required=True)
    comment_count = ma.fields.Integer(required=True)
    voted = ma.fields.Boolean(required=True, metadata={"description": "By the caller."})
    created_at = ma.fields.DateTime(required=True)
    status_changed_at = ma.fields.DateTime(required=True)
    author = ma.fields.Nested(ShownPersonSchema, required=True)
    department = ma.fields.Nested(IdeaDepartmentSchema, required=True)
    beneficiary = Text(
        required=True,
        allow_none=True,
        metadata={"description": "The department it helps; null: external customers."},
    )


IdeaPageSchema = page_schema(IdeaSummarySchema, "IdeaPage")


class IdeaRefSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    title = Text(required=True)


class JourneyStageRefSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    name = Text(required=True)
    retired = ma.fields.Boolean(required=True)


class StatusChangeEntrySchema(ma.Schema):
    """A step of an idea's history: who moved it from where to where, and why."""

    id = ma.fields.Integer(required=True)
    at = ma.fields.DateTime(required=True)
    by = ma.fields.Nested(ShownPersonSchema, required=True)
    from_status = ma.fields.Enum(
        Status,
        by_value=True,
        required=True,
        allow_none=True,
        metadata={"description": "null for the submission"},
    )
    to_status = ma.fields.Enum(Status, by_value=True, required=True)
    fast_track = ma.fields.Boolean(
        required=True, metadata={"description": "Put into practice directly."}
    )
    note = Text(required=True)


class ProgressNoteEntrySchema(ma.Schema):
    """The owner's (or a manager's) word on the work."""

    id = ma.fields.Integer(required=True)
    at = ma.fields.DateTime(required=True)
    by = ma.fields.Nested(ShownPersonSchema, required=True)
    note = Text(required=True)


class IdeaSchema(ma.Schema):
    """One idea with its history, as its page shows it. Its comments are at
    /ideas/{idea_id}/comments."""

    id = ma.fields.Integer(required=True)
    title = Text(required=True)
    problem = Text(required=True)
    proposal = Text(required=True)
    status = ma.fields.Enum(Status, by_value=True, required=True)
    lens = ma.fields.Enum(Lens, by_value=True, required=True)
    compass = ma.fields.Enum(Compass, by_value=True, required=True, allow_none=True)
    journey_stage = ma.fields.Nested(JourneyStageRefSchema, required=True, allow_none=True)
    created_at = ma.fields.DateTime(required=True)
    status_changed_at = ma.fields.DateTime(required=True)
    author = ma.fields.Nested(ShownPersonSchema, required=True)
    name_hidden = ma.fields.Boolean(
        required=True, metadata={"description": "The author hid their name from colleagues."}
    )
    department = ma.fields.Nested(IdeaDepartmentSchema, required=True)
    beneficiary = Text(
        required=True,
        allow_none=True,
        metadata={"description": "The department it helps; null: external customers."},
    )
    owner = ma.fields.Nested(ShownPersonSchema, required=True, allow_none=True)
    next_step = Text(required=True, allow_none=True)
    target_date = ma.fields.Date(required=True, allow_none=True)
    implemented_on = ma.fields.Date(required=True, allow_none=True)
    implementation_note = Text(required=True, allow_none=True)
    merged_into = ma.fields.Nested(IdeaRefSchema, required=True, allow_none=True)
    merged_here = ma.fields.List(ma.fields.Nested(IdeaRefSchema), required=True)
    started_in_module = Text(
        required=True,
        allow_none=True,
        metadata={"description": "The training module it was started in, if any."},
    )
    vote_count = ma.fields.Integer(required=True)
    comment_count = ma.fields.Integer(required=True)
    voted = ma.fields.Boolean(required=True, metadata={"description": "By the caller."})
    following = ma.fields.Boolean(required=True, metadata={"description": "By the caller."})
    history = ma.fields.List(
        ma.fields.Nested(StatusChangeEntrySchema),
        required=True,
        metadata={"description": "Status changes, oldest first."},
    )
    progress = ma.fields.List(
        ma.fields.Nested(ProgressNoteEntrySchema),
        required=True,
        metadata={"description": "Progress notes, oldest first."},
    )


class CommentSchema(ma.Schema):
    """A comment. Comments are always named. A removed one keeps its place without its text."""

    id = ma.fields.Integer(required=True)
    author = ma.fields.Nested(ShownPersonSchema, required=True)
    department = Text(required=True)
    body = Text(required=True, allow_none=True, metadata={"description": "null: removed"})
    created_at = ma.fields.DateTime(required=True)
    edited_at = ma.fields.DateTime(required=True, allow_none=True)
    removed_at = ma.fields.DateTime(required=True, allow_none=True)
    removed_by = Text(
        required=True,
        allow_none=True,
        validate=ma.validate.OneOf(["author", "manager"]),
        metadata={"description": "Who removed it; null while it stands."},
    )


CommentListSchema = page_schema(CommentSchema, "CommentList")


class VoteStateSchema(ma.Schema):
    voted = ma.fields.Boolean(required=True, metadata={"description": "The caller's vote stands."})
    vote_count = ma.fields.Integer(required=True)


# What the API reads


class IdeaListArgsSchema(PageArgsSchema):
    """The ideas page's filters and sorts."""

    status = ma.fields.Enum(Status, by_value=True, load_default=None, allow_none=False)
    lens = ma.fields.Enum(Lens, by_value=True, load_default=None, allow_none=False)
    department_id = _id_parameter(description="The author's department when they submitted it.")
    kind = ma.fields.Enum(DepartmentKind, by_value=True, load_default=None, allow_none=False)
    beneficiary = Text(
        load_default=None,
        allow_none=False,
        validate=ma.validate.Regexp(
            rf"^(?:{EXTERNAL}|[1-9][0-9]{{0,8}})$",
            # Translated when the refusal is sent: a lazy text, which marshmallow formats.
            error=lazy_gettext("Give 'external' or a department's id."),
        ),
        metadata={"description": "Who it helps: 'external' (customers) or a department's id."},
    )
    journey_stage_id = _id_parameter()
    compass = ma.fields.Enum(Compass, by_value=True, load_default=None, allow_none=False)
    author_id = _id_parameter(
        description="Ideas by this person that the caller may see are theirs."
    )
    open_only = ma.fields.Boolean(load_default=False)
    q = Text(
        load_default=None,
        allow_none=False,
        validate=ma.validate.Length(max=SEARCH_MAX),
        metadata={"description": "Words searched for in the title, problem and proposal."},
    )
    sort = Text(
        load_default=None,
        allow_none=False,
        validate=ma.validate.OneOf([sort.value for sort in LIST_SORTS]),
        metadata={
            "enum": [sort.value for sort in LIST_SORTS],
            "description": "votes unless told; best (best match) for a search.",
        },
    )


class NewIdeaSchema(ma.Schema):
    """An idea to submit: what the submit form asks."""

    title = Text(required=True, validate=[ma.validate.Length(max=TITLE_MAX), not_blank])
    problem = Text(
        required=True,
        validate=[ma.validate.Length(max=TEXT_MAX), not_blank],
        metadata={"description": "The problem, as the customer (or the colleague) lives it."},
    )
    proposal = Text(
        required=True,
        validate=[ma.validate.Length(max=TEXT_MAX), not_blank],
        metadata={"description": "What we could change."},
    )
    lens = ma.fields.Enum(Lens, by_value=True, required=True)
    beneficiary_department_id = ma.fields.Integer(
        strict=True,
        required=True,
        allow_none=True,
        validate=ma.validate.Range(min=1, max=DATABASE_INT_MAX),
        metadata={
            "description": "Who benefits: a department's id, or null for external customers."
        },
    )
    journey_stage_id = ma.fields.Integer(
        strict=True,
        load_default=None,
        allow_none=True,
        validate=ma.validate.Range(min=1, max=DATABASE_INT_MAX),
        metadata={"description": "A journey stage that is not retired, or null."},
    )
    compass = ma.fields.Enum(Compass, by_value=True, load_default=None, allow_none=True)
    name_hidden = ma.fields.Boolean(
        load_default=False, metadata={"description": "Don't show my name to colleagues."}
    )


class NewCommentSchema(ma.Schema):
    body = Text(required=True, validate=[ma.validate.Length(max=COMMENT_MAX), not_blank])


class IdempotencySchema(ma.Schema):
    """The header that makes sending the same request twice record it once."""

    idempotency_key = Text(
        data_key=IDEMPOTENCY_KEY,
        load_default=None,
        allow_none=False,
        validate=ma.validate.Length(min=1, max=TOKEN_MAX),
        metadata={
            "description": "Any unique text of yours (a UUID): the same key sent again with the"
            " same content records nothing new and answers with what the first recorded."
        },
    )


# From what queries.py reads to what the schemas dump


def summary_data(card: IdeaCard) -> dict[str, Any]:
    """A card of the list as the API shows it: the author as the list's query showed it."""
    return {
        "id": card.id,
        "title": card.title,
        "status": card.status,
        "lens": card.lens,
        "problem_start": card.problem_start,
        "vote_count": card.vote_count,
        "comment_count": card.comment_count,
        "voted": card.voted,
        "created_at": card.created_at,
        "status_changed_at": card.status_changed_at,
        "author": {"id": card.author_id, "name": card.author_name},
        "department": {"name": card.department_name, "kind": card.department_kind},
        "beneficiary": card.beneficiary_name,
    }


def _named(viewer: User, idea: Idea, person: User) -> dict[str, Any]:
    """Someone on `idea` as `viewer` may read them (as `name_on` says, but always in English:
    programs read it): the author who hid their name is "Name not shown", and without an id."""
    shown = person.id != idea.author_id or can_see_author(viewer, idea)
    return {
        "id": person.id if shown else None,
        "name": person.name if shown else HIDDEN_NAME,
    }


def _step(viewer: User, idea: Idea, change: StatusChange) -> dict[str, Any]:
    return {
        "id": change.id,
        "at": change.changed_at,
        "by": _named(viewer, idea, change.actor),
        "from_status": change.from_status,
        "to_status": change.to_status,
        "fast_track": change.is_fast_track,
        "note": change.note,
    }


def _progress(viewer: User, idea: Idea, note: ProgressNote) -> dict[str, Any]:
    return {
        "id": note.id,
        "at": note.created_at,
        "by": _named(viewer, idea, note.author),
        "note": note.body,
    }


def idea_data(story: IdeaStory) -> dict[str, Any]:
    """The idea of `story` (queries.idea_story) as its viewer may see it, for IdeaSchema."""
    idea, viewer = story.idea, story.viewer
    author_seen = can_see_author(viewer, idea)
    department = idea.author_department
    stage = idea.journey_stage
    return {
        "id": idea.id,
        "title": idea.title,
        "problem": idea.problem,
        "proposal": idea.proposal,
        "status": idea.status,
        "lens": idea.lens,
        "compass": idea.compass,
        "journey_stage": (
            {"id": stage.id, "name": stage.name, "retired": stage.is_retired} if stage else None
        ),
        "created_at": idea.created_at,
        "status_changed_at": idea.status_changed_at,
        "author": (
            {"id": idea.author_id, "name": idea.author.name}
            if author_seen
            else {"id": None, "name": HIDDEN_NAME}
        ),
        "name_hidden": idea.name_hidden,
        "department": {"name": department.name, "kind": department.kind},
        "beneficiary": (idea.beneficiary_department.name if idea.beneficiary_department else None),
        "owner": _named(viewer, idea, idea.owner) if idea.owner else None,
        "next_step": idea.next_step,
        "target_date": idea.target_date,
        "implemented_on": idea.implemented_on,
        "implementation_note": idea.implementation_note,
        "merged_into": (
            {"id": idea.merged_into.id, "title": idea.merged_into.title}
            if idea.merged_into
            else None
        ),
        "merged_here": [{"id": other.id, "title": other.title} for other in story.merged_here],
        "started_in_module": story.started_in_module,
        "vote_count": idea.vote_count,
        "comment_count": sum(1 for comment in story.comments if not comment.is_removed),
        "voted": story.voted,
        "following": story.following,
        "history": [_step(viewer, idea, change) for change in story.history],
        "progress": [_progress(viewer, idea, note) for note in story.progress],
    }


def comment_data(comment: CommentItem) -> dict[str, Any]:
    removed_by = None
    if comment.is_removed:
        removed_by = "author" if comment.removed_by_author else "manager"
    return {
        "id": comment.id,
        "author": {"id": comment.author_id, "name": comment.author_name},
        "department": comment.department_name,
        "body": None if comment.is_removed else comment.body,
        "created_at": comment.created_at,
        "edited_at": comment.edited_at,
        "removed_at": comment.removed_at,
        "removed_by": removed_by,
    }
