"""Reading the journey stages an admin keeps (docs/product.md, "Journey stages and the
compass"): in their order, with how many ideas name each."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from serviceideas.extensions import db
from serviceideas.forms import SelectChoice
from serviceideas.ideas.models import Idea, JourneyStage
from serviceideas.people.models import Department

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


@dataclass(frozen=True, slots=True)
class StageName:
    """A stage as a filter offers it (stage_forms.stage_choices): no more than it shows."""

    id: int
    name: str
    is_retired: bool


def departments_and_stages() -> tuple[list[SelectChoice], list[StageName]]:
    """Every department by name (as people.forms.department_choices gives them) and every
    stage in order, retired ones too: the idea list's filters, in one statement rather than
    two, a round trip saved on the busiest page."""
    departments = sa.select(
        sa.literal(0).label("list"),
        Department.id.label("id"),
        Department.name.label("name"),
        sa.literal(False).label("retired"),
        sa.literal(0).label("position"),
        Department.name.label("by_name"),
    )
    stages = sa.select(
        sa.literal(1),
        JourneyStage.id,
        JourneyStage.name,
        JourneyStage.retired_at.is_not(None),
        JourneyStage.position,
        sa.literal(""),
    )
    both = sa.union_all(departments, stages).subquery()
    rows = db.session.execute(
        sa.select(both.c.list, both.c.id, both.c.name, both.c.retired).order_by(
            both.c.list, both.c.position, both.c.by_name, both.c.id
        )
    )
    chosen: tuple[list[SelectChoice], list[StageName]] = ([], [])
    for row in rows:
        if row.list == 0:
            chosen[0].append(SelectChoice(row.id, row.name))
        else:
            chosen[1].append(StageName(row.id, row.name, bool(row.retired)))
    return chosen
