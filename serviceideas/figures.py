"""Report figures remembered for a short while, fresh again after every decision.

The dashboard, leaderboard and training coverage aggregate over every idea, vote, comment and
enrolment; at company scale that costs a second of database time. Their figures may be up to
FIGURES_CACHE_SECONDS old (60 by default, said on each page), except that a decision which
changes the ideas put into practice makes them all fresh on the next page view: such a
decision bumps `figures_version` in its own transaction (`figures_changed`, called by
insights/receivers.py), each request that reads figures reads that counter once, and the
counter is part of every figure's key. Everything a person changes themselves is always read
fresh. Only plain values and rendered HTML are kept, never database objects.

Where figures are kept (docs/architecture.md, "Report figures" and "Several servers"):

- With REDIS_URL: in Redis, shared by every worker and server (`SharedFigures`), pickled and
  signed with a key derived from SECRET_KEY. One process at a time computes a figure (a lock
  in Redis); past half its age, the one that takes the lock recomputes it once the response
  has been sent, while every other visitor is answered with the stored value.
- Without REDIS_URL, or while Redis does not answer: in the process's own memory (`Figures`),
  refreshed by background threads past half age.

Nothing shown is older than the allowed age: a figure drawn from other figures (the
dashboard's HTML from its reading) counts as old as the oldest of them.
"""

from __future__ import annotations

import contextvars
import hashlib
import hmac
import logging
import pickle
import secrets
import threading
import time
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar, cast

import redis
import sqlalchemy as sa
from flask import (
    Flask,
    Response,
    after_this_request,
    copy_current_request_context,
    current_app,
    g,
    has_app_context,
    has_request_context,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, mapped_column

from serviceideas.extensions import db
from serviceideas.shared import SharedRedis

if TYPE_CHECKING:
    from serviceideas.extensions import Base as Model  # what db.Model is, to the type checker
else:
    Model = db.Model  # Flask-SQLAlchemy makes it at run time, out of mypy's sight

T = TypeVar("T")
log = logging.getLogger(__name__)

MAX_FIGURES = 512  # periods are few; custom ranges could be many: the oldest are dropped
MAX_REFRESHING = 2  # recomputations running at once in one process; more wait for a visitor
PREFIX = "serviceideas:figures:"  # every key this module writes in Redis starts so
LOCK_SECONDS = 30  # a process that took a figure's lock and died holds it this long at most
WAIT_SECONDS = 2.0  # how long a visitor waits for another process computing a missing figure
POLL_SECONDS = 0.02

Job = Callable[[], object]


def code_digest(*folders: Path) -> str:
    """What this server's code is: its Python modules and templates, hashed. Part of every key
    in Redis, so that during a rolling deploy a figure written by the old code (whose shape or
    drawn HTML may differ) is never read by the new, nor the other way round."""
    digest = hashlib.sha256()
    for folder in folders:
        for path in sorted(p for p in folder.rglob("*") if p.suffix in {".py", ".html"}):
            digest.update(path.relative_to(folder).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


_PACKAGE = Path(__file__).resolve().parent
CODE = code_digest(_PACKAGE, _PACKAGE.parent / "templates")


# The counter of decisions that change the figures (docs/architecture.md, "Report figures")


class FiguresVersion(Model):
    """One row (id 1): how many decisions have changed the ideas put into practice. Part of
    every figure's key, so a figure read before the latest decision is never shown again. No
    row reads as 0: a new database has none (so it is empty for a restore, backup.py) until
    the first such decision writes it."""

    __tablename__ = "figures_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(default=0)


def figures_changed() -> None:
    """Make every report figure fresh on its next view, once this transaction commits.

    Only flushes (it runs inside a decision's transaction). An upsert: the first decision
    writes the row."""
    table = cast(sa.Table, FiguresVersion.__table__)
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    db.session.execute(
        insert(table)
        .values(id=1, version=1)
        .on_conflict_do_update(index_elements=["id"], set_={"version": table.c.version + 1})
    )
    if has_app_context():
        g.pop("figures_version", None)  # this request reads the new count if it reads figures


def figures_version() -> int:
    """The counter as this request first read it (one query per request; 0 when no row)."""
    if "figures_version" not in g:
        g.figures_version = (
            db.session.scalar(sa.select(FiguresVersion.version).where(FiguresVersion.id == 1)) or 0
        )
    return cast(int, g.figures_version)


# What is remembered


class Key(NamedTuple):
    """A figure: the counter when it was asked for, the function, and its arguments."""

    version: int
    module: str
    name: str
    args: tuple[Any, ...]

    @property
    def redis_name(self) -> str:
        """Stable across processes and servers running the same code (`CODE`): the arguments
        (periods, dates, numbers and flags) by their repr, hashed."""
        digest = hashlib.sha256(repr(self.args).encode()).hexdigest()[:32]
        return f"{PREFIX}{CODE}:{self.version}:{self.module}.{self.name}:{digest}"


def key_of(version: int, function: Callable[..., Any], args: tuple[Any, ...]) -> Key:
    return Key(version, function.__module__, function.__qualname__, args)


@dataclass(frozen=True, slots=True)
class Entry:
    value: Any  # figures of every type share one store: `remembered` gives each back as its T
    computed_at: float  # wall-clock seconds (time.time), comparable between servers


# The moments at which the figures read while computing another were computed: a figure drawn
# from remembered figures is as old as the oldest of them, not as the drawing.
_reads: ContextVar[list[float] | None] = ContextVar("figures_reads", default=None)
# Set while a recomputation runs after a response: figures it needs that are past half their
# age are recomputed there and then, as nobody is waiting.
_in_job: ContextVar[bool] = ContextVar("figures_in_job", default=False)


def measured(compute: Callable[[], Any], clock: Callable[[], float]) -> Entry:
    """`compute()`, with the moment its reading began (or its oldest remembered input's)."""
    reads: list[float] = []
    token = _reads.set(reads)
    started = clock()
    try:
        value = compute()
    finally:
        _reads.reset(token)
    return Entry(value, min([started, *reads]))


def _note_read(entry: Entry) -> None:
    reads = _reads.get()
    if reads is not None:
        reads.append(entry.computed_at)


# The memory of one process


def in_background(app: Flask, job: Job) -> None:
    """Run `job` in a thread of its own, inside a copy of this request (or `app`'s context)."""
    if has_request_context():
        job = copy_current_request_context(job)
    else:

        def with_app(work: Job = job) -> None:
            with app.app_context():
                work()

        job = with_app
    threading.Thread(target=job, name="figures-refresh", daemon=True).start()


class Figures:
    """The figures of one server process, each remembered for `seconds`.

    `clock` (seconds) and `start` (runs a job in the background) are what a test replaces to
    step time and run recomputations where it can watch them.
    """

    def __init__(
        self,
        seconds: int,
        *,
        clock: Callable[[], float] = time.time,
        start: Callable[[Job], None],
        max_figures: int = MAX_FIGURES,
        max_refreshing: int = MAX_REFRESHING,
    ) -> None:
        self.seconds = seconds
        self.clock = clock
        self.start = start
        self.max_figures = max_figures
        self.max_refreshing = max_refreshing
        self._entries: dict[Key, Entry] = {}
        self._refreshing: set[Key] = set()
        self._version = 0  # the newest counter seen: entries of older ones are dropped
        self._lock = threading.Lock()

    def get(self, key: Key, compute: Callable[[], Any]) -> Entry:
        refresh = False
        with self._lock:
            entry = self._entries.get(key)
            age = self.clock() - entry.computed_at if entry else None
            if entry is not None and age is not None and age < self.seconds:
                refresh = (
                    age >= self.seconds / 2
                    and key not in self._refreshing
                    and len(self._refreshing) < self.max_refreshing
                )
                if refresh:
                    self._refreshing.add(key)
            else:
                entry = None
        if entry is None:
            return self._compute(key, compute)  # two at once both compute: fine
        if refresh and _in_job.get():  # needed by a recomputation: nobody waits for it
            return self._refresh(key, compute) or entry
        if refresh:
            try:
                self.start(lambda: self._refresh(key, compute))
            except Exception:  # no thread to be had: a visitor recomputes it once too old
                current_app.logger.exception("could not start recomputing %s", key.name)
                with self._lock:
                    self._refreshing.discard(key)
        return entry

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        """How many figures are remembered."""
        with self._lock:
            return len(self._entries)

    def remembers(self, key: Key) -> bool:
        """Whether the figure is in memory (fresh or not)."""
        with self._lock:
            return key in self._entries

    def is_refreshing(self, key: Key) -> bool:
        """Whether the figure is being recomputed in the background."""
        with self._lock:
            return key in self._refreshing

    def _compute(self, key: Key, compute: Callable[[], Any]) -> Entry:
        entry = measured(compute, self.clock)
        with self._lock:
            if key.version > self._version:  # a decision: older figures are never asked again
                self._version = key.version
                for old in [k for k in self._entries if k.version < key.version]:
                    del self._entries[old]
            if key not in self._entries and len(self._entries) >= self.max_figures:
                self._forget_old()
            self._entries[key] = entry
        return entry

    def _forget_old(self) -> None:
        """Drop what is too old to show; if nothing is, the oldest (called under the lock)."""
        too_old = self.clock() - self.seconds
        for stale in [k for k, e in self._entries.items() if e.computed_at <= too_old]:
            del self._entries[stale]
        if len(self._entries) >= self.max_figures:
            del self._entries[min(self._entries, key=lambda k: self._entries[k].computed_at)]

    def _refresh(self, key: Key, compute: Callable[[], Any]) -> Entry | None:
        """Recompute in the background (figures it reads are recomputed there too, if past
        half their age): the new entry, or None if it failed."""
        in_job = _in_job.set(True)
        try:
            if has_app_context():
                g.figures_version = key.version
            return self._compute(key, compute)
        except Exception:
            # The figure stays as it was; once too old, a visitor's request computes it
            # (and sees the error page if the database is really down).
            current_app.logger.exception("recomputing %s in the background failed", key.name)
            return None
        finally:
            _in_job.reset(in_job)
            with self._lock:
                self._refreshing.discard(key)


# Redis, shared by every worker and server


class _Failed:
    """What `SharedRedis.run` gives back when Redis did not answer."""


FAILED = _Failed()


def signing_key(secret: str | bytes) -> bytes:
    """The key that signs figures in Redis: derived from SECRET_KEY, for this use only."""
    raw = secret.encode() if isinstance(secret, str) else secret
    return hmac.new(raw, b"serviceideas report figures in Redis", hashlib.sha256).digest()


class SharedFigures:
    """Figures kept in Redis for `seconds`; the process's own `memory` while Redis is away.

    A stored value is `HMAC-SHA256(key, name + payload) + payload`, the payload a pickle of
    (computed_at, value): whoever can write to Redis but does not know SECRET_KEY cannot make
    the app unpickle their bytes, nor move a value under another figure's name. A value whose
    signature does not match is a miss (and is logged).
    """

    def __init__(
        self,
        redis: SharedRedis,
        memory: Figures,
        secret: str | bytes,
        *,
        clock: Callable[[], float] = time.time,
        wait: float = WAIT_SECONDS,
    ) -> None:
        self.redis = redis
        self.memory = memory
        self.seconds = memory.seconds
        self.clock = clock
        self.wait = wait
        self._key = signing_key(secret)

    def get(self, key: Key, compute: Callable[[], Any]) -> Entry:
        name = key.redis_name
        raw = self._ask(lambda r: r.get(name))
        if isinstance(raw, _Failed):
            return self.memory.get(key, compute)
        entry = self._fresh(name, raw)
        if entry is None:
            return self._compute_once(key, compute)
        if self.clock() - entry.computed_at >= self.seconds / 2:
            return self._refresh_later(key, compute) or entry
        return entry

    def _ask(self, operation: Callable[[redis.Redis], Any]) -> object:
        """What Redis answered, or FAILED."""
        failed: object = FAILED
        return self.redis.run(operation, failed)

    # Signed values

    def _sign(self, name: str, payload: bytes) -> bytes:
        return hmac.new(self._key, name.encode() + b"\0" + payload, hashlib.sha256).digest()

    def _sealed(self, name: str, entry: Entry) -> bytes:
        payload = pickle.dumps((entry.computed_at, entry.value), protocol=pickle.HIGHEST_PROTOCOL)
        return self._sign(name, payload) + payload

    def _opened(self, name: str, raw: bytes) -> Entry | None:
        signature, payload = raw[:32], raw[32:]
        if not hmac.compare_digest(signature, self._sign(name, payload)):
            log.warning("report figure %s in Redis has a bad signature: ignored", name)
            return None
        try:
            computed_at, value = pickle.loads(payload)  # noqa: S301 - signed by this app
        except Exception:  # written by another release of the app: computed anew
            log.warning("report figure %s in Redis could not be read: ignored", name)
            return None
        return Entry(value, float(computed_at))

    def _fresh(self, name: str, raw: Any) -> Entry | None:
        if not isinstance(raw, bytes):
            return None
        entry = self._opened(name, raw)
        if entry is None or self.clock() - entry.computed_at >= self.seconds:
            return None
        return entry

    def _store(self, key: Key, entry: Entry) -> None:
        left = self.seconds - (self.clock() - entry.computed_at)
        if left <= 0:
            return
        blob = self._sealed(key.redis_name, entry)
        self.redis.run(lambda r: r.set(key.redis_name, blob, px=max(1, int(left * 1000))), None)

    # One process computes

    def _lock_name(self, key: Key) -> str:
        return f"{PREFIX}lock:{key.redis_name.removeprefix(PREFIX)}"

    def _take_lock(self, key: Key) -> str | _Failed | None:
        """A token when this process may compute the figure, None when another does."""
        token = secrets.token_hex(8)
        taken = self._ask(lambda r: r.set(self._lock_name(key), token, nx=True, ex=LOCK_SECONDS))
        if isinstance(taken, _Failed):
            return FAILED
        return token if taken else None

    def _release(self, key: Key, token: str) -> None:
        self.redis.run(lambda r: r.eval(RELEASE, 1, self._lock_name(key), token), None)

    def _compute_once(self, key: Key, compute: Callable[[], Any]) -> Entry:
        """A missing figure: computed by the process that takes its lock, while the others
        wait for it a moment (then compute it themselves)."""
        token = self._take_lock(key)
        if isinstance(token, _Failed):
            return self.memory.get(key, compute)
        if token is not None:
            try:
                return self._compute_and_store(key, compute)
            finally:
                self._release(key, token)
        name = key.redis_name
        deadline = time.monotonic() + self.wait
        while time.monotonic() < deadline:
            time.sleep(POLL_SECONDS)
            raw = self._ask(lambda r: r.get(name))
            if isinstance(raw, _Failed):
                return self.memory.get(key, compute)
            entry = self._fresh(name, raw)
            if entry is not None:
                return entry
        return self._compute_and_store(key, compute)

    def _compute_and_store(self, key: Key, compute: Callable[[], Any]) -> Entry:
        entry = measured(compute, self.clock)
        self._store(key, entry)
        return entry

    def _refresh_later(self, key: Key, compute: Callable[[], Any]) -> Entry | None:
        """Past half its age: the process that takes the lock recomputes the figure after
        its response is sent; there and then (giving the new entry) when nobody waits for
        it: in such a recomputation, or outside a request."""
        token = self._take_lock(key)
        if not isinstance(token, str):
            return None
        job = partial(self._recompute, key, compute, token)
        if _in_job.get() or not has_request_context():
            return job()
        after_response(job)
        return None

    def _recompute(self, key: Key, compute: Callable[[], Any], token: str) -> Entry | None:
        try:
            g.figures_version = key.version
            return self._compute_and_store(key, compute)
        except Exception:  # the stored figure stays until too old; then a visitor computes it
            current_app.logger.exception("recomputing %s after a response failed", key.name)
            return None
        finally:
            self._release(key, token)


# Deletes a lock only if it is still the one this process took.
RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end"


def after_response(job: Job) -> None:
    """Run `job` once this request's response has been sent (the WSGI server closes it), in a
    copy of this request's context, on this thread: no visitor waits and no thread starts."""
    work = copy_current_request_context(job)

    def run() -> None:
        # A context of its own: fresh app context and database session, and `_in_job` set.
        contextvars.Context().run(_as_job, work)

    @after_this_request
    def on_close(response: Response) -> Response:
        response.call_on_close(run)
        return response


def _as_job(work: Job) -> None:
    _in_job.set(True)
    try:
        work()
    except Exception:
        log.exception("a report figure's recomputation failed")


# The app's store, and what views call


Store = Figures | SharedFigures


def init_app(app: Flask) -> None:
    memory = Figures(app.config["FIGURES_CACHE_SECONDS"], start=partial(in_background, app))
    redis = app.extensions.get("shared_redis")
    store: Store = memory
    if isinstance(redis, SharedRedis):
        store = SharedFigures(redis, memory, app.config["SECRET_KEY"])
    app.extensions["figures"] = store


def store() -> Store:
    found: Store = current_app.extensions["figures"]
    return found


def remembered(function: Callable[..., T], *args: Any) -> T:
    """`function(*args)`, or the same figure computed less than FIGURES_CACHE_SECONDS ago and
    since the latest decision that changed the ideas put into practice."""
    figures = store()
    if figures.seconds <= 0:
        return function(*args)
    key = key_of(figures_version(), function, args)
    entry = figures.get(key, lambda: function(*args))
    _note_read(entry)
    return cast(T, entry.value)
