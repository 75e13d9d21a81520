"""Reading ideas for pages: filtered, sorted lists in keyset pages, and one idea with its story.

Every read here runs a fixed number of queries whatever the data size: counts and
"voted by me" come back as columns of the same query, not as one query per idea.
"""

from __future__ import annotations

import base64
import binascii
import enum
import json
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache, lru_cache
from typing import Any

import sqlalchemy as sa

from serviceideas.database import contains_pattern, contains_text
from serviceideas.errors import RuleViolation
from serviceideas.extensions import db
from serviceideas.ideas.models import (
    OPEN_STATUSES,
    Comment,
    Idea,
    Lens,
    Removable,
    Stalled,
    Status,
    StatusChange,
    Vote,
)
from serviceideas.people.models import Department, DepartmentKind, User
from serviceideas.urls import DATABASE_INT_MAX

EXTERNAL = "external"
# Lists count their ideas up to a point and then say "more than". A text search reads each
# candidate's title, problem and proposal, so it stops counting sooner: counting 1,000
# matches cost more than showing the page, and grew with the company.
COUNT_UP_TO = 1000
SEARCH_COUNT_UP_TO = 200
PROBLEM_PREVIEW = 240


class Sort(enum.StrEnum):
    VOTES = "votes"
    NEWEST = "newest"
    WAITING = "waiting"  # open ideas whose status has stood still longest
    OLDEST = "oldest"  # the review queue: first come, first served

    @property
    def label(self) -> str:
        return {
            "votes": "Most votes",
            "newest": "Newest",
            "waiting": "Longest waiting",
            "oldest": "Oldest first",
        }[self.value]


# column, direction for each sort; the idea id breaks ties so pages never overlap
_ORDER: dict[Sort, tuple[Any, bool]] = {
    Sort.VOTES: (Idea.vote_count, True),
    Sort.NEWEST: (Idea.created_at, True),
    Sort.WAITING: (Idea.status_changed_at, False),
    Sort.OLDEST: (Idea.created_at, False),
}


@dataclass(frozen=True)
class IdeaFilters:
    status: Status | None = None
    lens: Lens | None = None
    department_id: int | None = None  # the author's department at submission
    kind: DepartmentKind | None = None
    beneficiary: str | None = None  # EXTERNAL or a department id (as text)
    q: str | None = None
    sort: Sort = Sort.VOTES
    open_only: bool = False
    author_id: int | None = None


@dataclass(frozen=True, slots=True)
class IdeaCard:
    """What a card in a list shows: plain values read as columns, not an Idea with its people.

    Lists are the busiest pages; reading columns skips building and tracking ORM objects.
    """

    id: int
    title: str
    status: Status
    lens: Lens
    problem_start: str  # the first PROBLEM_PREVIEW characters: the card shows less
    vote_count: int
    comment_count: int
    voted: bool
    created_at: datetime
    status_changed_at: datetime
    author_name: str
    department_name: str
    department_kind: DepartmentKind
    beneficiary_name: str | None  # None: external customers

    @property
    def beneficiary_label(self) -> str:
        return self.beneficiary_name or "External customers"


@dataclass
class IdeaPage:
    cards: list[IdeaCard]
    total: int  # at most counted_up_to + 1
    counted_up_to: int
    next_cursor: str | None = None
    filters: IdeaFilters = field(default_factory=IdeaFilters)

    @property
    def total_label(self) -> str:
        if self.total > self.counted_up_to:
            return f"More than {self.counted_up_to:,} ideas"
        return f"{self.total} idea{'' if self.total == 1 else 's'}"


def _filter_values(filters: IdeaFilters) -> dict[str, Any]:
    """The filters that are set, as the statement's parameters; their names are its shape."""
    values: dict[str, Any] = {}
    if filters.status is not None:
        values["status"] = filters.status
    if filters.open_only or filters.sort is Sort.WAITING:
        values["open_only"] = True  # no parameter of its own: part of the shape
    if filters.lens is not None:
        values["lens"] = filters.lens
    if filters.department_id is not None:
        values["department_id"] = filters.department_id
    if filters.kind is not None:
        values["kind"] = filters.kind
    if filters.beneficiary == EXTERNAL:
        values["external"] = True  # likewise
    elif filters.beneficiary:
        values["beneficiary_id"] = int(filters.beneficiary)
    if filters.author_id is not None:
        values["author_id"] = filters.author_id
    if filters.q and filters.q.strip():
        values["pattern"] = contains_pattern(filters.q)
    return values


def _where(shape: frozenset[str]) -> list[sa.ColumnElement[bool]]:
    """The conditions for the filters named in `shape`, their values bound as parameters."""
    conditions: list[sa.ColumnElement[bool]] = []
    if "status" in shape:
        conditions.append(Idea.status == sa.bindparam("status"))
    if "open_only" in shape:
        conditions.append(Idea.status.in_(OPEN_STATUSES))
    if "lens" in shape:
        conditions.append(Idea.lens == sa.bindparam("lens"))
    if "department_id" in shape:
        conditions.append(Idea.author_department_id == sa.bindparam("department_id"))
    if "kind" in shape:
        conditions.append(
            Idea.author_department_id.in_(
                sa.select(Department.id).where(Department.kind == sa.bindparam("kind"))
            )
        )
    if "external" in shape:
        conditions.append(Idea.beneficiary_department_id.is_(None))
    if "beneficiary_id" in shape:
        conditions.append(Idea.beneficiary_department_id == sa.bindparam("beneficiary_id"))
    if "author_id" in shape:
        conditions.append(Idea.author_id == sa.bindparam("author_id"))
    if "pattern" in shape:
        # A case-blind LIKE on both databases: one code path. Fine at a company's sizes.
        pattern = sa.bindparam("pattern", type_=sa.String)
        conditions.append(
            sa.or_(
                *(
                    contains_text(column, pattern)
                    for column in (Idea.title, Idea.problem, Idea.proposal)
                )
            )
        )
    return conditions


def encode_cursor(sort: Sort, idea: Idea | IdeaCard) -> str:
    column, _ = _ORDER[sort]
    value = getattr(idea, column.key)
    raw = value.isoformat() if isinstance(value, datetime) else value
    return base64.urlsafe_b64encode(json.dumps([raw, idea.id]).encode()).decode().rstrip("=")


def _decode_cursor(sort: Sort, cursor: str) -> dict[str, Any]:
    """The keyset position a "load more" link carries, checked: the statement's parameters."""
    try:
        raw, last_id = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        value: Any = datetime.fromisoformat(raw) if sort is not Sort.VOTES else int(raw)
        last_id = int(last_id)
        if isinstance(value, datetime) and value.tzinfo is None:
            raise ValueError("a cursor's time has its zone")
        numbers = [last_id, value] if sort is Sort.VOTES else [last_id]
        if not all(0 <= number <= DATABASE_INT_MAX for number in numbers):
            raise ValueError("out of range")
    except (ValueError, TypeError, OverflowError, binascii.Error, json.JSONDecodeError):
        raise RuleViolation(
            "That page link is broken; start from the first page.", "after"
        ) from None
    return {"after_value": value, "after_id": last_id}


def _after(sort: Sort) -> sa.ColumnElement[bool]:
    """The keyset condition: rows that come after the cursor in this sort order."""
    column, descending = _ORDER[sort]
    value, last_id = sa.bindparam("after_value"), sa.bindparam("after_id")
    if descending:
        return sa.or_(column < value, sa.and_(column == value, Idea.id < last_id))
    return sa.or_(column > value, sa.and_(column == value, Idea.id > last_id))


def list_ideas(
    filters: IdeaFilters, viewer: User, *, after: str | None = None, limit: int = 20
) -> IdeaPage:
    """One page of ideas (two queries: the total, and the page with its counts and flags)."""
    values = _filter_values(filters)
    up_to = SEARCH_COUNT_UP_TO if "pattern" in values else COUNT_UP_TO
    parameters = {**values, "viewer_id": viewer.id, "count_limit": up_to + 1, "limit": limit + 1}
    if after:
        parameters.update(_decode_cursor(filters.sort, after))
    count, page = _list_statements(frozenset(values), filters.sort, bool(after))
    total = db.session.scalar(count, parameters) or 0
    rows = db.session.execute(page, parameters).all()
    cards = [IdeaCard(*row) for row in rows[:limit]]
    next_cursor = encode_cursor(filters.sort, cards[-1]) if len(rows) > limit else None
    return IdeaPage(cards, total, up_to, next_cursor, filters)


@lru_cache(maxsize=256)
def _list_statements(
    shape: frozenset[str], sort: Sort, after: bool
) -> tuple[sa.Select[tuple[int]], sa.Select[Any]]:
    """The count and the page for one combination of filters, built once with parameters:
    the list pages are the busiest, and building a statement cost more than running it."""
    conditions = _where(shape)
    # Counted up to a point: past it the page says "more than"; an exact count of a broad
    # search would read every matching idea on each page view.
    matching = (
        sa.select(Idea.id)
        .where(*conditions)
        .limit(sa.bindparam("count_limit", type_=sa.Integer))
        .subquery()
    )
    count = sa.select(sa.func.count()).select_from(matching)

    column, descending = _ORDER[sort]
    order = [
        column.desc() if descending else column.asc(),
        Idea.id.desc() if descending else Idea.id.asc(),
    ]
    # First the page's ids, from the ideas table alone (an index walk that stops after one
    # page), then everything the cards show for just those ids. Asked in one statement,
    # PostgreSQL would join every matching idea to its people before sorting.
    page = (
        sa.select(Idea.id)
        .where(*conditions)
        .order_by(*order)
        .limit(sa.bindparam("limit", type_=sa.Integer))
    )
    if after:
        page = page.where(_after(sort))
    comment_count = (
        sa.select(sa.func.count(Comment.id))
        .where(Comment.idea_id == Idea.id, Comment.removed_at.is_(None))
        .scalar_subquery()
    )
    voted = sa.exists().where(
        Vote.idea_id == Idea.id, Vote.user_id == sa.bindparam("viewer_id", type_=sa.Integer)
    )
    beneficiary = sa.orm.aliased(Department)
    cards = (
        sa.select(
            Idea.id,
            Idea.title,
            Idea.status,
            Idea.lens,
            sa.func.substr(Idea.problem, 1, PROBLEM_PREVIEW),
            Idea.vote_count,
            comment_count,
            voted,
            Idea.created_at,
            Idea.status_changed_at,
            User.name,
            Department.name,
            Department.kind,
            beneficiary.name,
        )
        .join(User, User.id == Idea.author_id)
        .join(Department, Department.id == Idea.author_department_id)
        .outerjoin(beneficiary, beneficiary.id == Idea.beneficiary_department_id)
        .where(Idea.id.in_(page.scalar_subquery()))
        .order_by(*order)
    )
    return count, cards


def count_stalled(rule: Stalled) -> int:
    """How many ideas `rule` finds stalled: the review queue's warning."""
    return db.session.scalar(sa.select(sa.func.count(Idea.id)).where(rule.clause())) or 0


@dataclass
class IdeaStory:
    """Everything the idea page shows, read in a fixed number of queries."""

    idea: Idea
    viewer: User
    history: list[StatusChange]
    comments: list[CommentItem]
    voted: bool
    merged_here: list[Idea]


def idea_story(idea: Idea, viewer: User) -> IdeaStory:
    history, voted, merged_here = _story_statements()
    parameters = {"idea_id": idea.id, "viewer_id": viewer.id}
    return IdeaStory(
        idea,
        viewer,
        list(db.session.scalars(history, parameters)),
        [CommentItem(*row) for row in db.session.execute(_comments_statement(), parameters)],
        bool(db.session.scalar(voted, parameters)),
        list(db.session.scalars(merged_here, parameters)),
    )


@cache
def _story_statements() -> tuple[sa.Select[Any], sa.Select[Any], sa.Select[Any]]:
    """The idea page's history, "voted by me" and merged ideas, built once with parameters."""
    idea_id = sa.bindparam("idea_id", type_=sa.Integer)
    history = (
        sa.select(StatusChange)
        .where(StatusChange.idea_id == idea_id)
        .order_by(StatusChange.changed_at, StatusChange.id)
    )
    voted = sa.select(
        sa.exists().where(
            Vote.idea_id == idea_id,
            Vote.user_id == sa.bindparam("viewer_id", type_=sa.Integer),
        )
    )
    merged_here = sa.select(Idea).where(Idea.merged_into_id == idea_id).order_by(Idea.id)
    return history, voted, merged_here


@dataclass(frozen=True, slots=True)
class CommentItem(Removable):
    """A comment as the idea page shows it: plain values (an idea may have hundreds)."""

    id: int
    author_id: int
    author_name: str
    department_name: str
    body: str
    created_at: datetime
    edited_at: datetime | None
    removed_at: datetime | None
    removed_by_id: int | None


def comment_item(comment_id: int) -> CommentItem:
    """One comment, as it is shown after an edit or a removal."""
    row = db.session.execute(_comments_statement(by="id"), {"id": comment_id}).one()
    return CommentItem(*row)


@cache
def _comments_statement(by: str = "idea_id") -> sa.Select[Any]:
    """An idea's comments in order (or one comment), built once with a parameter."""
    column = Comment.idea_id if by == "idea_id" else Comment.id
    return (
        sa.select(
            Comment.id,
            Comment.author_id,
            User.name,
            Department.name,
            Comment.body,
            Comment.created_at,
            Comment.edited_at,
            Comment.removed_at,
            Comment.removed_by_id,
        )
        .join(User, User.id == Comment.author_id)
        .join(Department, Department.id == User.department_id)
        .where(column == sa.bindparam(by, type_=sa.Integer))
        .order_by(Comment.created_at, Comment.id)
    )


def recently_implemented(limit: int = 5) -> list[Idea]:
    """The ideas most recently put into practice, newest first (one query)."""
    return list(
        db.session.scalars(
            sa.select(Idea)
            .where(Idea.status == Status.IMPLEMENTED)
            .order_by(Idea.implemented_on.desc(), Idea.id.desc())
            .limit(limit)
        )
    )
