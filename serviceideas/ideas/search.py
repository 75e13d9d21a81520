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

import re
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import sqlalchemy as sa
from markupsafe import Markup, escape
from sqlalchemy.ext.compiler import compiles

from serviceideas.extensions import db
from serviceideas.ideas.models import OPEN_STATUSES, Idea, Status

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
# most companies); likely duplicates, asked for a whole page of ideas at once, fewer each.
SUGGESTIONS_UP_TO = 1000
DUPLICATE_CANDIDATES = 100


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


# A likely duplicate scores at least this share of what the idea itself scores against its own
# title and problem (an idea matches itself best, so the share is about 1 at most, on either
# database's scale). In tests/ideas/test_search.py near-duplicates worded otherwise score 0.58
# to 0.83 of it on PostgreSQL and 0.74 or more on SQLite; ideas sharing a word or two with it
# at most 0.22 on PostgreSQL and under 0.30 on SQLite. 0.4 sits between the two on both.
DUPLICATE_SHARE = 0.4


def likely_duplicates(idea_ids: Sequence[int], *, per_idea: int = 3) -> dict[int, list[Match]]:
    """For each idea, the other ideas (not merged) most like its title and problem, at most
    `per_idea`, best first, above DUPLICATE_SHARE of its own score, among the newest
    DUPLICATE_CANDIDATES that share a word with it. Two queries whatever the number of ideas
    (up to SQLITE_SOURCES_UP_TO on SQLite, more than a page holds): their words, then one
    search for all of them."""
    ids = list(dict.fromkeys(idea_ids))
    found: dict[int, list[Match]] = {idea_id: [] for idea_id in ids}
    if not ids or per_idea < 1:
        return found
    texts = db.session.execute(
        sa.select(Idea.id, Idea.title, Idea.problem).where(Idea.id.in_(ids))
    ).all()
    dialect = _dialect()
    sources = [
        (idea_id, _any_word_query(words, dialect))
        for idea_id, title, problem in texts
        if (words := _any_word(f"{title} {problem}"))
    ]
    parameters: dict[str, Any] = {
        "per_idea": per_idea,
        "share": DUPLICATE_SHARE,
        "merged": Status.MERGED.value,
        "candidates": DUPLICATE_CANDIDATES,
    }
    if dialect == "postgresql":
        statements = [(_POSTGRESQL_DUPLICATES, sources)] if sources else []
    else:
        statements = [
            (_sqlite_duplicates(len(batch)), batch)
            for start in range(0, len(sources), SQLITE_SOURCES_UP_TO)
            if (batch := sources[start : start + SQLITE_SOURCES_UP_TO])
        ]
    for statement, batch in statements:
        if dialect == "postgresql":
            values: dict[str, Any] = {
                "source_ids": [source for source, _ in batch],
                "queries": [query for _, query in batch],
            }
        else:
            values = {f"s{n}": source for n, (source, _) in enumerate(batch)}
            values |= {f"q{n}": query for n, (_, query) in enumerate(batch)}
        for source, idea_id, title, status, vote_count in db.session.execute(
            sa.text(statement), parameters | values
        ):
            found[source].append(Match(idea_id, title, Status(status), vote_count))
    return found


# For each idea (source): its own score against its words, then, among the newest candidates
# that share a word with it, the best others within the share of that score. PostgreSQL: one
# LATERAL search per idea.
_POSTGRESQL_DUPLICATES = """
SELECT s.source_id, m.id, m.title, m.status, m.vote_count
FROM unnest(CAST(:source_ids AS integer[]), CAST(:queries AS text[])) AS s(source_id, query)
CROSS JOIN LATERAL (SELECT websearch_to_tsquery('english', s.query) AS q) AS tq
JOIN ideas AS own ON own.id = s.source_id
CROSS JOIN LATERAL (
    SELECT c.id, c.title, c.status, c.vote_count, ts_rank(c.search_vector, tq.q) AS rank
    FROM (
        SELECT i.id, i.title, i.status, i.vote_count, i.search_vector
        FROM ideas AS i
        WHERE i.search_vector @@ tq.q AND i.id <> s.source_id AND i.status <> :merged
        ORDER BY i.id DESC
        LIMIT :candidates
    ) AS c
    WHERE ts_rank(c.search_vector, tq.q) >= :share * ts_rank(own.search_vector, tq.q)
    ORDER BY rank DESC, c.vote_count DESC, c.id
    LIMIT :per_idea
) AS m
ORDER BY s.source_id, m.rank DESC, m.vote_count DESC, m.id
"""

# SQLite has no LATERAL: one member of a UNION ALL per idea, each FTS5's newest candidates for
# its words (FTS5 stops after them) with the idea's own score beside them. A compound SELECT
# holds at most 500 members.
SQLITE_SOURCES_UP_TO = 500
_SQLITE_SCORED = """
SELECT * FROM (
    SELECT :s{n} AS source_id, rowid AS id, {rank} AS rank,
           (SELECT {rank} FROM ideas_fts
            WHERE ideas_fts MATCH :q{n} AND rowid = :s{n}) AS own_rank
    FROM ideas_fts WHERE ideas_fts MATCH :q{n}
    ORDER BY rowid DESC LIMIT :candidates
)"""
_SQLITE_KEPT = """
, kept AS (
    SELECT scored.source_id, ideas.id, ideas.title, ideas.status, ideas.vote_count,
           row_number() OVER (
               PARTITION BY scored.source_id
               ORDER BY scored.rank DESC, ideas.vote_count DESC, ideas.id
           ) AS place
    FROM scored JOIN ideas ON ideas.id = scored.id
    WHERE scored.id <> scored.source_id AND ideas.status <> :merged
      AND scored.rank >= :share * scored.own_rank
)
SELECT source_id, id, title, status, vote_count FROM kept
WHERE place <= :per_idea
ORDER BY source_id, place
"""


@cache
def _sqlite_duplicates(sources: int) -> str:
    """The SQLite statement for this many ideas (their values are parameters)."""
    scored = "\nUNION ALL\n".join(_SQLITE_SCORED.format(n=n, rank=_RANK) for n in range(sources))
    return f"WITH scored AS ({scored}\n){_SQLITE_KEPT}"
