"""The Redis that several servers share (REDIS_URL), or none.

With REDIS_URL set, what every worker and server must agree on lives there: the report
figures (figures.py) and the rate-limit counters (ratelimits.py). Without it the app runs as
on one machine, and `shared()` is None.

Redis is a help, never a dependency: when it does not answer, callers get their `default` and
carry on (report figures from the server's own memory, rate limits in memory: docs/
architecture.md, "Several servers"). A Redis that failed is left alone for `PAUSE_SECONDS`,
so that a stopped server costs each request nothing rather than a timeout; after that the
next request tries again, and everything recovers without a restart.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

import redis
from flask import Flask, current_app

T = TypeVar("T")
log = logging.getLogger(__name__)

PAUSE_SECONDS = 5.0  # after a failure, how long requests leave Redis alone
CONNECT_TIMEOUT = 0.25  # seconds; Redis is on the local network
COMMAND_TIMEOUT = 0.5


class SharedRedis:
    """A Redis client that reports failures instead of raising them.

    `clock` (seconds; only differences matter) is what a test replaces to step past the pause.
    """

    def __init__(
        self,
        url: str,
        *,
        pause: float = PAUSE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.url = url
        self.client: redis.Redis = redis.Redis.from_url(
            url,
            socket_connect_timeout=CONNECT_TIMEOUT,
            socket_timeout=COMMAND_TIMEOUT,
            health_check_interval=30,
        )
        self.pause = pause
        self.clock = clock
        self._resting_until = 0.0
        self._lock = threading.Lock()

    def run(self, operation: Callable[[redis.Redis], T], default: T) -> T:
        """`operation(client)`, or `default` when Redis fails or failed a moment ago."""
        if self.is_resting():
            return default
        try:
            return operation(self.client)
        except redis.RedisError:
            self._failed()
            return default

    def answers(self) -> bool:
        """Whether Redis answers a PING now (asked even while resting: for /healthz)."""
        try:
            answered = bool(self.client.ping())
        except redis.RedisError:
            self._failed()
            return False
        with self._lock:
            self._resting_until = 0.0
        return answered

    def is_resting(self) -> bool:
        with self._lock:
            return self.clock() < self._resting_until

    def _failed(self) -> None:
        with self._lock:
            first = self.clock() >= self._resting_until
            self._resting_until = self.clock() + self.pause
        if first:
            log.warning(
                "Redis at %s is not answering; carrying on without it for %.0f s",
                redact(self.url),
                self.pause,
            )


def redact(url: str) -> str:
    """The URL without its password, for logs."""
    scheme, _, rest = url.partition("://")
    credentials, at, host = rest.rpartition("@")
    if not at:
        return url
    user = credentials.partition(":")[0]
    return f"{scheme}://{user}:***@{host}" if user else f"{scheme}://***@{host}"


def init_app(app: Flask) -> None:
    url = app.config.get("REDIS_URL")
    app.extensions["shared_redis"] = SharedRedis(url) if url else None


def shared() -> SharedRedis | None:
    """This app's shared Redis, or None when REDIS_URL is not set."""
    found: Any = current_app.extensions.get("shared_redis")
    return found if isinstance(found, SharedRedis) else None
