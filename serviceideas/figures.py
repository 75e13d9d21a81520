"""A short memory for report figures that may be a little stale.

The dashboard, leaderboard and training coverage aggregate over every idea, vote, comment and
enrolment; at company scale that costs a second of database time. Their figures may be up to
FIGURES_CACHE_SECONDS old (60 by default, said on each page); everything a person changes
themselves — their ideas, votes, comments, training — is always read fresh. Each server
process keeps its own copy; only plain values (and rendered HTML) are kept, never database
objects.

No visitor waits for a recomputation while figures are being read: once a figure is half its
allowed age, the request that notices starts recomputing it in the background and is answered
from memory. Only a figure nobody asked for during the last minute is computed while its
visitor waits, and nothing shown is ever older than the allowed age.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar, cast

from flask import Flask, copy_current_request_context, current_app, has_request_context

T = TypeVar("T")

MAX_FIGURES = 512  # periods are few; custom ranges could be many: the oldest are dropped
MAX_REFRESHING = 2  # recomputations running at once in one process; more wait for a visitor

# A figure is known by its function and arguments: (module, qualified name, arguments).
Key = tuple[str, str, tuple[Any, ...]]
Job = Callable[[], None]


@dataclass(frozen=True, slots=True)
class _Entry:
    value: Any  # figures of every type share one memory: `get` gives each back as its T
    computed_at: float


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


def key_of(function: Callable[..., Any], args: tuple[Any, ...]) -> Key:
    return (function.__module__, function.__qualname__, args)


class Figures:
    """The figures of one server process, each remembered for `seconds`.

    `clock` (seconds, only its differences matter) and `start` (runs a job in the background)
    are what a test replaces to step time and run recomputations where it can watch them.
    """

    def __init__(
        self,
        seconds: int,
        *,
        clock: Callable[[], float] = time.monotonic,
        start: Callable[[Job], None],
        max_figures: int = MAX_FIGURES,
        max_refreshing: int = MAX_REFRESHING,
    ) -> None:
        self.seconds = seconds
        self.clock = clock
        self.start = start
        self.max_figures = max_figures
        self.max_refreshing = max_refreshing
        self._entries: dict[Key, _Entry] = {}
        self._refreshing: set[Key] = set()
        self._lock = threading.Lock()

    def get(self, function: Callable[..., T], *args: Any) -> T:
        if self.seconds <= 0:
            return function(*args)
        key = key_of(function, args)
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
            return self._compute(key, function, args)  # two at once both compute: fine
        if refresh:
            try:
                self.start(lambda: self._refresh(key, function, args))
            except Exception:  # no thread to be had: a visitor recomputes it once too old
                current_app.logger.exception("could not start recomputing %s", key[1])
                with self._lock:
                    self._refreshing.discard(key)
        return cast(T, entry.value)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        """How many figures are remembered."""
        with self._lock:
            return len(self._entries)

    def remembers(self, function: Callable[..., Any], *args: Any) -> bool:
        """Whether the figure `function(*args)` is in memory (fresh or not)."""
        with self._lock:
            return key_of(function, args) in self._entries

    def is_refreshing(self, function: Callable[..., Any], *args: Any) -> bool:
        """Whether the figure `function(*args)` is being recomputed in the background."""
        with self._lock:
            return key_of(function, args) in self._refreshing

    def _compute(self, key: Key, function: Callable[..., T], args: tuple[Any, ...]) -> T:
        started = self.clock()  # the figure is as old as the moment its reading began
        value = function(*args)
        with self._lock:
            if key not in self._entries and len(self._entries) >= self.max_figures:
                self._forget_old()
            self._entries[key] = _Entry(value, started)
        return value

    def _forget_old(self) -> None:
        """Drop what is too old to show; if nothing is, the oldest (called under the lock)."""
        too_old = self.clock() - self.seconds
        for stale in [k for k, e in self._entries.items() if e.computed_at <= too_old]:
            del self._entries[stale]
        if len(self._entries) >= self.max_figures:
            del self._entries[min(self._entries, key=lambda k: self._entries[k].computed_at)]

    def _refresh(self, key: Key, function: Callable[..., Any], args: tuple[Any, ...]) -> None:
        try:
            self._compute(key, function, args)
        except Exception:
            # The figure stays as it was; once too old, a visitor's request computes it
            # (and sees the error page if the database is really down).
            current_app.logger.exception("recomputing %s in the background failed", key[1])
        finally:
            with self._lock:
                self._refreshing.discard(key)


def init_app(app: Flask) -> None:
    app.extensions["figures"] = Figures(
        app.config["FIGURES_CACHE_SECONDS"], start=partial(in_background, app)
    )


def remembered(function: Callable[..., T], *args: Any) -> T:
    """`function(*args)`, or the same figure computed less than FIGURES_CACHE_SECONDS ago."""
    figures: Figures = current_app.extensions["figures"]
    return figures.get(function, *args)
