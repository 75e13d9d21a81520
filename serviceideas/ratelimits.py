"""Rate-limit counters in the app's own database, so every worker and server sees the same ones.

`database://`, the RATELIMIT_STORAGE_URI used when neither it nor REDIS_URL is set
(config.rate_limit_settings), is a storage for the `limits` library that Flask-Limiter uses: it
keeps the fixed-window counters (Flask-Limiter's default strategy) in the table
`rate_limit_counters` of whichever database the app serving the request uses (SECURITY.md,
"Passwords"). With REDIS_URL set the counters live in that Redis instead (`limits`' own Redis
storage; docs/architecture.md, "Rate limits and health on several servers").
"""

from __future__ import annotations

import hashlib
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from flask import current_app, has_app_context, has_request_context
from limits.storage import Storage
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Mapped, mapped_column

from serviceideas.database import UTCDateTime, writing
from serviceideas.extensions import db

if TYPE_CHECKING:
    from serviceideas.extensions import Base as Model  # what db.Model is, to the type checker
else:
    Model = db.Model  # Flask-SQLAlchemy makes it at run time, out of mypy's sight

# How often (at most, per process) counters whose window has ended are deleted.
SWEEP_EVERY_SECONDS = 60.0
KEY_MAX = 1000


class RateLimitCounter(Model):
    """One rate limit's count for one key (an address, an account) in its current window."""

    __tablename__ = "rate_limit_counters"

    key: Mapped[str] = mapped_column(sa.String(KEY_MAX), primary_key=True)
    count: Mapped[int] = mapped_column(sa.Integer)
    # The fixed window starts with its first hit; the count starts over once this has passed.
    window_ends_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


COUNTERS = RateLimitCounter.metadata.tables[RateLimitCounter.__tablename__]  # typed as a Table


def _moment(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, UTC)


def _stored(key: str) -> str:
    """The key as stored: a key too long for the column (a key function fed a very long
    value) keeps its start and ends in a digest of the whole, instead of failing the insert."""
    if len(key) <= KEY_MAX:
        return key
    return key[: KEY_MAX - 65] + "#" + hashlib.sha256(key.encode()).hexdigest()


class DatabaseStorage(Storage):
    """Counters in the `rate_limit_counters` table of the current app's database.

    Each call runs on a connection of its own and commits at once, outside the request's
    transaction: a count is kept when the request rolls back, and is allowed in a GET
    (`database.writing()`: this bookkeeping is not the request's work). Only the fixed-window
    strategy is supported (no moving or sliding windows).
    """

    STORAGE_SCHEME = ["database"]

    def __init__(
        self,
        uri: str | None = None,
        wrap_exceptions: bool = False,
        *,
        clock: Callable[[], float] = time.time,
        **options: float | str | bool,
    ) -> None:
        """`clock` gives the current time as seconds since the epoch (tests pass their own)."""
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self.clock = clock
        self._next_sweep = 0.0
        self._sweep_lock = threading.Lock()
        # The databases counted in, for reset() outside an app context (a test's teardown).
        self._engines: weakref.WeakSet[Engine] = weakref.WeakSet()

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        return sa.exc.SQLAlchemyError

    def _engine(self) -> Engine:
        engine = db.engine  # the current app's
        self._engines.add(engine)
        return engine

    def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        """Add `amount` to the key's count and return the new count, in one statement: a
        window that has ended starts over, at `amount`, ending `expiry` seconds from now."""
        now = self.clock()
        engine = self._engine()
        insert = postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert
        new = insert(COUNTERS).values(
            key=_stored(key), count=amount, window_ends_at=_moment(now + expiry)
        )
        ended = COUNTERS.c.window_ends_at <= _moment(now)
        upsert = new.on_conflict_do_update(
            index_elements=[COUNTERS.c.key],
            set_={
                "count": sa.case((ended, new.excluded.count), else_=COUNTERS.c.count + amount),
                "window_ends_at": sa.case(
                    (ended, new.excluded.window_ends_at), else_=COUNTERS.c.window_ends_at
                ),
            },
        ).returning(COUNTERS.c.count)
        with self._writing(engine) as connection:
            count = connection.execute(upsert).scalar_one()
        if self._sweep_due(now):
            self._sweep(engine, ended)
        return int(count)

    def _sweep(self, engine: Engine, ended: sa.ColumnElement[bool]) -> None:
        """Delete the counters whose window has ended, in a transaction of its own (so it
        never holds one row's lock while waiting for another's). It is housekeeping: should it
        fail, the next sweep does the work and the hit that ran it is counted all the same."""
        try:
            with self._writing(engine) as connection:
                connection.execute(sa.delete(COUNTERS).where(ended))
        except sa.exc.SQLAlchemyError as error:
            current_app.logger.warning("Could not delete ended rate-limit windows: %s", error)

    @contextmanager
    def _writing(self, engine: Engine) -> Iterator[sa.Connection]:
        """A transaction of the storage's own, committed as it closes.

        On SQLite a request that may write holds the database's one write lock from its first
        statement to its end (docs/architecture.md, "Requests and transactions"), and
        Flask-Limiter counts a failed sign-in after the view has answered, before the request
        ends: a count on another connection would wait for a lock its own request holds. So
        on SQLite a request's transaction still open at that point is rolled back first, as
        the request's end would do a moment later: its work is committed or abandoned by
        then, and nothing the limiter counts before a view runs has begun one.
        """
        if (
            engine.dialect.name == "sqlite"
            and has_request_context()
            and db.session().in_transaction()
        ):
            db.session.rollback()
        with writing(), engine.begin() as connection:
            yield connection

    def _sweep_due(self, now: float) -> bool:
        """Whether to delete ended windows now: at most once a SWEEP_EVERY_SECONDS per process,
        which keeps the table to about the keys used in the last window and costs nothing
        on most hits (the index on window_ends_at finds the rows)."""
        with self._sweep_lock:
            if now < self._next_sweep:
                return False
            self._next_sweep = now + SWEEP_EVERY_SECONDS
            return True

    def _current(self, column: sa.ColumnElement[object], key: str) -> object:
        query = sa.select(column).where(
            COUNTERS.c.key == _stored(key), COUNTERS.c.window_ends_at > _moment(self.clock())
        )
        with self._engine().connect() as connection:
            return connection.execute(query).scalar_one_or_none()

    def get(self, key: str) -> int:
        """The key's count in its current window (0 when it has none)."""
        count = self._current(COUNTERS.c.count, key)
        return int(count) if isinstance(count, int) else 0

    def get_expiry(self, key: str) -> float:
        """When the key's current window ends (seconds since the epoch; now if it has none)."""
        ends = self._current(COUNTERS.c.window_ends_at, key)
        return ends.timestamp() if isinstance(ends, datetime) else self.clock()

    def check(self) -> bool:
        try:
            with self._engine().connect() as connection:
                connection.execute(sa.select(1))
        except sa.exc.SQLAlchemyError:
            return False
        return True

    def clear(self, key: str) -> None:
        with self._writing(self._engine()) as connection:
            connection.execute(sa.delete(COUNTERS).where(COUNTERS.c.key == _stored(key)))

    def reset(self) -> int | None:
        """Forget every counter: in the current app's database, or outside an app context in
        every database this storage has counted in."""
        engines = [self._engine()] if has_app_context() else list(self._engines)
        removed = 0
        for engine in engines:
            with self._writing(engine) as connection:
                removed += connection.execute(sa.delete(COUNTERS)).rowcount
        return removed
