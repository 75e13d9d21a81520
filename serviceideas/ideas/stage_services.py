"""What admins do with the journey stages, and which stage an idea may name
(docs/product.md, "Journey stages and the compass"). Functions flush, never commit.

A stage that ideas name is retired, never deleted: the ideas' foreign key (RESTRICT) refuses
the delete, and that refusal is turned into one a person can read.
"""

from __future__ import annotations

import enum
import sqlite3
from datetime import datetime

import sqlalchemy as sa
from flask_babel import gettext, lazy_gettext, ngettext
from sqlalchemy.exc import IntegrityError

from serviceideas.database import utcnow
from serviceideas.errors import RuleViolation
from serviceideas.extensions import db
from serviceideas.ideas.models import STAGE_EXPLANATION_MAX, STAGE_NAME_MAX, JourneyStage
from serviceideas.ideas.stage_queries import IN_ORDER, ideas_naming, stage_named
from serviceideas.names import refused_if_taken, unique_name
from serviceideas.people.models import User
from serviceideas.people.policies import can_administer
from serviceideas.text import one_line

ONLY_ADMINS = lazy_gettext("Only admins keep the journey stages.")


def _check_admin(acting: User) -> None:
    if not can_administer(acting):
        raise RuleViolation(str(ONLY_ADMINS))


def _checked_name(name: str, stage: JourneyStage | None = None) -> str:
    return unique_name(
        name, noun="stage", max_length=STAGE_NAME_MAX, named=stage_named, current=stage
    )


def _checked_explanation(explanation: str) -> str:
    explanation = one_line(explanation)
    if not explanation:
        raise RuleViolation(
            gettext("Say in a sentence which moment of the customer's journey this is."),
            "explanation",
        )
    if len(explanation) > STAGE_EXPLANATION_MAX:
        raise RuleViolation(
            gettext(
                "Keep the explanation to %(maximum)d characters.", maximum=STAGE_EXPLANATION_MAX
            ),
            "explanation",
        )
    return explanation


def add_stage(
    acting: User, name: str, explanation: str, *, now: datetime | None = None
) -> JourneyStage:
    """A new stage, at the end of the journey."""
    _check_admin(acting)
    last = db.session.scalar(sa.select(sa.func.max(JourneyStage.position)))
    stage = JourneyStage(
        name=_checked_name(name),
        explanation=_checked_explanation(explanation),
        position=(last if last is not None else -1) + 1,
        created_at=now or utcnow(),
    )
    with refused_if_taken(gettext("There is already a stage with this name."), "name"):
        db.session.add(stage)
        db.session.flush()
    return stage


def edit_stage(acting: User, stage: JourneyStage, name: str, explanation: str) -> None:
    """A new name or explanation; the ideas that name the stage keep it."""
    _check_admin(acting)
    name, explanation = _checked_name(name, stage), _checked_explanation(explanation)
    with refused_if_taken(gettext("There is already a stage with this name."), "name"):
        stage.name = name
        stage.explanation = explanation
        db.session.flush()


class Direction(enum.StrEnum):
    UP = "up"  # earlier in the journey
    DOWN = "down"


def move_stage(acting: User, stage: JourneyStage, direction: Direction) -> None:
    """Swap `stage` with its neighbour (retired stages count: they keep their place). The
    stages are numbered afresh, so equal positions (added by hand, say) cannot stall a move.
    The first stage moved up, or the last down, stays where it is."""
    _check_admin(acting)
    stages = list(db.session.scalars(sa.select(JourneyStage).order_by(*IN_ORDER)))
    at = stages.index(stage)
    other = at - 1 if direction is Direction.UP else at + 1
    if 0 <= other < len(stages):
        stages[at], stages[other] = stages[other], stages[at]
    for position, each in enumerate(stages):
        each.position = position
    db.session.flush()


def retire_stage(acting: User, stage: JourneyStage, *, now: datetime | None = None) -> None:
    """No longer offered for new ideas; ideas that name it keep it, and lists still filter by
    it."""
    _check_admin(acting)
    if stage.retired_at is None:
        stage.retired_at = now or utcnow()
        db.session.flush()


def restore_stage(acting: User, stage: JourneyStage) -> None:
    """Offered for new ideas again, in its place."""
    _check_admin(acting)
    stage.retired_at = None
    db.session.flush()


def _names_a_missing_row(error: IntegrityError) -> bool:
    """Whether the database refused a write because a foreign key would point nowhere."""
    orig = error.orig
    if getattr(orig, "sqlstate", None) == "23503":  # psycopg: foreign_key_violation
        return True
    return isinstance(orig, sqlite3.IntegrityError) and str(orig).startswith(
        "FOREIGN KEY constraint failed"
    )


def in_use_refusal(count: int) -> RuleViolation:
    return RuleViolation(
        ngettext(
            "An idea names this stage, so it cannot be deleted: retire it instead. A retired "
            "stage is no longer offered for new ideas, and the ideas keep it.",
            "%(num)d ideas name this stage, so it cannot be deleted: retire it instead. A retired "
            "stage is no longer offered for new ideas, and the ideas keep it.",
            count,
        )
    )


def delete_stage(acting: User, stage: JourneyStage) -> None:
    """Delete a stage no idea names. One that ideas name is refused, and the database's
    foreign key refuses it too when an idea names it meanwhile."""
    _check_admin(acting)
    count = ideas_naming(stage)
    if count:
        raise in_use_refusal(count)
    try:
        with db.session.begin_nested():
            db.session.delete(stage)
            db.session.flush()
    except IntegrityError as error:
        if not _names_a_missing_row(error):
            raise
        raise in_use_refusal(1) from None


def offered_stage(stage_id: int | None, *, keeping: int | None = None) -> JourneyStage | None:
    """The stage an idea may be given: None for none, else an existing stage that is not
    retired, unless it is the one the idea has already (`keeping`): an idea keeps a stage
    retired since. Refused beside the form's `journey_stage` field otherwise."""
    if stage_id is None:
        return None
    stage = db.session.get(JourneyStage, stage_id)
    if stage is None:
        raise RuleViolation(
            gettext("There is no such stage: choose one from the list."), "journey_stage"
        )
    if stage.is_retired and stage.id != keeping:
        raise RuleViolation(
            gettext(
                "The stage %(name)s has been retired: choose another, or none.", name=stage.name
            ),
            "journey_stage",
        )
    return stage
