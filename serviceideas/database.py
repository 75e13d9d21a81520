"""Column types and connection settings shared by every feature's models."""

from __future__ import annotations

import enum
import select
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

import psycopg
import sqlalchemy as sa
from flask import Flask, g, has_app_context, has_request_context, request
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect, Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.compiler import compiles


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC. Used as a column default (a callable)."""
    return datetime.now(UTC)


class UTCDateTime(sa.TypeDecorator[datetime]):
    """A point in time, always aware and in UTC when read back, on SQLite as on PostgreSQL.

    SQLite keeps no time zone, so values are stored as naive UTC there and given their
    zone back when read. Naive values are refused: they are a bug waiting to happen.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given for a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def enum_column_type(enum_class: type[enum.Enum], name: str) -> sa.Enum:
    """A portable enum: a VARCHAR holding the member's value, with a CHECK constraint."""
    return sa.Enum(
        enum_class,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=max(len(member.value) for member in enum_class),
        values_callable=lambda members: [member.value for member in members],
        validate_strings=True,
    )


class contains_text(sa.sql.functions.FunctionElement[bool]):
    """`column` contains a contains_pattern() pattern, ignoring case, in each database's
    cheapest way: SQLite's LIKE already ignores case (for ASCII, as its lower() does);
    PostgreSQL's ILIKE saves lower-casing every row first."""

    type = sa.Boolean()
    inherit_cache = True
    name = "contains_text"


def _like(operator: str, lower: bool) -> Callable[..., str]:
    def compile_like(element: contains_text, compiler: Any, **kw: Any) -> str:
        column, pattern = (compiler.process(clause, **kw) for clause in element.clauses)
        return f"{f'lower({column})' if lower else column} {operator} {pattern} ESCAPE '\\'"

    return compile_like


compiles(contains_text)(_like("LIKE", lower=True))
compiles(contains_text, "sqlite")(_like("LIKE", lower=False))
compiles(contains_text, "postgresql")(_like("ILIKE", lower=False))


def contains_pattern(text: str) -> str:
    """A LIKE pattern (escape character: backslash) matching `text` anywhere, lower-cased.

    The visitor's %, _ and backslash are escaped: they are characters, not wildcards.
    """
    escaped = text.strip().lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def insert_ignoring_duplicates(table: sa.Table, dialect_name: str) -> sa.Insert:
    """INSERT … ON CONFLICT DO NOTHING, on SQLite and PostgreSQL alike.

    For rows that a unique constraint allows only once, when two requests may add the same
    row at the same moment: the second simply adds nothing.
    """
    if dialect_name == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing()
    return sqlite.insert(table).on_conflict_do_nothing()


def violates_unique(error: IntegrityError) -> bool:
    """Whether the database refused a write because a unique constraint (or primary key) holds
    the value already: the one kind of IntegrityError a service turns into a refusal saying
    "already exists". Any other (a foreign key, a CHECK) is a bug, and stays an error."""
    orig = error.orig
    if getattr(orig, "sqlstate", None) == "23505":  # psycopg: unique_violation
        return True
    return isinstance(orig, sqlite3.IntegrityError) and str(orig).startswith(
        ("UNIQUE constraint failed", "PRIMARY KEY constraint failed")
    )


def violates_check(error: IntegrityError, name: str) -> bool:
    """Whether the database refused a write because of the CHECK constraint called `name`
    (as named in the model; the naming convention adds a table prefix)."""
    orig = error.orig
    if getattr(orig, "sqlstate", None) == "23514":  # psycopg: check_violation
        diag = getattr(orig, "diag", None)
        return str(getattr(diag, "constraint_name", "") or "").endswith(name)
    return (
        isinstance(orig, sqlite3.IntegrityError)
        and str(orig).startswith("CHECK constraint failed")
        and str(orig).endswith(name)
    )


_writes_expected: ContextVar[bool] = ContextVar("writes_expected", default=False)


@contextmanager
def writing() -> Iterator[None]:
    """Mark work outside a request (a scheduled job) that writes: on SQLite its transactions
    then take the write lock up front and wait their turn, as writing requests do."""
    token = _writes_expected.set(True)
    try:
        yield
    finally:
        _writes_expected.reset(token)


def configure_sqlite(engine: Engine) -> None:
    """Foreign keys on, write-ahead log, a busy timeout instead of 'database is locked', and
    transactions begun by SQLAlchemy rather than by the sqlite3 module, whose own handling
    breaks SAVEPOINT (a released savepoint would commit everything before it)."""

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(connection: sa.Connection) -> None:
        # A request that may write takes the write lock up front (waiting up to the busy
        # timeout). A deferred transaction that reads and then writes can instead fail at
        # once with "database is locked" when another writer got in between.
        writing = _writes_expected.get() or (
            has_request_context() and request.method not in {"GET", "HEAD", "OPTIONS"}
        )
        if writing:
            _begin_immediate(connection)
        else:
            connection.exec_driver_sql("BEGIN")


SQLITE_BUSY_TIMEOUT_MS = 10_000
SQLITE_BUSY_CODES = {sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED}


def _begin_immediate(connection: sa.Connection) -> None:
    """Take SQLite's write lock, waiting in short steps while another writer holds it.

    SQLite's own busy handler sleeps ever longer between tries (up to 100 ms each), so a
    writer that keeps missing the moment the lock is free can wait a quarter of a second
    behind a busy neighbour. Here the wait is the same (SQLITE_BUSY_TIMEOUT_MS at most) but
    the tries come every 0.2-2 ms for the first tenth of a second, then every 10 ms.
    """
    raw = connection.connection.driver_connection
    if not isinstance(raw, sqlite3.Connection):  # only the sqlite3 driver is configured here
        raise TypeError(f"expected a sqlite3 connection, not {type(raw).__name__}")
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
    pause = 0.0002
    started = time.monotonic()
    raw.execute("PRAGMA busy_timeout=0")
    try:
        while time.monotonic() < deadline:
            try:
                raw.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.Error as error:
                if getattr(error, "sqlite_errorcode", None) not in SQLITE_BUSY_CODES:
                    break  # not a matter of waiting: fail below, as SQLAlchemy's error
            time.sleep(pause)
            # Every 0.2-2 ms at first; after a tenth of a second, every 10 ms.
            pause = min(pause * 1.5, 0.002 if time.monotonic() - started < 0.1 else 0.01)
        # Time is up (or something else is wrong): one last try, whose error comes as
        # SQLAlchemy's ("database is locked" is a 503 for a request, see errors.py).
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    finally:
        raw.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")


def configure_postgresql(app: Flask, engine: Engine) -> None:
    """Requests that only read (GET and HEAD) run their statements without BEGIN and ROLLBACK.

    Each is a round trip to the server, and a page asks for two or three rows. Under
    PostgreSQL's default READ COMMITTED every statement sees its own snapshot inside a
    transaction too, so reads see the same. GETs never write (`refuse_writes_on_get`), so
    nothing is lost by having no transaction to roll back. The connection goes back to
    transactions before it returns to the pool: requests that write, jobs and the test
    suite's own sessions never see this.

    A pooled connection is checked before each use without a round trip: PostgreSQL says
    nothing on an idle connection unless it is closing it (a restart, a crash, a terminated
    backend), so only a connection with something to read is pinged, and one that does not
    answer is replaced, with the rest of the pool (`server_spoke`). A restarted database is
    reconnected to as SQLAlchemy's `pool_pre_ping` would, which cost a `SELECT 1` per request.
    """

    @app.before_request
    def _reads_without_transaction() -> None:
        if request.method in READING_METHODS:
            g.reads_without_transaction = True

    @sa.event.listens_for(engine, "do_execute")
    def _search_unprepared(cursor: Any, statement: str, parameters: Any, _context: Any) -> bool:
        if is_full_text_search(statement):
            cursor.execute(statement, parameters, prepare=False)
            return True
        return False

    @sa.event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        if server_spoke(dbapi_connection) and not _answers(engine.dialect, dbapi_connection):
            # The pool connects again (and every other pooled connection, older than this
            # moment, is replaced when next taken); a database still down is a 503 (errors.py).
            raise sa.exc.InvalidatePoolError("PostgreSQL closed the connection")
        if has_app_context() and g.get("reads_without_transaction"):
            dbapi_connection.autocommit = True

    @sa.event.listens_for(engine, "checkin")
    def _on_checkin(dbapi_connection: Any, _record: Any) -> None:
        if dbapi_connection is not None and not dbapi_connection.closed:
            dbapi_connection.autocommit = False


def is_full_text_search(statement: str) -> bool:
    """Whether a statement searches PostgreSQL's full-text index: such a statement is never
    prepared, so it is planned for the words searched for each time. Prepared, PostgreSQL may
    settle on one generic plan that ignores them, and that plan made the searches 20-60 times
    slower (docs/architecture.md, "Full-text search"). Every other statement is prepared from
    its fifth run on a connection (psycopg's prepare_threshold): parsed and, where PostgreSQL
    judges a generic plan as good as planning anew, planned once."""
    return "tsquery" in statement or "@@" in statement


def server_spoke(dbapi_connection: Any) -> bool:
    """Whether the server sent something on an idle psycopg connection, or closed it: a
    non-blocking look at its socket, no round trip. Between statements PostgreSQL sends nothing
    unless it is ending the connection (its last message, then end of file)."""
    if dbapi_connection.closed:
        return True
    try:
        socket = dbapi_connection.pgconn.socket
    except psycopg.Error:  # psycopg names no socket for a connection it knows is broken
        return True
    poller = select.poll()
    poller.register(socket, select.POLLIN | select.POLLERR | select.POLLHUP)
    return bool(poller.poll(0))


def _answers(dialect: Dialect, dbapi_connection: Any) -> bool:
    """Whether the connection answers a `SELECT 1` (something readable may also be a notice)."""
    try:
        return bool(dialect.do_ping(dbapi_connection))
    except psycopg.Error:  # any failure to answer means: connect again
        return False


READING_METHODS = frozenset({"GET", "HEAD"})
# What a reading request may send: reads, and the transaction control around them.
READ_STATEMENTS = (
    "SELECT",
    "WITH",
    "SHOW",
    "PRAGMA",
    "BEGIN",
    "COMMIT",
    "ROLLBACK",
    "SAVEPOINT",
    "RELEASE",
)


class WriteOnGet(RuntimeError):
    """A GET or HEAD request tried to change the database: a bug, refused before it runs."""


def refuse_writes_on_get(engine: Engine) -> None:
    """GET and HEAD requests only read (docs/architecture.md, "Requests and transactions").

    Links are followed by browsers, prefetchers and mail scanners, and a page may be reloaded
    or restored from history: none of that may change anything. On PostgreSQL a GET also runs
    without a transaction, so a write there would not even be undone with the rest. Any
    statement other than a read is therefore refused during such a request, on every
    database; the access matrix and the fuzzing tests open every GET route as every role, so
    a view that writes fails the suite long before it ships.

    It judges a statement by its first word: a safety net for the ORM's INSERT, UPDATE and
    DELETE, not a proof (a `WITH … INSERT` or `SELECT nextval(…)` would pass). Never write
    one in a GET.
    """

    @sa.event.listens_for(engine, "before_cursor_execute")
    def _refuse(_connection: sa.Connection, _cursor: Any, statement: str, *_: Any) -> None:
        if (
            has_request_context()
            and request.method in READING_METHODS
            and not _writes_expected.get()  # a job building links in a stand-in request
            and not statement.lstrip()[:9].upper().startswith(READ_STATEMENTS)
        ):
            raise WriteOnGet(f"{request.method} {request.path} must not write: {statement[:60]}")
