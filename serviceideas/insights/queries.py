"""Reads for the insights pages that list ideas rather than count them: "What changed", the
stories behind the dashboard's headline (docs/product.md, "What changed").

The set of ideas is the headline's own, `metrics.implemented_in(period)`, so the page counts
exactly what the dashboard counts.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext
from sqlalchemy.orm import aliased

from serviceideas.errors import RuleViolation
from serviceideas.extensions import db
from serviceideas.ideas.models import Idea, Lens, for_whom
from serviceideas.ideas.policies import author_shown_to, hidden_name
from serviceideas.insights.metrics import count_implemented, implemented_in
from serviceideas.insights.periods import Period
from serviceideas.people.models import Department, DepartmentKind, User
from serviceideas.people.policies import Someone
from serviceideas.training.models import Module, ModuleIdea


@dataclass(frozen=True, slots=True)
class Story:
    """One idea put into practice, as the page and its CSV tell it."""

    id: int
    title: str
    implemented_on: date
    implementation_note: str  # what changed and the value it added
    lens: Lens
    author_name: str  # hidden_name() for a viewer the author hid it from
    author_shown: bool  # whether the viewer may see who wrote it (can_see_author)
    author_active: bool
    team: str  # the author's department when submitting: the one the idea counts for
    team_kind: DepartmentKind
    owner_name: str | None  # hidden_name(), too, when the hidden author owns it
    beneficiary: str | None  # the internal team it was for; None: external customers
    module_title: str | None  # the training module it was started from, if any

    @property
    def beneficiary_label(self) -> str:
        return gettext("External customers") if self.beneficiary is None else self.beneficiary

    @property
    def for_whom(self) -> str:
        return for_whom(self.beneficiary)


@dataclass(frozen=True)
class StoryPage:
    stories: list[Story]
    total: int  # every idea put into practice in the period, as the dashboard counts them
    next_cursor: str | None  # where the next page starts; None on the last page


# Newest first: by implementation date, then by idea number, both descending. A cursor is the
# last story's pair, "2026-11-03.42".
CURSOR = re.compile(r"([0-9]{4}-[0-9]{2}-[0-9]{2})\.([0-9]{1,9})")


def _cursor(story: Story) -> str:
    return f"{story.implemented_on.isoformat()}.{story.id}"


def _after(cursor: str) -> sa.ColumnElement[bool]:
    found = CURSOR.fullmatch(cursor)
    try:
        if not found:
            raise ValueError(cursor)
        day, number = date.fromisoformat(found.group(1)), int(found.group(2))
    except ValueError:
        raise RuleViolation(
            gettext("That link to more stories is broken: start again from the first page."),
            "after",
        ) from None
    return sa.or_(Idea.implemented_on < day, sa.and_(Idea.implemented_on == day, Idea.id < number))


def _stories(period: Period, viewer: Someone) -> sa.Select[*tuple[Any, ...]]:
    """Every idea put into practice in the period, newest first, with one labelled column per
    Story field (one statement: the people, teams and module are joined, never loaded one by
    one). An author who hid their name from `viewer` is not named, nor shown as owner
    (docs/product.md, "Speaking up safely"); their team still is."""
    shown = author_shown_to(viewer)
    hidden = hidden_name()  # in the viewer's language
    author, owner = aliased(User), aliased(User)
    team, beneficiary = aliased(Department), aliased(Department)
    # An idea is linked to the module it was started from once; should two modules ever name
    # it, the first one's title is shown.
    module_title = (
        sa.select(Module.title)
        .join(ModuleIdea, ModuleIdea.module_id == Module.id)
        .where(ModuleIdea.idea_id == Idea.id)
        .order_by(Module.id)
        .limit(1)
        .scalar_subquery()
    )
    return (
        sa.select(
            Idea.id.label("id"),
            Idea.title.label("title"),
            Idea.implemented_on.label("implemented_on"),
            Idea.implementation_note.label("implementation_note"),
            Idea.lens.label("lens"),
            sa.case((shown, author.name), else_=hidden).label("author_name"),
            shown.label("author_shown"),
            sa.case((shown, author.is_active), else_=sa.true()).label("author_active"),
            team.name.label("team"),
            team.kind.label("team_kind"),
            sa.case(
                (
                    sa.or_(shown, Idea.owner_id.is_(None), Idea.owner_id != Idea.author_id),
                    owner.name,
                ),
                else_=hidden,
            ).label("owner_name"),
            beneficiary.name.label("beneficiary"),
            module_title.label("module_title"),
        )
        .select_from(Idea)
        .join(author, author.id == Idea.author_id)
        .join(team, team.id == Idea.author_department_id)
        .outerjoin(owner, owner.id == Idea.owner_id)
        .outerjoin(beneficiary, beneficiary.id == Idea.beneficiary_department_id)
        .where(implemented_in(period))
        .order_by(Idea.implemented_on.desc(), Idea.id.desc())
    )


def what_changed(
    period: Period, viewer: Someone, *, after: str | None = None, limit: int = 25
) -> StoryPage:
    """One page of the stories, as `viewer` may read them: `limit` of them after the cursor
    `after` (RuleViolation if it is not one this page wrote). Two queries, however many ideas
    there are."""
    query = _stories(period, viewer)
    if after:
        query = query.where(_after(after))
    rows = db.session.execute(query.limit(limit + 1)).all()
    stories = [Story(**row._mapping) for row in rows[:limit]]
    next_cursor = _cursor(stories[-1]) if len(rows) > limit else None
    return StoryPage(stories, count_implemented(period), next_cursor)


def every_story(period: Period, viewer: Someone) -> Iterator[Story]:
    """All the stories of the period as `viewer` may read them, newest first, for the
    download (one query)."""
    for row in db.session.execute(_stories(period, viewer)):
        yield Story(**row._mapping)
