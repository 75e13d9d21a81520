"""Reading the journey stages an admin keeps (docs/product.md, "Journey stages and the
compass"): in their order, with how many ideas name each."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from serviceideas.extensions import db
from serviceideas.ideas.models import Idea, JourneyStage

IN_ORDER = (JourneyStage.position, JourneyStage.id)


@dataclass(frozen=True, slots=True)
class StageInUse:
    """A stage as the admin's list shows it: the stage, and how many ideas name it."""

    stage: JourneyStage
    idea_count: int


def stages_with_idea_counts() -> list[StageInUse]:
    """Every stage, retired ones too, in order, each with its ideas counted (one query)."""
    counted = (
        sa.select(Idea.journey_stage_id, sa.func.count(Idea.id).label("ideas"))
        .group_by(Idea.journey_stage_id)
        .subquery()
    )
    rows = db.session.execute(
        sa.select(JourneyStage, sa.func.coalesce(counted.c.ideas, 0))
        .outerjoin(counted, counted.c.journey_stage_id == JourneyStage.id)
        .order_by(*IN_ORDER)
    )
    return [StageInUse(stage, count) for stage, count in rows]


def stages_in_order(*, with_retired: bool) -> list[JourneyStage]:
    """The stages in order: those offered for an idea (`with_retired=False`), or all of them,
    as a filter of ideas offers (ideas keep a stage that was retired)."""
    query = sa.select(JourneyStage).order_by(*IN_ORDER)
    if not with_retired:
        query = query.where(JourneyStage.retired_at.is_(None))
    return list(db.session.scalars(query))


def stage_named(name: str) -> JourneyStage | None:
    """The stage with this name, whatever its case (names are told apart by people, who do
    not read "Paying" and "paying" as two stages)."""
    return db.session.scalar(
        sa.select(JourneyStage).where(sa.func.lower(JourneyStage.name) == name.lower())
    )


def ideas_naming(stage: JourneyStage) -> int:
    """How many ideas name `stage`."""
    return (
        db.session.scalar(
            sa.select(sa.func.count(Idea.id)).where(Idea.journey_stage_id == stage.id)
        )
        or 0
    )
