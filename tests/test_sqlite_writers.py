"""SQLite lets one writer in at a time: writers wait their turn in short steps, never fail
while the lock is only briefly taken, and give up with a clear error after the busy timeout.

An engine of its own on a file of its own, so this runs in the suite's PostgreSQL pass too.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from serviceideas import database


@pytest.fixture
def engine(tmp_path) -> Iterator[sa.Engine]:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'writers.sqlite'}")
    database.configure_sqlite(engine)
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE t (n INTEGER)")
    yield engine
    engine.dispose()


def hold_write_lock(path: str, seconds: float, taken: threading.Event) -> None:
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    taken.set()
    time.sleep(seconds)
    other.execute("ROLLBACK")
    other.close()


def holding(engine: sa.Engine, seconds: float) -> threading.Thread:
    taken = threading.Event()
    holder = threading.Thread(
        target=hold_write_lock, args=(engine.url.database, seconds, taken), daemon=True
    )
    holder.start()
    taken.wait()
    return holder


def test_a_writer_waits_for_the_lock_and_gets_it_soon_after_it_is_free(engine):
    holder = holding(engine, 0.3)
    started = time.monotonic()
    with database.writing(), engine.begin() as connection:
        connection.exec_driver_sql("INSERT INTO t VALUES (1)")  # waited for the holder
        waited = time.monotonic() - started
        timeout = connection.exec_driver_sql("PRAGMA busy_timeout").scalar()
    holder.join()
    assert waited > 0.25  # it waited its turn rather than failing
    assert timeout == database.SQLITE_BUSY_TIMEOUT_MS  # restored for everything else
    with engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT count(*) FROM t").scalar() == 1


def test_a_writer_gives_up_after_the_busy_timeout_with_sqlalchemys_error(engine, monkeypatch):
    monkeypatch.setattr(database, "SQLITE_BUSY_TIMEOUT_MS", 200)
    holder = holding(engine, 3.0)
    started = time.monotonic()
    with (
        pytest.raises(sa.exc.OperationalError, match="locked"),
        database.writing(),
        engine.begin() as connection,
    ):
        connection.exec_driver_sql("INSERT INTO t VALUES (1)")
    gave_up_after = time.monotonic() - started
    holder.join()
    assert 0.15 < gave_up_after < 1.5  # after its timeout, not when the holder let go
