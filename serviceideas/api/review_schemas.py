"""What the API's status changes, owners and progress notes take and answer (api/reviews.py),
as marshmallow schemas: the OpenAPI document is written from them (docs/product.md, "The
API", "Resources"). A step of the history, a person and a progress note are shown as one
idea shows them (api/idea_schemas.py)."""

from __future__ import annotations

import marshmallow as ma

from serviceideas.api.idea_schemas import ProgressNoteEntrySchema, ShownPersonSchema
from serviceideas.api.text import Text
from serviceideas.ideas.models import NEXT_STEP_MAX, NOTE_MAX, Status
from serviceideas.urls import DATABASE_INT_MAX

IDS = ma.validate.Range(min=1, max=DATABASE_INT_MAX)


class NewStatusChangeSchema(ma.Schema):
    """A manager's decision, as the review panel takes it (docs/product.md, "The pipeline")."""

    status = ma.fields.Enum(
        Status,
        by_value=True,
        required=True,
        metadata={"description": "Where the idea goes: one of the steps open from its status"},
    )
    note = Text(
        load_default="",
        validate=[ma.validate.Length(max=NOTE_MAX)],
        metadata={
            "description": "Shown in the history. Needed to decline (why) and for implemented"
            " (what changed and the value it added)."
        },
    )
    implemented_on = ma.fields.Date(
        load_default=None,
        allow_none=True,
        metadata={"description": "For implemented: the day it was put into practice"},
    )
    merge_into = ma.fields.Integer(
        load_default=None,
        allow_none=True,
        validate=IDS,
        metadata={"description": "For merged: the number of the open idea that stays"},
    )
    seen_change = ma.fields.Integer(
        load_default=None,
        allow_none=True,
        validate=ma.validate.Range(min=0, max=DATABASE_INT_MAX),
        metadata={
            "description": "The id of the last step of the history you saw (0: none). If the"
            " history has moved on since, nothing is changed and the answer is 409. Leave it"
            " out to decide on the idea as it stands."
        },
    )


class IdeaOwnerSchema(ma.Schema):
    """Who makes the idea happen."""

    idea_id = ma.fields.Integer(required=True)
    owner = ma.fields.Nested(
        ShownPersonSchema, required=True, allow_none=True, metadata={"description": "null: nobody"}
    )


class NewOwnerSchema(ma.Schema):
    person_id = ma.fields.Integer(
        required=True,
        allow_none=True,
        validate=IDS,
        metadata={"description": "An active person's id; null for nobody"},
    )
    seen_owner_id = ma.fields.Integer(
        allow_none=True,
        validate=IDS,
        metadata={
            "description": "The owner you saw (null: nobody). If someone changed the owner"
            " since, nothing is changed and the answer is 409. Leave it out to set the owner"
            " whoever it is now."
        },
    )


class IdeaProgressSchema(ma.Schema):
    """The idea's next step and target date as they stand, and the note just written."""

    idea_id = ma.fields.Integer(required=True)
    next_step = Text(required=True, allow_none=True)
    target_date = ma.fields.Date(required=True, allow_none=True)
    note = ma.fields.Nested(
        ProgressNoteEntrySchema,
        required=True,
        allow_none=True,
        metadata={"description": "null when no note was written"},
    )


class NewProgressNoteSchema(ma.Schema):
    """The owner's (or a manager's) word on the work. A field left out keeps what the idea
    has; null clears the next step or the target date."""

    next_step = Text(allow_none=True, validate=[ma.validate.Length(max=NEXT_STEP_MAX)])
    target_date = ma.fields.Date(allow_none=True)
    note = Text(
        load_default="",
        validate=[ma.validate.Length(max=NOTE_MAX)],
        metadata={"description": "Shown in the history"},
    )
