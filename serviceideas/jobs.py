"""The scheduled commands on several servers: one run of each job at a time, company-wide.

Cron or a systemd timer on every server starts the same jobs at the same moment (README.md,
"Scheduled commands"). What they write is safe to write twice — every notification, e-mail
and enrolment has a unique key, inserted with ON CONFLICT DO NOTHING, and each e-mail is
claimed before it is sent — so two runs at once never send a message twice. Without more,
though, the second run renders every e-mail again only to throw it away, waits on the first
run's uncommitted rows, and could deadlock with it if the two ever inserted the same keys in
different orders (a sequential scan of a large table may start where another one already is).

So on PostgreSQL each job holds an advisory lock, keyed by the job's name, for its whole run,
on a connection of its own (docs/architecture.md, "Scheduled jobs on several servers"). The
lock belongs to the database, so servers of one company share it and other databases on the
same PostgreSQL do not; it goes with the connection, so a run that dies frees it at once.
A job that runs every few minutes skips when another server holds its lock (that run does
the work, and the next one is minutes away); a daily job waits for it, then does whatever is
left — nothing, unless the first run failed half-way.

SQLite is one machine: the commands' write lock (`serviceideas.database.writing`) already
makes their transactions take turns, and the unique keys do the rest.
"""

from __future__ import annotations

import contextlib
import hashlib
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import sqlalchemy as sa

from serviceideas.extensions import db


@dataclass(frozen=True)
class Turn:
    """How a job got its turn: `ran` is False when it skipped because another server was
    running it; `waited` is how long it waited for another server's run (None: no wait)."""

    job: str
    ran: bool = True
    waited: float | None = None

    def note(self) -> str | None:
        """What to tell whoever reads the job's output about the other server, if anything."""
        if not self.ran:
            return (
                f"{self.job} is running on another server: this run did nothing (that one does it)."
            )
        if self.waited is not None:
            return (
                f"Waited {self.waited:.1f} s for {self.job} on another server to finish; "
                "then did what was left."
            )
        return None


def lock_key(job: str) -> int:
    """The job's advisory lock key: a signed 64-bit number from its name, the same on every
    server (and for `pg_locks`: classid and objid are its high and low halves)."""
    digest = hashlib.blake2b(f"serviceideas job {job}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


@contextmanager
def one_at_a_time(job: str, *, wait: bool) -> Iterator[Turn]:
    """Run the body as the only run of `job` on this database, or say why not.

    On PostgreSQL: take the job's advisory lock on a connection of its own, in autocommit (an
    idle transaction held for the whole run could be ended by the server's
    idle_in_transaction_session_timeout). With `wait`, wait for another server's run to
    finish; without, yield a Turn whose `ran` is False when another server holds it — the
    body must then do nothing. Elsewhere (SQLite), the body always runs.
    """
    if db.engine.dialect.name != "postgresql":
        yield Turn(job)
        return
    key = lock_key(job)
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        try:
            waited = None
            if not connection.scalar(sa.select(sa.func.pg_try_advisory_lock(key))):
                if not wait:
                    yield Turn(job, ran=False)
                    return
                started = time.monotonic()
                # However long the other run takes: a statement_timeout set for the
                # database's role would otherwise end the wait with an error.
                connection.exec_driver_sql("SET statement_timeout = 0")
                connection.execute(sa.select(sa.func.pg_advisory_lock(key)))
                waited = time.monotonic() - started
            yield Turn(job, waited=waited)
        finally:
            # Freed at once, so a run that starts now finds it free; then the connection is
            # closed for good rather than pooled, setting and all. If it was lost during the
            # run (the database restarted, say), the lock went with it: nothing to free.
            with contextlib.suppress(sa.exc.DBAPIError):
                connection.execute(sa.select(sa.func.pg_advisory_unlock(key)))
            connection.invalidate()
