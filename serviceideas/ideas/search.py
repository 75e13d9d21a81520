"""Full-text search over ideas: the list page's matching and ranking, similar ideas while
typing, the "merge into" title search and the review queue's likely duplicates.

Two implementations of each question, chosen by the database (docs/architecture.md, "Full-text
search"): on PostgreSQL a stored, generated `tsvector` column with a GIN index, queried with
`websearch_to_tsquery` and ranked with `ts_rank`; on SQLite an FTS5 table over `ideas`, kept in
step by triggers, ranked by where and how often the words are, as `ts_rank` ranks. Both stem
English words; a title counts above the problem and the proposal. What people type is never an
error (docs/product.md, "Search").
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import sqlalchemy as sa
from markupsafe import Markup, escape
from sqlalchemy.ext.compiler import compiles

from serviceideas.extensions import db
from serviceideas.ideas.models import OPEN_STATUSES, Duplicate, Idea, Status

# The schema. PostgreSQL: a generated column rather than an expression index, because ranking
# reads every matching idea's vector: stored, ts_rank reads it; as an index expression, it
# would be recomputed from the title, problem and proposal of each match on every search.
# Kept out of the ORM model (no page loads it with an idea); migrations/env.py and
# tests/test_migrations.py leave these objects out of the models-versus-migrations comparison
# (`outside_the_models`).
SEARCH_VECTOR = "search_vector"
SEARCH_INDEX = "ix_ideas_search_vector"
FTS_TABLE = "ideas_fts"

POSTGRESQL_SCHEMA = (
    "ALTER TABLE ideas ADD COLUMN search_vector tsvector GENERATED ALWAYS AS ("
    "setweight(to_tsvector('english', coalesce(title, '')), 'A') || "
    "setweight(to_tsvector('english', coalesce(problem, '') || ' ' || coalesce(proposal, '')),"
    " 'B')) STORED",
    "CREATE INDEX ix_ideas_search_vector ON ideas USING gin (search_vector)",
)
# Only changes of the searched text touch the index: a vote updates `ideas` too.
SQLITE_SCHEMA = (
    "CREATE VIRTUAL TABLE ideas_fts USING fts5(title, problem, proposal, content='ideas', "
    "content_rowid='id', tokenize='porter unicode61')",
    "CREATE TRIGGER ideas_fts_insert AFTER INSERT ON ideas BEGIN "
    "INSERT INTO ideas_fts(rowid, title, problem, proposal) "
    "VALUES (new.id, new.title, new.problem, new.proposal); END",
    "CREATE TRIGGER ideas_fts_delete AFTER DELETE ON ideas BEGIN "
    "INSERT INTO ideas_fts(ideas_fts, rowid, title, problem, proposal) "
    "VALUES ('delete', old.id, old.title, old.problem, old.proposal); END",
    "CREATE TRIGGER ideas_fts_update AFTER UPDATE OF title, problem, proposal ON ideas BEGIN "
    "INSERT INTO ideas_fts(ideas_fts, rowid, title, problem, proposal) "
    "VALUES ('delete', old.id, old.title, old.problem, old.proposal); "
    "INSERT INTO ideas_fts(rowid, title, problem, proposal) "
    "VALUES (new.id, new.title, new.problem, new.proposal); END",
)
# The FTS table is no table of the models: drop_all() would leave it behind, stale.
SQLITE_DROP = (
    "DROP TRIGGER IF EXISTS ideas_fts_insert",
    "DROP TRIGGER IF EXISTS ideas_fts_delete",
    "DROP TRIGGER IF EXISTS ideas_fts_update",
    "DROP TABLE IF EXISTS ideas_fts",
)


def _install_with_the_ideas_table(table: sa.Table) -> None:
    """create_all() makes what the migration makes (tests build their schema that way)."""
    for event, dialect, statements in (
        ("after_create", "postgresql", POSTGRESQL_SCHEMA),
        ("after_create", "sqlite", SQLITE_SCHEMA),
        ("before_drop", "sqlite", SQLITE_DROP),
    ):
        for statement in statements:
            ddl = sa.DDL(statement)  # type: ignore[no-untyped-call]  # SQLAlchemy leaves it untyped
            sa.event.listen(table, event, ddl.execute_if(dialect=dialect))


_install_with_the_ideas_table(Idea.__table__)  # type: ignore[arg-type]  # a Table at run time


def outside_the_models(
    obj: object, name: str | None, type_: str, reflected: bool, compare_to: object
) -> bool:
    """Alembic's include_object: False for the search objects the models do not describe
    (the FTS table and its shadow tables, the vector column and its index)."""
    if type_ == "table" and name is not None and name.startswith(FTS_TABLE):
        return False
    if type_ == "column" and name == SEARCH_VECTOR:
        return False
    return not (type_ == "index" and name == SEARCH_INDEX)


# What people type


# PostgreSQL's English stop words (Snowball's list): PostgreSQL leaves them out of vectors
# and queries; SQLite's FTS5 indexes every word, so queries built here leave them out.
STOP_WORDS = frozenset(
    """i me my myself we our ours ourselves you your yours yourself yourselves he him his
    himself she her hers herself it its itself they them their theirs themselves what which
    who whom this that these those am is are was were be been being have has had having do
    does did doing a an the and but if or because as until while of at by for with about
    against between into through during before after above below to from up down in out on
    off over under again further then once here there when where why how all any both each
    few more most other some such no nor not only own same so than too very s t can will just
    don should now""".split()  # noqa: SIM905 - a list of 127 words reads better as text
)
# A word as both databases split text: letters and digits (any script). Everything else,
# quotes and FTS5's operators included, only separates words.
_WORD = re.compile(r"[^\W_]+")
# Longer text is cut: nobody types more words in a search, and each costs the index a lookup.
MAX_TERMS = 32


@dataclass(frozen=True, slots=True)
class Term:
    words: tuple[str, ...]  # more than one: a phrase ("quoted", or hyphenated like wi-fi)
    excluded: bool = False

    def fts5(self, *, prefix: bool = False) -> str:
        """The term as an FTS5 string literal: never an operator, whatever it holds."""
        return '"' + " ".join(self.words) + '"' + ("*" if prefix else "")


def parse(text: str) -> list[Term]:
    """What someone typed, read as web search reads it: words, "quoted phrases" and -word
    (left out). Unbalanced quotes close at the end; anything else is only a separator."""
    terms: list[Term] = []
    for quoted, excluded, chunk in _chunks(text):
        words = tuple(word.lower() for word in _WORD.findall(chunk))
        if not words:
            continue
        if quoted or excluded:
            terms.append(Term(words, excluded))
        else:
            # A run like wi-fi or e-mail is one phrase; a plain word is itself.
            terms.append(Term(words))
        if len(terms) >= MAX_TERMS:
            break
    return terms


def _chunks(text: str) -> Iterator[tuple[bool, bool, str]]:
    """(quoted, excluded, text) for each phrase or whitespace-separated word."""
    position = 0
    while position < len(text):
        character = text[position]
        if character.isspace():
            position += 1
            continue
        excluded = character == "-" and position + 1 < len(text)
        start = position + 1 if excluded else position
        if start < len(text) and text[start] == '"':
            end = text.find('"', start + 1)
            end = len(text) if end == -1 else end
            yield True, excluded, text[start + 1 : end]
            position = end + 1
            continue
        end = start
        while end < len(text) and not text[end].isspace() and text[end] != '"':
            end += 1
        yield False, excluded and end > start, text[start:end]
        position = max(end, position + 1)


def _keeps(term: Term) -> bool:
    """Whether a term is searched for: a lone stop word is not (as in PostgreSQL)."""
    return len(term.words) > 1 or term.words[0] not in STOP_WORDS


def fts5_query(text: str) -> str:
    """FTS5 query syntax for what someone typed: the words and phrases ANDed, then NOT each
    excluded one. Every term is a quoted literal, so the result is always valid. With nothing
    to look for (only punctuation, stop words or -words), the empty phrase, which matches
    nothing."""
    terms = [term for term in parse(text) if _keeps(term)]
    wanted = [term.fts5() for term in terms if not term.excluded]
    if not wanted:
        return NOTHING
    unwanted = [term.fts5() for term in terms if term.excluded]
    query = "(" + " AND ".join(wanted) + ")"
    return " NOT ".join([query, *unwanted])


NOTHING = '""'  # FTS5's empty phrase: matches no idea


def postgresql_query(text: str) -> str:
    """What websearch_to_tsquery is given: the terms as parse() reads them, written out again
    (letters, digits, quotes and dashes only), so that both databases read a search alike:
    `or` is an ordinary (stop) word, not websearch_to_tsquery's OR. With nothing wanted (only
    -words), nothing, as on SQLite, rather than every idea but a few."""
    terms = [term for term in parse(text) if _keeps(term)]
    if all(term.excluded for term in terms):
        return ""
    return " ".join(
        ("-" if term.excluded else "")
        + (f'"{" ".join(term.words)}"' if len(term.words) > 1 else term.words[0])
        for term in terms
    )


def search_parameter(text: str) -> str:
    """The value of the list page's search parameter in this database's query language."""
    return postgresql_query(text) if _dialect() == "postgresql" else fts5_query(text)


def _dialect() -> str:
    return db.session.get_bind().dialect.name


def _any_word(text: str) -> list[str]:
    """The distinct words of `text` worth looking for (stop words out), in order."""
    seen: dict[str, None] = {}
    for word in _WORD.findall(text.lower()):
        if word not in STOP_WORDS and word != "or":
            seen.setdefault(word)
        if len(seen) >= MAX_TERMS:
            break
    return list(seen)


def _any_word_query(words: Sequence[str], dialect: str) -> str:
    if dialect == "postgresql":
        # Letters and digits only, so `or` between them is websearch_to_tsquery's OR.
        return " or ".join(words)
    return " OR ".join(f'"{word}"' for word in words)


# The list page

# The text search configuration, written into the SQL (not a parameter: it must be a regconfig).
ENGLISH: sa.ColumnElement[Any] = sa.literal_column("'english'::regconfig")
# The generated column, outside the models (see SEARCH_VECTOR).
VECTOR: sa.ColumnElement[Any] = sa.literal_column("ideas.search_vector")


# SQLite's rank: the matches FTS5 marks in each column (highlight(), one mark per match), a
# match in the title counting five times one in the problem or proposal, and each column's
# count saturating at four. Like PostgreSQL's ts_rank, it weighs how often and where the words
# are, not how rare they are: FTS5's bm25 does, but first reads every match of every word
# searched for (a common word matches most ideas), which made a search cost grow with the
# company, and a page of likely duplicates take seconds.
def _hits(column: int, name: str) -> str:
    return f"min(length(highlight(ideas_fts, {column}, char(1), '')) - length(ideas_fts.{name}), 4)"


_RANK = f"(5.0 * {_hits(0, 'title')} + {_hits(1, 'problem')} + {_hits(2, 'proposal')})"


class matching(sa.sql.functions.FunctionElement[bool]):
    """The idea (a row of `ideas`) matches the search parameter given (a search_parameter()
    value). A construct of its own, so that a statement holding it compiles for whichever
    database runs it, and can be kept (queries.py keeps the list's statements)."""

    type = sa.Boolean()
    inherit_cache = True
    name = "matching"


@compiles(matching, "postgresql")
def _matching_on_postgresql(element: matching, compiler: Any, **kw: Any) -> str:
    parameter = compiler.process(element.clauses, **kw)
    return f"ideas.search_vector @@ websearch_to_tsquery('english'::regconfig, {parameter})"


@compiles(matching, "sqlite")
def _matching_on_sqlite(element: matching, compiler: Any, **kw: Any) -> str:
    parameter = compiler.process(element.clauses, **kw)
    # `parameter` is the compiled placeholder, never the value.
    return f"ideas.id IN (SELECT rowid FROM ideas_fts WHERE ideas_fts MATCH {parameter})"  # noqa: S608


_FTS = sa.table(FTS_TABLE, sa.column("rowid", sa.Integer))
_FTS_MATCHES = sa.literal_column(FTS_TABLE).op("MATCH", return_type=sa.Boolean)


def ranked_matches(
    query: sa.ColumnElement[Any] | sa.BindParameter[Any], dialect: str, up_to: int
) -> sa.Subquery:
    """The newest `up_to` ideas matching `query` (on PostgreSQL a tsquery, on SQLite an FTS5
    query), as (id, rank): the higher the rank, the better. Ranking reads every candidate, and
    a common word matches most ideas: the cap keeps a suggestion's cost the same at any company
    size, and leaves nothing out until more than `up_to` ideas match."""
    if dialect == "postgresql":
        candidates = (
            sa.select(Idea.id.label("id"), VECTOR.label("vector"))
            .where(VECTOR.op("@@", return_type=sa.Boolean)(query))
            .order_by(Idea.id.desc())
            .limit(up_to)
            .subquery("candidates")
        )
        return sa.select(
            candidates.c.id, sa.func.ts_rank(candidates.c.vector, query).label("rank")
        ).subquery("search")
    return (
        sa.select(_FTS.c.rowid.label("id"), sa.literal_column(_RANK, sa.Float).label("rank"))
        .select_from(_FTS)
        .where(_FTS_MATCHES(query))
        .order_by(_FTS.c.rowid.desc())
        .limit(up_to)
        .subquery("search")
    )


def restricted(
    statement: sa.Select[int], parameter: sa.BindParameter[Any], dialect: str
) -> sa.Select[int]:
    """`statement` (a select from `ideas`) kept to the ideas matching `parameter`.

    On SQLite the index drives it: FTS5 reads its matches as they are asked for, so a LIMIT
    stops it early, where `matching` would first list every match (a broad word matches most
    ideas). On PostgreSQL a condition: its planner chooses between the index and a walk.
    """
    if dialect == "postgresql":
        return statement.where(matching(parameter))
    return statement.join(_FTS, _FTS.c.rowid == Idea.id).where(_FTS_MATCHES(parameter))


def best_matches(
    parameter: sa.BindParameter[Any],
    dialect: str,
    conditions: Sequence[sa.ColumnElement[bool]],
    up_to: sa.BindParameter[int],
) -> sa.Subquery:
    """The newest `up_to` ideas that match `parameter` and `conditions`, as (id, rank): the
    list's best match ranks these. All the matches in most searches; in a broad one, a bounded
    amount of work however many ideas the company has (docs/product.md, "Search")."""
    if dialect == "postgresql":
        candidates = (
            sa.select(Idea.id.label("id"), VECTOR.label("vector"))
            .where(matching(parameter), *conditions)
            .order_by(Idea.id.desc())
            .limit(up_to)
            .subquery("candidates")
        )
        # Ranked once the newest are chosen, so ts_rank reads no more vectors than that.
        query = sa.func.websearch_to_tsquery(ENGLISH, parameter)
        return sa.select(
            candidates.c.id, sa.func.ts_rank(candidates.c.vector, query).label("rank")
        ).subquery("best")
    return (
        sa.select(Idea.id.label("id"), sa.literal_column(_RANK, sa.Float).label("rank"))
        .select_from(_FTS)
        .join(Idea, Idea.id == _FTS.c.rowid)
        .where(_FTS_MATCHES(parameter), *conditions)
        .order_by(_FTS.c.rowid.desc())
        .limit(up_to)
        .subquery("best")
    )


# Highlighting: the database marks the words that matched (stemmed as it stems them) with two
# private-use characters; marked() escapes the text and only then puts <mark> around them.
MARK_START = "\ue000"
MARK_END = "\ue001"


def highlighted(
    column: str, parameter: sa.BindParameter[Any], dialect: str, *, up_to: int | None = None
) -> sa.ColumnElement[str]:
    """The idea's `column` (title or problem) with the words that matched between the marks:
    on PostgreSQL only its first `up_to` characters, if given; on SQLite all of it (FTS5 marks
    the indexed column), which marked() then cuts."""
    if dialect == "postgresql":
        text: sa.ColumnElement[str] = getattr(Idea, column)
        if up_to is not None:
            text = sa.func.substr(text, 1, up_to)
        return sa.func.ts_headline(
            ENGLISH,
            text,
            sa.func.websearch_to_tsquery(ENGLISH, parameter),
            sa.literal_column(f"'HighlightAll=true, StartSel={MARK_START}, StopSel={MARK_END}'"),
        )
    number = ("title", "problem", "proposal").index(column)
    return (
        sa.select(
            sa.func.highlight(
                sa.literal_column(FTS_TABLE),
                sa.literal_column(str(number)),
                sa.literal_column(f"'{MARK_START}'"),
                sa.literal_column(f"'{MARK_END}'"),
            )
        )
        .select_from(sa.table(FTS_TABLE))
        .where(
            sa.literal_column(FTS_TABLE).op("MATCH")(parameter),
            sa.literal_column("ideas_fts.rowid") == Idea.id,
        )
        .scalar_subquery()
    )


def marked(shown: str, marks: str | None) -> Markup:
    """`shown` (the text itself, or the start of it) escaped, with the words `marks` marks in
    <mark>. Marks that do not fit the text (the text itself held a marker character) are
    dropped, never trusted."""
    spans = list(_spans(marks)) if marks else []
    plain = marks.replace(MARK_START, "").replace(MARK_END, "") if marks else ""
    common = _common_prefix(shown, plain)
    if not spans or common == 0:
        return escape(shown)
    out: list[str] = []
    position = 0
    for start, end in spans:
        if start >= common:
            break
        end = min(end, common)
        out.append(str(escape(shown[position:start])))
        out.append(f"<mark>{escape(shown[start:end])}</mark>")
        position = end
    out.append(str(escape(shown[position:])))
    return Markup("".join(out))  # noqa: S704 - every piece escaped above


def _spans(marks: str) -> Iterator[tuple[int, int]]:
    """(start, end) of each marked run, as positions in the text without the marks."""
    position = 0
    start: int | None = None
    for character in marks:
        if character == MARK_START and start is None:
            start = position
        elif character == MARK_END and start is not None:
            yield start, position
            start = None
        elif character not in (MARK_START, MARK_END):
            position += 1


def _common_prefix(first: str, second: str) -> int:
    length = min(len(first), len(second))
    for index in range(length):
        if first[index] != second[index]:
            return index
    return length


# Similar ideas, the merge picker and likely duplicates


# Similar ideas and the merge picker rank at most the newest this many matches (all of them in
# most companies).
SUGGESTIONS_UP_TO = 1000


@dataclass(frozen=True, slots=True)
class Match:
    """An idea found like another, as a suggestion shows it."""

    id: int
    title: str
    status: Status
    vote_count: int


def _not_excluded(exclude: Collection[int]) -> list[sa.ColumnElement[bool]]:
    conditions = [Idea.status != Status.MERGED]
    if exclude:
        conditions.append(Idea.id.not_in(list(exclude)))
    return conditions


def _found(
    search: sa.Subquery, conditions: list[sa.ColumnElement[bool]], limit: int
) -> list[Match]:
    rows = db.session.execute(
        sa.select(Idea.id, Idea.title, Idea.status, Idea.vote_count)
        .join(search, search.c.id == Idea.id)
        .where(*conditions)
        .order_by(search.c.rank.desc(), Idea.vote_count.desc(), Idea.id)
        .limit(limit)
    )
    return [Match(*row) for row in rows]


def similar_ideas(text: str, *, limit: int = 5, exclude: Collection[int] = ()) -> list[Match]:
    """The ideas most like `text` (a title being typed, perhaps with its problem): any of its
    words may match (stemmed, stop words ignored), best first; merged ideas left out. One
    query, none for text without a word worth looking for."""
    words = _any_word(text)
    if not words or limit < 1:
        return []
    dialect = _dialect()
    parameter = sa.bindparam("search", _any_word_query(words, dialect), type_=sa.String)
    if dialect == "postgresql":
        query: sa.ColumnElement[Any] = sa.func.websearch_to_tsquery(ENGLISH, parameter)
    else:
        query = parameter
    return _found(ranked_matches(query, dialect, SUGGESTIONS_UP_TO), _not_excluded(exclude), limit)


def titles_matching(
    text: str, *, limit: int = 8, exclude: Collection[int] = (), open_only: bool = False
) -> list[Match]:
    """Ideas whose title holds every word typed, the last as a prefix (typing "refu" finds
    "refunds"), best first: the review panel's "merge into" picker. Merged ideas left out."""
    words = [word.lower() for word in _WORD.findall(text)][:MAX_TERMS]
    if not words or limit < 1:
        return []
    *whole, last = words
    whole = [word for word in whole if word not in STOP_WORDS]
    dialect = _dialect()
    if dialect == "postgresql":
        # :A keeps to the title's lexemes (weight A); :* makes the last a prefix.
        query = " & ".join([*(f"{word}:A" for word in whole), f"{last}:*A"])
        tsquery = sa.func.to_tsquery(ENGLISH, sa.bindparam("search", query))
        search = ranked_matches(tsquery, dialect, SUGGESTIONS_UP_TO)
    else:
        terms = [*(f'"{word}"' for word in whole), f'"{last}"*']
        query = "title : (" + " AND ".join(terms) + ")"
        search = ranked_matches(
            sa.bindparam("search", query, type_=sa.String), dialect, SUGGESTIONS_UP_TO
        )
    conditions = _not_excluded(exclude)
    if open_only:
        conditions.append(Idea.status.in_(OPEN_STATUSES))
    return _found(search, conditions, limit)


# Likely duplicates (docs/product.md, "Similar ideas and duplicates")
#
# Judged once, when an idea is written, and stored (Duplicate): the review queue only reads
# them. An older idea is a likely duplicate when it has much of what is distinctive about the
# new idea's title and problem, and the new idea much of the older one's: each word weighs
# its inverse document frequency, ln(ideas / ideas holding it), twice as much in the title,
# so "customer" or "call" count for little and "wi-fi" or "password" for much. A word's ideas
# are counted through the index up to WORD_COUNT_UP_TO: past that a word is common at any
# size, and counting costs the same.

# The older ideas weighed for each new one: the best full-text matches of any of its words.
DUPLICATE_CANDIDATES = 20
WORD_COUNT_UP_TO = 1000
TITLE_WEIGHT = 2.0
# The share of each idea's weight the other must hold, both ways round (the lower share is
# the pair's score): "wi-fi in the waiting room" holds much of "wi-fi for visitors in the
# waiting area", and the other way round too; a short idea sharing its one rare word with a
# long one does not hold much of the long one. Among ordinary ideas, on either database,
# near-duplicates worded otherwise (tests/ideas/test_duplicates.py) score 0.54 to 0.78, ideas
# sharing common words or a word or two at most 0.36; on the demo company only its two
# look-alikes pass (0.56 and 0.57).
DUPLICATE_SHARE = 0.45
# Pairs kept per new idea (the queue shows three).
MOST_DUPLICATES = 3


@dataclass(frozen=True, slots=True)
class _Count:
    stem: str  # the word as the index holds it (on SQLite, a stand-in: see _counts_on_sqlite)
    ideas: int  # how many ideas hold it, up to WORD_COUNT_UP_TO
    holders: frozenset[int]  # which of the ideas asked about hold it (title or problem)


def duplicates_of(idea_id: int, title: str, problem: str) -> list[tuple[int, float]]:
    """The older ideas (not merged) likely the same as this one, as (id, score), best first,
    at most MOST_DUPLICATES. Five statements at most, whatever the company's size: the number
    of ideas; how many ideas hold each of this idea's words; the candidates, the best matches
    of its words that are not common; which candidates hold each word; then the same for the
    words of the candidates that hold enough of this idea's, to judge the other way round."""
    words = _any_word(f"{title} {problem}")
    if not words:
        return []
    ideas = db.session.scalar(sa.select(sa.func.max(Idea.id))) or 1
    # Looking for the common words too would fill the candidates with the newest ideas that
    # have them, in a large company, and leave out an older idea with the distinctive ones.
    counted = _counts(words, [], ideas)
    wanted = [w for w in words if w in counted and counted[w].ideas < WORD_COUNT_UP_TO] or words
    dialect = _dialect()
    parameter = sa.bindparam("search", _any_word_query(wanted, dialect), type_=sa.String)
    search = best_matches(
        parameter,
        dialect,
        [Idea.id < idea_id, Idea.status != Status.MERGED],
        sa.bindparam("up_to", SUGGESTIONS_UP_TO),
    )
    candidates = {
        number: (other_title, other_problem)
        for number, other_title, other_problem in db.session.execute(
            sa.select(Idea.id, Idea.title, Idea.problem)
            .join(search, search.c.id == Idea.id)
            .order_by(search.c.rank.desc(), Idea.id.desc())
            .limit(DUPLICATE_CANDIDATES)
        )
    }
    if not candidates:
        return []
    forward = _shares(words, set(_any_word(title)), _counts(words, list(candidates), ideas), ideas)
    likely = sorted(
        (number for number, share in forward.items() if share >= DUPLICATE_SHARE),
        key=lambda number: (-forward[number], -number),
    )[:MOST_DUPLICATES]
    if not likely:
        return []
    their_words = {
        number: _any_word(f"{candidates[number][0]} {candidates[number][1]}") for number in likely
    }
    counts = _counts(
        list(dict.fromkeys(w for ws in their_words.values() for w in ws)), [idea_id], ideas
    )
    found = []
    for number in likely:
        backward = _shares(
            their_words[number], set(_any_word(candidates[number][0])), counts, ideas
        )
        score = min(forward[number], backward.get(idea_id, 0.0))
        if score >= DUPLICATE_SHARE:
            found.append((number, score))
    return sorted(found, key=lambda pair: (-pair[1], -pair[0]))


def _shares(
    words: Sequence[str], in_title: set[str], counts: dict[str, _Count], ideas: int
) -> dict[int, float]:
    """Each holder's share of the weight of `words` (forms of one word counted once): a word
    weighs ln(ideas / ideas holding it), TITLE_WEIGHT times as much in the title."""
    stems: dict[str, tuple[_Count, bool]] = {}
    for word in words:
        if (count := counts.get(word)) is not None:
            _, title = stems.get(count.stem, (count, False))
            stems[count.stem] = (count, title or word in in_title)
    weights = [
        (count, math.log((ideas + 1) / max(count.ideas, 1)) * (TITLE_WEIGHT if title else 1))
        for count, title in stems.values()
    ]
    total = sum(weight for _, weight in weights)
    shares: dict[int, float] = {}
    if total <= 0:
        return shares
    for count, weight in weights:
        for holder in count.holders:
            shares[holder] = shares.get(holder, 0.0) + weight / total
    return shares


def _counts(words: Sequence[str], holders: Sequence[int], ideas: int) -> dict[str, _Count]:
    """For each word (stop words are not): its stem, how many ideas hold it and which of
    `holders` do."""
    if not words:
        return {}
    if _dialect() == "postgresql":
        return _counts_on_postgresql(words, holders, ideas)
    return _counts_on_sqlite(words, holders)


# PostgreSQL's GIN index answers "which ideas hold this word" with all of them at once, however
# few are wanted: for a word in most of 100,000 ideas that is some 15 ms. So a word is first
# looked for among the newest RECENT_SAMPLE ideas (read once): if it is there often enough
# that it must be in WORD_COUNT_UP_TO ideas or more, that is its count; only the rarer words
# are counted through the index (up to the same limit), and their lists are short.
_POSTGRESQL_COUNTS = """
WITH typed AS (
    SELECT t.word, v.lexeme
    FROM unnest(CAST(:words AS text[])) AS t(word)
    CROSS JOIN LATERAL unnest(to_tsvector('english', t.word)) AS v
), lexemes AS (
    SELECT lexeme, array_agg(word) AS words, CAST(quote_literal(lexeme) AS tsquery) AS q
    FROM typed GROUP BY lexeme
), recent AS MATERIALIZED (
    SELECT search_vector FROM ideas ORDER BY id DESC LIMIT :sample
), sampled AS (
    SELECT l.*, (SELECT count(*) FROM recent WHERE recent.search_vector @@ l.q) AS seen
    FROM lexemes AS l
)
SELECT l.lexeme, l.words,
       CASE WHEN l.seen * CAST(:ideas AS bigint) >= CAST(:up_to AS bigint) * :sample
            THEN :up_to
            ELSE (SELECT count(*) FROM (
                SELECT 1 FROM ideas WHERE ideas.search_vector @@ l.q LIMIT :up_to
            ) AS m)
       END AS ideas,
       ARRAY(SELECT c.id FROM ideas AS c
             WHERE c.id = ANY(CAST(:holders AS integer[]))
               AND to_tsvector('english', c.title || ' ' || c.problem) @@ l.q) AS holders
FROM sampled AS l
"""
RECENT_SAMPLE = 1000


def _counts_on_postgresql(
    words: Sequence[str], holders: Sequence[int], ideas: int
) -> dict[str, _Count]:
    """PostgreSQL stems each word: its lexeme is counted once, however many forms of it."""
    rows = db.session.execute(
        sa.text(_POSTGRESQL_COUNTS),
        {
            "words": list(words),
            "up_to": WORD_COUNT_UP_TO,
            "holders": list(holders),
            "ideas": ideas,
            "sample": min(ideas, RECENT_SAMPLE),
        },
    )
    return {
        word: _Count(lexeme, count, frozenset(held))
        for lexeme, forms, count, held in rows
        for word in forms
    }


# One member per word: how many ideas hold it (FTS5 stops at the limit) and which of the ideas
# asked about do, each looked up by rowid. A compound SELECT holds at most 500 members.
_SQLITE_COUNT = """
SELECT {n} AS word,
       (SELECT count(*) FROM (
            SELECT 1 FROM ideas_fts WHERE ideas_fts MATCH :w{n} LIMIT :up_to
        )) AS ideas,
       (SELECT group_concat(h.value) FROM json_each(:holders) AS h
        WHERE EXISTS (SELECT 1 FROM ideas_fts
                      WHERE ideas_fts MATCH :h{n} AND ideas_fts.rowid = h.value)) AS holders"""


@cache
def _sqlite_counts(count: int) -> str:
    return "\nUNION ALL\n".join(_SQLITE_COUNT.format(n=n) for n in range(count))


def _counts_on_sqlite(words: Sequence[str], holders: Sequence[int]) -> dict[str, _Count]:
    """FTS5 stems each word as it searches, but tells no stems: two forms of a word (wait,
    waiting) are taken for one when they start alike and the same ideas hold them."""
    values: dict[str, Any] = {"up_to": WORD_COUNT_UP_TO, "holders": json.dumps(list(holders))}
    for n, word in enumerate(words):
        values[f"w{n}"] = f'"{word}"'
        values[f"h{n}"] = f'{{title problem}} : "{word}"'
    counts: dict[str, _Count] = {}
    for n, count, held in db.session.execute(sa.text(_sqlite_counts(len(words))), values):
        holding = frozenset(int(number) for number in held.split(",")) if held else frozenset()
        stem = f"{words[n][:4]} {count} {sorted(holding)}"
        counts[words[n]] = _Count(stem, count, holding)
    return counts


def likely_duplicates(idea_ids: Sequence[int], *, per_idea: int = 3) -> dict[int, list[Match]]:
    """For each idea, the ideas stored as its likely duplicates, either way round, at most
    `per_idea`, best first. Merged ideas are left out; closed ones stay (a duplicate of an
    idea put into practice is already done). One query whatever the number of ideas."""
    ids = list(dict.fromkeys(idea_ids))
    found: dict[int, list[Match]] = {idea_id: [] for idea_id in ids}
    if not ids or per_idea < 1:
        return found
    pairs = sa.union_all(
        sa.select(
            Duplicate.idea_id.label("source"),
            Duplicate.duplicate_id.label("other"),
            Duplicate.score.label("score"),
        ).where(Duplicate.idea_id.in_(ids)),
        sa.select(Duplicate.duplicate_id, Duplicate.idea_id, Duplicate.score).where(
            Duplicate.duplicate_id.in_(ids)
        ),
    ).subquery("pairs")
    place = (
        sa.func.row_number()
        .over(
            partition_by=pairs.c.source,
            order_by=(pairs.c.score.desc(), Idea.vote_count.desc(), Idea.id),
        )
        .label("place")
    )
    ranked = (
        sa.select(pairs.c.source, Idea.id, Idea.title, Idea.status, Idea.vote_count, place)
        .join(Idea, Idea.id == pairs.c.other)
        .where(Idea.status != Status.MERGED)
        .subquery("ranked")
    )
    rows = db.session.execute(
        sa.select(
            ranked.c.source, ranked.c.id, ranked.c.title, ranked.c.status, ranked.c.vote_count
        )
        .where(ranked.c.place <= per_idea)
        .order_by(ranked.c.source, ranked.c.place)
    )
    for source, idea_id, title, status, vote_count in rows:
        found[source].append(Match(idea_id, title, status, vote_count))
    return found
