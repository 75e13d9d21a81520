"""A short memory for report figures that may be a little stale.

The dashboard, leaderboard and training coverage aggregate over every idea, vote, comment and
enrolment; at company scale that costs a second of database time. Their figures may be up to
FIGURES_CACHE_SECONDS old (60 by default, said on each page); everything a person changes
themselves — their ideas, votes, comments, training — is always read fresh. Each server
process keeps its own copy; only plain values are kept, never database objects.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

from cachetools import TTLCache
from flask import Flask, current_app

T = TypeVar("T")


class Figures:
    def __init__(self, seconds: int) -> None:
        self.seconds = seconds
        self._cache: TTLCache[Any, Any] = TTLCache(maxsize=2048, ttl=max(seconds, 1))
        self._lock = threading.Lock()

    def get(self, function: Callable[..., T], *args: Any) -> T:
        if self.seconds <= 0:
            return function(*args)
        key = (function.__module__, function.__qualname__, args)
        with self._lock:
            if key in self._cache:
                return self._cache[key]
        value = function(*args)  # computed outside the lock: two at once both compute, fine
        with self._lock:
            self._cache[key] = value
        return value


def init_app(app: Flask) -> None:
    app.extensions["figures"] = Figures(app.config["FIGURES_CACHE_SECONDS"])


def remembered(function: Callable[..., T], *args: Any) -> T:
    """`function(*args)`, or the same figure computed less than FIGURES_CACHE_SECONDS ago."""
    return current_app.extensions["figures"].get(function, *args)
