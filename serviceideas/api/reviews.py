"""The API's status changes, owners and progress notes (docs/product.md, "The API",
"Resources"): what the review panel of an idea's page does, through the same services and
policies. Managers (and admins) decide and name owners with a `review` token; the owner
records progress with a `write` token; anyone reads the history.
"""

from __future__ import annotations

from collections.abc import Callable
from http import HTTPStatus
from typing import Any, TypeVar

from flask import Response
from flask_babel import gettext

from serviceideas.api import paging, problems, resource_blueprint
from serviceideas.api.auth import acting_user, requires
from serviceideas.api.idea_schemas import StatusChangeEntrySchema
from serviceideas.api.idea_schemas import _named as shown_person
from serviceideas.api.idea_schemas import _progress as shown_note
from serviceideas.api.idea_schemas import _step as shown_step
from serviceideas.api.models import Scope
from serviceideas.api.review_schemas import (
    IdeaOwnerSchema,
    IdeaProgressSchema,
    NewOwnerSchema,
    NewProgressNoteSchema,
    NewStatusChangeSchema,
)
from serviceideas.errors import Refusals, RuleViolation
from serviceideas.extensions import db
from serviceideas.ideas import queries, services
from serviceideas.ideas.models import Idea, ProgressNote
from serviceideas.ideas.policies import can_record_progress
from serviceideas.people.models import User
from serviceideas.writes import commit_or_refuse

blp = resource_blueprint(
    "api_reviews",
    __name__,
    "Status changes and owners: managers move ideas through the pipeline and name who makes"
    " them happen; owners record progress.",
)

T = TypeVar("T")

# The services' fields, as the API's bodies name them.
FIELDS = {"to": "status", "owner": "person_id"}

# A step, a person and a progress note are shown as one idea shows them (api/idea_schemas.py):
# the history here is the idea's `history`, item for item.
StatusChangePage = paging.page_schema(StatusChangeEntrySchema, "StatusChangePage")


def _idea(idea_id: int) -> Idea:
    idea: Idea = db.get_or_404(Idea, idea_id)
    return idea


def _written(action: Callable[[], T]) -> T | Response:
    """Run one service call and commit it; a refusal is rolled back (nothing stored) and
    answered as a problem: 409 when someone else changed the idea first, else 422 with the
    message under the body's field it is about."""
    outcome = commit_or_refuse(action, flash_refusal=False)
    if outcome.refusal is None:
        return outcome.kept
    error = outcome.refusal
    status = (
        HTTPStatus.CONFLICT
        if isinstance(error, services.ChangedMeanwhile)
        else HTTPStatus.UNPROCESSABLE_ENTITY
    )
    return problems.refusal(_in_the_bodys_words(error), status)


def _in_the_bodys_words(error: RuleViolation) -> RuleViolation:
    """The refusal with its fields named as the request's body names them."""
    if isinstance(error, Refusals):
        return Refusals([_in_the_bodys_words(each) for each in error.each])
    field = FIELDS.get(error.field, error.field) if error.field else None
    return RuleViolation(error.message, field)


# Status changes


@blp.route("/ideas/<id:idea_id>/status-changes")
@requires(Scope.READ)
@blp.response(HTTPStatus.OK, StatusChangePage)
def status_changes(idea_id: int) -> Any:
    """The idea's history of status changes, oldest first, as its page shows it (every step
    on one page: an idea takes a handful)."""
    idea = _idea(idea_id)
    viewer = acting_user()
    steps = [shown_step(viewer, idea, change) for change in queries.status_history(idea.id)]
    return paging.paged(steps, None)


@blp.route("/ideas/<id:idea_id>/status-changes", methods=["POST"])
@requires(Scope.REVIEW)
@blp.arguments(NewStatusChangeSchema)
@blp.response(HTTPStatus.CREATED, StatusChangeEntrySchema)
@blp.alt_response(HTTPStatus.CONFLICT, response="CONFLICT")
def change_status(body: dict[str, Any], idea_id: int) -> Any:
    """Move the idea one step through the pipeline (docs/product.md, "The pipeline"), as the
    review panel does: the same steps, the same reasons asked for."""
    idea = _idea(idea_id)
    reviewer = acting_user()
    decision = services.Decision(
        to=body["status"],
        note=body["note"],
        implemented_on=body["implemented_on"],
        merge_into_number=body["merge_into"],
    )
    decided = _written(
        lambda: services.change_status(reviewer, idea, decision, seen_change=body["seen_change"])
    )
    if isinstance(decided, Response):
        return decided
    return shown_step(reviewer, idea, decided)


# Owners


def _owner(viewer: User, idea: Idea) -> dict[str, Any]:
    owner = idea.owner
    return {"idea_id": idea.id, "owner": shown_person(viewer, idea, owner) if owner else None}


@blp.route("/ideas/<id:idea_id>/owner")
@requires(Scope.READ)
@blp.response(HTTPStatus.OK, IdeaOwnerSchema)
def owner(idea_id: int) -> Any:
    """Who makes the idea happen, if anyone."""
    return _owner(acting_user(), _idea(idea_id))


@blp.route("/ideas/<id:idea_id>/owner", methods=["PUT"])
@requires(Scope.REVIEW)
@blp.arguments(NewOwnerSchema)
@blp.response(HTTPStatus.OK, IdeaOwnerSchema)
@blp.alt_response(HTTPStatus.CONFLICT, response="CONFLICT")
def set_owner(body: dict[str, Any], idea_id: int) -> Any:
    """Name who makes the idea happen (any active person), or nobody (null). A status
    decision meanwhile does not stop it; a change of owner since `seen_owner_id` does."""
    idea = _idea(idea_id)
    reviewer = acting_user()
    person_id = body["person_id"]
    chosen = db.session.get(User, person_id) if person_id is not None else None
    if person_id is not None and chosen is None:
        return problems.problem(
            HTTPStatus.UNPROCESSABLE_ENTITY,
            gettext("There is nobody with the id %(id)s.", id=person_id),
            errors={"person_id": [gettext("There is nobody with the id %(id)s.", id=person_id)]},
        )
    seen = body.get("seen_owner_id", services.Unchecked.UNCHECKED)
    done = _written(lambda: services.set_owner(reviewer, idea, chosen, seen_owner_id=seen))
    if isinstance(done, Response):
        return done
    return _owner(reviewer, idea)


@blp.route("/ideas/<id:idea_id>/owner", methods=["DELETE"])
@requires(Scope.REVIEW)
@blp.response(HTTPStatus.NO_CONTENT)
def clear_owner(idea_id: int) -> Any:
    """Leave the idea without an owner, whoever it was."""
    idea = _idea(idea_id)
    reviewer = acting_user()
    done = _written(lambda: services.set_owner(reviewer, idea, None))
    if isinstance(done, Response):
        return done
    return None


# Progress


def _progress(viewer: User, idea: Idea, note: ProgressNote | None) -> dict[str, Any]:
    return {
        "idea_id": idea.id,
        "next_step": idea.next_step,
        "target_date": idea.target_date,
        "note": shown_note(viewer, idea, note) if note else None,
    }


@blp.route("/ideas/<id:idea_id>/progress-notes", methods=["POST"])
@requires(Scope.WRITE)
@blp.arguments(NewProgressNoteSchema)
@blp.response(HTTPStatus.CREATED, IdeaProgressSchema)
def record_progress(body: dict[str, Any], idea_id: int) -> Any:
    """The owner (or a manager) sets the open idea's next step and target date, and adds a
    note to its history (docs/product.md, "The pipeline")."""
    idea = _idea(idea_id)
    actor = acting_user()
    if not can_record_progress(actor, idea):
        return problems.problem(
            HTTPStatus.FORBIDDEN,
            gettext("Only the idea's owner or a manager records its progress."),
        )
    progress = services.Progress(
        next_step=body.get("next_step", idea.next_step),
        target_date=body.get("target_date", idea.target_date),
        note=body["note"],
    )
    recorded = _written(lambda: services.record_progress(actor, idea, progress))
    if isinstance(recorded, Response):
        return recorded
    return _progress(actor, idea, recorded)
