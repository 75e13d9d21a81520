"""Reading ideas for pages: filtered, sorted lists in keyset pages, and one idea with its story.

Every read here runs a fixed number of queries whatever the data size: counts and
"voted by me" come back as columns of the same query, not as one query per idea.
"""

from __future__ import annotations

import base64
import binascii
import enum
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache, lru_cache
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from flask_babel import gettext, lazy_gettext, ngettext
from markupsafe import Markup

from serviceideas.database import contains_pattern, contains_text
from serviceideas.errors import RuleViolation
from serviceideas.extensions import db
from serviceideas.i18n import format_number
from serviceideas.ideas import search as full_text
from serviceideas.ideas.models import (
    OPEN_STATUSES,
    Comment,
    Compass,
    Follower,
    Idea,
    Lens,
    ProgressNote,
    Removable,
    Stalled,
    Status,
    StatusChange,
    Vote,
    for_whom,
)
from serviceideas.ideas.policies import author_shown_sql, hidden_name, sees_hidden_authors
from serviceideas.ideas.signals import origin_asked
from serviceideas.people.models import Department, DepartmentKind, User
from serviceideas.urls import DATABASE_INT_MAX

if TYPE_CHECKING:
    from serviceideas.ideas.search import Match

EXTERNAL = "external"
# Lists count their ideas up to a point and then say "more than". A search counts its matches
# from the full-text index (serviceideas/ideas/search.py), and stops sooner all the same: the
# page ranks every match, and a count past a few hundred tells nobody anything.
COUNT_UP_TO = 1000
SEARCH_COUNT_UP_TO = 200
# Best match ranks the newest this many matches: all of them whenever the count is exact, and
# in a broader search ("More than 200 ideas") a bounded amount of work at any company size
# (ranking reads every candidate). It pages through them by position (an offset): the rank is
# a float, which a keyset cursor could not carry back exactly.
BEST_MATCH_UP_TO = SEARCH_COUNT_UP_TO
PROBLEM_PREVIEW = 240


class Sort(enum.StrEnum):
    VOTES = "votes"
    NEWEST = "newest"
    WAITING = "waiting"  # open ideas whose status has stood still longest
    OLDEST = "oldest"  # the review queue: first come, first served
    BEST_MATCH = "best"  # a search's ranking (docs/product.md, "Search"); votes without one

    @property
    def label(self) -> str:
        return str(SORT_LABELS[self])


SORT_LABELS = {
    Sort.VOTES: lazy_gettext("Most votes"),
    Sort.NEWEST: lazy_gettext("Newest"),
    Sort.WAITING: lazy_gettext("Longest waiting"),
    Sort.OLDEST: lazy_gettext("Oldest first"),
    Sort.BEST_MATCH: lazy_gettext("Best match"),
}


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
    journey_stage_id: int | None = None
    compass: Compass | None = None

    @property
    def search(self) -> str | None:
        """The words searched for, or None when `q` holds none."""
        return self.q.strip() if self.q and self.q.strip() else None

    @property
    def order(self) -> Sort:
        """The sort the list is read in: best match means most votes without a search."""
        if self.sort is Sort.BEST_MATCH and self.search is None:
            return Sort.VOTES
        return self.sort


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
    voted: bool  # by the viewer: the card's vote button shows it
    created_at: datetime
    status_changed_at: datetime
    # No vote button on the viewer's own ideas. Both None and hidden_name() when the author hid
    # their name from this viewer (docs/product.md, "Speaking up safely").
    author_id: int | None
    author_name: str
    department_name: str
    department_kind: DepartmentKind
    beneficiary_name: str | None  # None: external customers
    # In a search, the title and the problem with the words that matched marked by the
    # database (search.highlighted); None otherwise.
    title_marks: str | None = None
    problem_marks: str | None = None

    @property
    def for_whom(self) -> str:
        return for_whom(self.beneficiary_name)

    @property
    def marked_title(self) -> Markup:
        """The title, escaped, with the words searched for in <mark>."""
        return full_text.marked(self.title, self.title_marks)

    def marked_problem(self, shown: str) -> Markup:
        """`shown` (the start of the problem the card shows), escaped, with the words
        searched for in <mark>."""
        return full_text.marked(shown, self.problem_marks)


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
            return gettext("More than %(count)s ideas", count=format_number(self.counted_up_to))
        return ngettext("%(num)d idea", "%(num)d ideas", self.total)


@dataclass(frozen=True, slots=True)
class ListFilter:
    """One way to narrow a list of ideas, written once: `value` reads it from the filters
    (None: not asked for) and `condition` says what it asks of an idea, given only its
    parameter (named `name`), never the request's value."""

    name: str
    value: Callable[[IdeaFilters], object]
    condition: Callable[[sa.BindParameter[Any]], sa.ColumnElement[bool]]


def _beneficiary_id(filters: IdeaFilters) -> int | None:
    if filters.beneficiary is None or filters.beneficiary == EXTERNAL:
        return None
    return int(filters.beneficiary)


def _search_parameter(filters: IdeaFilters) -> str | None:
    """What the full-text index is asked, in the database's own query language."""
    return full_text.search_parameter(filters.search) if filters.search is not None else None


# Every filter a list can have. A condition that needs no value (open ideas only, external
# customers) is asked for with True; its parameter goes unused.
LIST_FILTERS: tuple[ListFilter, ...] = (
    ListFilter("status", lambda f: f.status, lambda p: Idea.status == p),
    ListFilter(
        "open_only",
        lambda f: True if f.open_only or f.sort is Sort.WAITING else None,
        lambda _: Idea.status.in_(OPEN_STATUSES),
    ),
    ListFilter("lens", lambda f: f.lens, lambda p: Idea.lens == p),
    ListFilter(
        "journey_stage_id", lambda f: f.journey_stage_id, lambda p: Idea.journey_stage_id == p
    ),
    ListFilter("compass", lambda f: f.compass, lambda p: Idea.compass == p),
    ListFilter(
        "department_id", lambda f: f.department_id, lambda p: Idea.author_department_id == p
    ),
    ListFilter(
        "kind",
        lambda f: f.kind,
        lambda p: Idea.author_department_id.in_(
            sa.select(Department.id).where(Department.kind == p)
        ),
    ),
    ListFilter(
        "external",
        lambda f: True if f.beneficiary == EXTERNAL else None,
        lambda _: Idea.beneficiary_department_id.is_(None),
    ),
    ListFilter("beneficiary_id", _beneficiary_id, lambda p: Idea.beneficiary_department_id == p),
    # A colleague asking for someone's ideas is not shown those they wrote with their name
    # hidden: the list would name them.
    ListFilter(
        "author_id",
        lambda f: f.author_id,
        lambda p: sa.and_(Idea.author_id == p, _author_shown()),
    ),
    # Title, problem and proposal, through the full-text index (docs/product.md, "Search").
    ListFilter("search", _search_parameter, full_text.matching),
)


def _author_shown() -> sa.ColumnElement[bool]:
    """Whether the viewer of a list may see an idea's author (`can_see_author`), from the
    statement's parameters `viewer_id` and `sees_hidden_authors`."""
    return author_shown_sql(
        sa.bindparam("viewer_id", type_=sa.Integer),
        sa.bindparam("sees_hidden_authors", type_=sa.Boolean),
    )


def encode_cursor(sort: Sort, idea: Idea | IdeaCard) -> str:
    column, _ = _ORDER[sort]
    value = getattr(idea, column.key)
    raw = value.isoformat() if isinstance(value, datetime) else value
    return base64.urlsafe_b64encode(json.dumps([raw, idea.id]).encode()).decode().rstrip("=")


# The longest cursor encode_cursor writes is under 70 characters; a longer one is forged, and
# refusing it before decoding keeps deeply nested JSON away from the parser's recursion limit.
CURSOR_MAX_LENGTH = 200


def _decode_cursor(sort: Sort, cursor: str) -> dict[str, Any]:
    """The keyset position a "load more" link carries, checked: the statement's parameters.

    Anything but the pair encode_cursor writes for this sort (a vote count, or a time with its
    zone that falls in years 1 to 9999 in UTC; then an idea id; numbers within the database's
    integers) is refused as a broken link before it reaches the database.
    """
    try:
        if len(cursor) > CURSOR_MAX_LENGTH:
            raise ValueError("longer than any cursor this app writes")
        pair = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(pair, list) or len(pair) != 2:
            raise ValueError("not a pair")
        if sort is Sort.BEST_MATCH:
            return {"offset": _best_match_offset(pair)}
        raw, last_id = pair
        value: datetime | int = raw if sort is Sort.VOTES else _cursor_time(raw)
        numbers = [value, last_id] if sort is Sort.VOTES else [last_id]
        # bool is an int to Python, and JSON's true is no count.
        if not all(type(number) is int and 0 <= number <= DATABASE_INT_MAX for number in numbers):
            raise ValueError("not a count or id the database can hold")
        if last_id < 1:
            raise ValueError("ids start at 1")
    # JSONDecodeError and UnicodeDecodeError are ValueErrors.
    except (ValueError, TypeError, OverflowError, binascii.Error):
        raise RuleViolation(
            gettext("That page link is broken; start from the first page."), "after"
        ) from None
    return {"after_value": value, "after_id": last_id}


def _best_match_cursor(offset: int) -> str:
    """The cursor of the best-match page that starts `offset` matches in."""
    raw = json.dumps([Sort.BEST_MATCH.value, offset]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _best_match_offset(pair: list[Any]) -> int:
    """The position a best-match cursor carries: within the matches best match pages."""
    marker, offset = pair
    if marker != Sort.BEST_MATCH.value or type(offset) is not int:
        raise ValueError("not a best-match position")
    if not 0 < offset <= BEST_MATCH_UP_TO:
        raise ValueError("past the matches best match shows")
    return offset


def _cursor_time(raw: object) -> datetime:
    """A cursor's time, in UTC as the column binds it (UTCDateTime)."""
    if not isinstance(raw, str):
        raise TypeError("a cursor's time is a string")
    value = datetime.fromisoformat(raw)
    if value.tzinfo is None:
        raise ValueError("a cursor's time has its zone")
    # An OverflowError for year 1 at +14:00 or year 9999 at -14:00: no datetime holds it in UTC.
    return value.astimezone(UTC)


def _after(sort: Sort) -> sa.ColumnElement[bool]:
    """The keyset condition: rows that come after the cursor in this sort order."""
    column, descending = _ORDER[sort]
    value: sa.BindParameter[Any] = sa.bindparam("after_value")
    last_id: sa.BindParameter[int] = sa.bindparam("after_id", type_=sa.Integer)
    if descending:
        return sa.or_(column < value, sa.and_(column == value, Idea.id < last_id))
    return sa.or_(column > value, sa.and_(column == value, Idea.id > last_id))


def list_ideas(
    filters: IdeaFilters, viewer: User, *, after: str | None = None, limit: int = 20
) -> IdeaPage:
    """One page of ideas, with its counts and flags and the list's total: one statement (a
    second for the total only when a "load more" page is empty)."""
    asked = {
        list_filter.name: value
        for list_filter in LIST_FILTERS
        if (value := list_filter.value(filters)) is not None
    }
    up_to = SEARCH_COUNT_UP_TO if filters.search is not None else COUNT_UP_TO
    sort = filters.order
    parameters: dict[str, object] = {
        **asked,
        "viewer_id": viewer.id,
        "sees_hidden_authors": sees_hidden_authors(viewer),
        "hidden_name": hidden_name(),  # in the viewer's language
        "count_limit": up_to + 1,
        "limit": limit + 1,
    }
    if sort is Sort.BEST_MATCH:
        parameters.update(offset=0, best_up_to=BEST_MATCH_UP_TO)
    if after:
        parameters.update(_decode_cursor(sort, after))
    dialect = db.session.get_bind().dialect.name
    count, page = _list_statements(frozenset(asked), sort, bool(after), dialect)
    rows = db.session.execute(page, parameters).all()
    if rows:
        total = rows[0].total
    elif after:  # past the last card: the total is still what the list holds
        total = db.session.scalar(count, parameters) or 0
    else:  # a first page without a card: nothing matches
        total = 0
    cards = [_card(row) for row in rows[:limit]]
    next_cursor = None
    if len(rows) > limit and sort is Sort.BEST_MATCH:
        shown = int(str(parameters["offset"])) + limit
        next_cursor = _best_match_cursor(shown) if shown < BEST_MATCH_UP_TO else None
    elif len(rows) > limit:
        next_cursor = encode_cursor(sort, cards[-1])
    return IdeaPage(cards, total, up_to, next_cursor, filters)


def _card(row: sa.Row[Any]) -> IdeaCard:
    """A card from a row of the page's statement, which also holds the list's total."""
    columns = row._asdict()
    del columns["total"]
    return IdeaCard(**columns)


@lru_cache(maxsize=256)
def _list_statements(
    names: frozenset[str], sort: Sort, after: bool, dialect: str
) -> tuple[sa.Select[int], sa.Select[*tuple[Any, ...]]]:
    """The count and the page for the filters `names` (LIST_FILTERS), a sort, whether a
    page starts after a cursor and the database (a search ranks and marks in its own way),
    with every value a parameter.

    Kept per combination: building them for each request made the list page a fifth slower
    (bench/inprocess_ideas.py). The kept statement cannot drift from the filters: its key is
    all this function reads, and each condition is written once, in LIST_FILTERS, from its
    parameter alone (tests/ideas/test_queries.py checks each filter against the list).
    """
    conditions = [
        list_filter.condition(sa.bindparam(list_filter.name))
        for list_filter in LIST_FILTERS
        if list_filter.name in names
    ]
    # Counted up to a point: past it the page says "more than"; an exact count of a broad
    # search would read every matching idea on each page view.
    counted = sa.select(Idea.id)
    if "search" in names:  # the index finds the matches (search.restricted says why)
        counted = full_text.restricted(
            counted.where(*_conditions(names - {"search"})),
            sa.bindparam("search", type_=sa.String),
            dialect,
        )
    else:
        counted = counted.where(*conditions)
    matching = counted.limit(sa.bindparam("count_limit", type_=sa.Integer)).subquery()
    count = sa.select(sa.func.count()).select_from(matching)

    # First the page's ids, from the ideas table alone (an index walk that stops after one
    # page), then everything the cards show for just those ids. Asked in one statement,
    # PostgreSQL would join every matching idea to its people before sorting.
    if sort is Sort.BEST_MATCH:
        best = _best_matches(names, dialect)
        order: list[sa.ColumnElement[Any]] = [best.c.rank.desc(), Idea.id.desc()]
    else:
        column, descending = _ORDER[sort]
        order = [
            column.desc() if descending else column.asc(),
            Idea.id.desc() if descending else Idea.id.asc(),
        ]
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
    marks = []
    if "search" in names:
        searched = sa.bindparam("search", type_=sa.String)
        marks = [
            full_text.highlighted("title", searched, dialect).label("title_marks"),
            full_text.highlighted("problem", searched, dialect, up_to=PROBLEM_PREVIEW).label(
                "problem_marks"
            ),
        ]
    # One labelled column per IdeaCard field: rows become cards by name. The list's total
    # comes with them, counted once (PostgreSQL and SQLite both run a scalar subquery that
    # reads nothing of the row only once): a round trip saved on every list.
    cards = (
        sa.select(
            Idea.id.label("id"),
            Idea.title.label("title"),
            Idea.status.label("status"),
            Idea.lens.label("lens"),
            sa.func.substr(Idea.problem, 1, PROBLEM_PREVIEW).label("problem_start"),
            Idea.vote_count.label("vote_count"),
            comment_count.label("comment_count"),
            voted.label("voted"),
            Idea.created_at.label("created_at"),
            Idea.status_changed_at.label("status_changed_at"),
            sa.case((_author_shown(), Idea.author_id), else_=sa.null()).label("author_id"),
            sa.case(
                (_author_shown(), User.name),
                else_=sa.bindparam("hidden_name", type_=sa.String),
            ).label("author_name"),
            Department.name.label("department_name"),
            Department.kind.label("department_kind"),
            beneficiary.name.label("beneficiary_name"),
            *marks,
            count.scalar_subquery().label("total"),
        )
        .join(User, User.id == Idea.author_id)
        .join(Department, Department.id == Idea.author_department_id)
        .outerjoin(beneficiary, beneficiary.id == Idea.beneficiary_department_id)
        .order_by(*order)
    )
    if sort is Sort.BEST_MATCH:
        cards = cards.join(best, best.c.id == Idea.id)
    else:
        cards = cards.where(Idea.id.in_(page.scalar_subquery()))
    return count, cards


def _best_matches(names: frozenset[str], dialect: str) -> sa.Subquery:
    """A search's page by best match, as (id, rank): the matches that pass the other filters,
    best first (then newest), from an offset. The search's own condition is the join."""
    ranked = full_text.best_matches(
        sa.bindparam("search", type_=sa.String),
        dialect,
        _conditions(names - {"search"}),
        sa.bindparam("best_up_to", type_=sa.Integer),
    )
    return (
        sa.select(ranked.c.id, ranked.c.rank)
        .order_by(ranked.c.rank.desc(), ranked.c.id.desc())
        .limit(sa.bindparam("limit", type_=sa.Integer))
        .offset(sa.bindparam("offset", type_=sa.Integer))
        .subquery("page")
    )


def _conditions(names: frozenset[str]) -> list[sa.ColumnElement[bool]]:
    """The conditions of the filters `names`, each on its parameter."""
    return [
        list_filter.condition(sa.bindparam(list_filter.name))
        for list_filter in LIST_FILTERS
        if list_filter.name in names
    ]


def count_stalled(rule: Stalled, up_to: int = COUNT_UP_TO) -> int:
    """How many ideas `rule` finds stalled, the review queue's warning: counted up to `up_to`
    and one more, which the queue shows as "more than", as lists do. Counting every stalled
    idea of a large company read tens of thousands of index entries on each visit (40 ms)."""
    stalled = sa.select(Idea.id).where(rule.clause()).limit(up_to + 1).subquery()
    return db.session.scalar(sa.select(sa.func.count()).select_from(stalled)) or 0


@dataclass
class IdeaStory:
    """Everything the idea page shows, read in a fixed number of queries."""

    idea: Idea
    viewer: User
    history: list[StatusChange]
    comments: list[CommentItem]
    voted: bool
    merged_here: list[Idea]
    following: bool = False  # whether the viewer follows it (docs/product.md, "Following an idea")
    # The title of the training module it was started in (from a reflection), or None.
    started_in_module: str | None = None
    # The owner's (or a manager's) progress notes, oldest first: shown in the history.
    progress: list[ProgressNote] = field(default_factory=list)

    @property
    def timeline(self) -> list[StatusChange | ProgressNote]:
        """The history as the page shows it: status steps and progress notes by time."""

        def at(entry: StatusChange | ProgressNote) -> datetime:
            return entry.changed_at if isinstance(entry, StatusChange) else entry.created_at

        return sorted([*self.history, *self.progress], key=at)


def idea_story(idea: Idea, viewer: User) -> IdeaStory:
    """The idea page's reads. One statement asks the viewer's stakes and whether the idea has
    merged ideas or progress notes at all; those are read only when it has (most have
    neither), each statement a round trip saved on the busiest page."""
    history, stakes, merged_here, comments = _story_statements()
    parameters = {"idea_id": idea.id, "viewer_id": viewer.id}
    voted, following, has_merged, has_progress = db.session.execute(stakes, parameters).one()
    return IdeaStory(
        idea,
        viewer,
        list(db.session.scalars(history, parameters)),
        [CommentItem(**row._mapping) for row in db.session.execute(comments, parameters)],
        bool(voted),
        list(db.session.scalars(merged_here, parameters)) if has_merged else [],
        following=bool(following),
        started_in_module=module_started_in(idea),
        progress=progress_notes(idea.id) if has_progress else [],
    )


def progress_notes(idea_id: int) -> list[ProgressNote]:
    """The idea's progress notes, oldest first (one query)."""
    return list(
        db.session.scalars(
            sa.select(ProgressNote)
            .where(ProgressNote.idea_id == idea_id)
            .order_by(ProgressNote.created_at, ProgressNote.id)
        )
    )


def status_history(idea_id: int) -> list[StatusChange]:
    """The idea's steps, oldest first, each with who took it: the idea page's own statement
    (one query)."""
    history = _story_statements()[0]
    return list(db.session.scalars(history, {"idea_id": idea_id}))


def is_following(idea_id: int, user_id: int) -> bool:
    """Whether the person follows the idea now (an unfollow keeps its row)."""
    return bool(db.session.scalar(sa.select(_follows(idea_id, user_id))))


def _follows(
    idea_id: int | sa.BindParameter[int], user_id: int | sa.BindParameter[int]
) -> sa.Exists:
    return sa.exists().where(
        Follower.idea_id == idea_id,
        Follower.user_id == user_id,
        Follower.unfollowed_at.is_(None),
    )


def module_started_in(idea: Idea) -> str | None:
    """The title of the training module the idea was started in, if any: asked through a
    signal that training answers, since ideas knows nothing of the features above it."""
    answers = (answer for _, answer in origin_asked.send(idea))
    return next((answer for answer in answers if isinstance(answer, str)), None)


@cache
def _story_statements() -> tuple[
    sa.Select[StatusChange],
    sa.Select[bool, bool, bool, bool],
    sa.Select[Idea],
    sa.Select[*tuple[Any, ...]],
]:
    """The idea page's history; the viewer's stakes in it ("voted by me", "following") and
    whether it has merged ideas and progress notes, in one statement; merged ideas; and
    comments: one set of statements, the idea and the viewer their parameters, so there is
    no key to keep."""
    idea_id = sa.bindparam("idea_id", type_=sa.Integer)
    viewer_id = sa.bindparam("viewer_id", type_=sa.Integer)
    history = (
        sa.select(StatusChange)
        .where(StatusChange.idea_id == idea_id)
        .order_by(StatusChange.changed_at, StatusChange.id)
    )
    stakes = sa.select(
        sa.exists().where(Vote.idea_id == idea_id, Vote.user_id == viewer_id),
        _follows(idea_id, viewer_id),
        # A covering look at the index: as `EXISTS (SELECT * …)` SQLite scanned every idea, its
        # statistics saying the index (nearly all NULL) narrows nothing (350 ms at 100,000).
        sa.select(Idea.merged_into_id).where(Idea.merged_into_id == idea_id).exists(),
        sa.exists().where(ProgressNote.idea_id == idea_id),
    )
    merged_here = sa.select(Idea).where(Idea.merged_into_id == idea_id).order_by(Idea.id)
    comments = _comment_columns().where(Comment.idea_id == idea_id)
    return history, stakes, merged_here, comments


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


def comments_on(idea_id: int) -> list[CommentItem]:
    """The idea's comments, oldest first, as its page shows them: the page's own statement
    (one query)."""
    comments = _story_statements()[3]
    rows = db.session.execute(comments, {"idea_id": idea_id})
    return [CommentItem(**row._mapping) for row in rows]


def comment_item(comment_id: int) -> CommentItem:
    """One comment, as it is shown after an edit or a removal."""
    row = db.session.execute(_comment_columns().where(Comment.id == comment_id)).one()
    return CommentItem(**row._mapping)


def _comment_columns() -> sa.Select[*tuple[Any, ...]]:
    """Comments in order, one labelled column per CommentItem field."""
    return (
        sa.select(
            Comment.id.label("id"),
            Comment.author_id.label("author_id"),
            User.name.label("author_name"),
            Department.name.label("department_name"),
            Comment.body.label("body"),
            Comment.created_at.label("created_at"),
            Comment.edited_at.label("edited_at"),
            Comment.removed_at.label("removed_at"),
            Comment.removed_by_id.label("removed_by_id"),
        )
        .join(User, User.id == Comment.author_id)
        .join(Department, Department.id == User.department_id)
        .order_by(Comment.created_at, Comment.id)
    )


def find_idea(idea_id: int) -> Idea | None:
    """The idea with this number, if there is one (a form may name any number)."""
    return db.session.get(Idea, idea_id)


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


# Owners


@dataclass(frozen=True, slots=True)
class PersonMatch:
    """An active person whose name or e-mail matches what a manager typed."""

    id: int
    name: str
    email: str
    department_name: str


OWNER_MATCHES = 8


def people_matching(text: str, limit: int = OWNER_MATCHES) -> list[PersonMatch]:
    """Active people whose name or e-mail contains `text` (case-blind), those whose whole
    name or e-mail it is first, then by name: at most `limit`, in one query."""
    wanted = " ".join(text.split()).lower()
    if not wanted:
        return []
    pattern = contains_pattern(wanted)
    exact = sa.or_(sa.func.lower(User.name) == wanted, sa.func.lower(User.email) == wanted)
    rows = db.session.execute(
        sa.select(
            User.id.label("id"),
            User.name.label("name"),
            User.email.label("email"),
            Department.name.label("department_name"),
        )
        .join(Department, Department.id == User.department_id)
        .where(
            User.is_active,
            sa.or_(contains_text(User.name, pattern), contains_text(User.email, pattern)),
        )
        .order_by(sa.case((exact, 0), else_=1), User.name, User.id)
        .limit(limit)
    )
    return [PersonMatch(**row._mapping) for row in rows]


def ideas_owned_by(user: User) -> list[Idea]:
    """The ideas `user` owns: open ones first, soonest target date first (none last), then
    those closed, newest first (one query)."""
    return list(
        db.session.scalars(
            sa.select(Idea)
            .where(Idea.owner_id == user.id)
            .order_by(
                sa.case((Idea.status.in_(OPEN_STATUSES), 0), else_=1),
                Idea.target_date.is_(None),
                Idea.target_date,
                Idea.status_changed_at.desc(),
                Idea.id,
            )
        )
    )


# Similar ideas (docs/product.md, "Similar ideas and duplicates")


@dataclass(frozen=True, slots=True)
class SimilarIdea:
    """An idea like the one being typed, with what the viewer's vote button needs: whose it is
    (no button on one's own) and whether they voted on it already."""

    id: int
    title: str
    status: Status
    vote_count: int
    author_id: int
    voted: bool


def with_viewer_stakes(matches: Sequence[Match], viewer: User) -> list[SimilarIdea]:
    """`matches` (search.Match) with their authors and the viewer's votes, in their order:
    one query for all of them, none when there are none."""
    if not matches:
        return []
    voted = (
        sa.select(Vote.idea_id).where(Vote.idea_id == Idea.id, Vote.user_id == viewer.id).exists()
    )
    rows = db.session.execute(
        sa.select(Idea.id, Idea.author_id, voted).where(
            Idea.id.in_([match.id for match in matches])
        )
    )
    stakes = {row.id: (row.author_id, bool(row[2])) for row in rows}
    return [
        SimilarIdea(
            id=match.id,
            title=match.title,
            status=match.status,
            vote_count=match.vote_count,
            author_id=stakes[match.id][0],
            voted=stakes[match.id][1],
        )
        for match in matches
        if match.id in stakes
    ]
