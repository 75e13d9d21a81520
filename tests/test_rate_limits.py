"""The rate limits' counters in the app's own database (serviceideas/ratelimits.py): counts,
windows that end and start over, exact totals when several connections count at once, and a
count that is kept whatever the request does with its own transaction. The limits through
gunicorn's two workers: tests/test_rate_limits_workers.py."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa
from limits import parse
from limits.strategies import FixedWindowRateLimiter

from serviceideas.extensions import db, limiter
from serviceideas.ratelimits import SWEEP_EVERY_SECONDS, DatabaseStorage, RateLimitCounter
from tests.conftest import PASSWORD

START = 1_800_000_000.0  # seconds since the epoch


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def storage(app, clock) -> DatabaseStorage:
    return DatabaseStorage(clock=clock)


def counters() -> dict[str, int]:
    db.session.commit()  # read afresh
    return dict(db.session.execute(sa.select(RateLimitCounter.key, RateLimitCounter.count)).all())


def test_the_app_counts_in_its_database_by_default(app):
    assert app.config["RATELIMIT_STORAGE_URI"] == "database://"
    assert isinstance(limiter.storage, DatabaseStorage)


def test_a_count_goes_up_within_its_window(storage, clock):
    assert [storage.incr("k", 60) for _ in range(3)] == [1, 2, 3]
    assert storage.incr("k", 60, amount=2) == 5
    assert storage.get("k") == 5
    assert storage.get("another") == 0
    assert storage.get_expiry("k") == START + 60  # the window began with the first hit
    assert storage.get_expiry("another") == START
    assert counters() == {"k": 5}


def test_an_ended_window_starts_over_in_the_same_statement(storage, clock):
    storage.incr("k", 60)
    clock.now = START + 59.5
    assert storage.incr("k", 60) == 2
    assert storage.get_expiry("k") == START + 60  # a hit does not stretch the window

    clock.now = START + 60
    assert storage.get("k") == 0  # ended, though the row is still there
    assert storage.get_expiry("k") == START + 60
    assert storage.incr("k", 60) == 1
    assert storage.get_expiry("k") == START + 120


def test_a_key_too_long_for_its_column_is_counted_all_the_same(storage):
    long_key, other = "login:" + "a" * 2000, "login:" + "a" * 1999 + "b"
    assert [storage.incr(long_key, 60) for _ in range(2)] == [1, 2]
    assert storage.incr(other, 60) == 1  # same start, another key
    assert storage.get(long_key) == 2
    storage.clear(long_key)
    assert storage.get(long_key) == 0


def test_clear_and_reset_forget_counts(storage):
    storage.incr("a", 60)
    storage.incr("b", 60)
    storage.clear("a")
    assert counters() == {"b": 1}
    assert storage.reset() == 1
    assert counters() == {}
    assert storage.check()


def test_ended_windows_are_deleted_now_and_then(storage, clock):
    storage.incr("old", 10)  # sweeps too: the first hit of a process
    clock.now = START + 20
    storage.incr("new", 60)
    assert set(counters()) == {"old", "new"}  # not yet: one sweep per SWEEP_EVERY_SECONDS

    clock.now = START + SWEEP_EVERY_SECONDS
    storage.incr("new", 60)
    assert counters() == {"new": 2}


def test_the_fixed_window_strategy_refuses_past_the_limit(storage):
    five_a_minute = parse("5 per minute")
    strategy = FixedWindowRateLimiter(storage)
    assert [strategy.hit(five_a_minute, "someone") for _ in range(6)] == [True] * 5 + [False]
    assert strategy.hit(five_a_minute, "someone else")


def test_concurrent_counts_are_exact(app, storage):
    """Threads on connections of their own count the same key at once: every hit gets a
    count of its own and none is lost (one INSERT … ON CONFLICT DO UPDATE … RETURNING)."""
    threads, hits = 4, 25
    seen: list[int] = []
    start = threading.Barrier(threads)
    failures: list[BaseException] = []

    def count() -> None:
        try:
            with app.app_context():
                start.wait()
                seen.extend(storage.incr("shared", 60) for _ in range(hits))
        except BaseException as error:  # reported below, in the test's thread
            failures.append(error)

    workers = [threading.Thread(target=count) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert failures == []
    assert sorted(seen) == list(range(1, threads * hits + 1))
    assert counters() == {"shared": threads * hits}


def test_a_get_request_may_count(app, storage):
    """Counting is the storage's own bookkeeping, not the request's work: a GET, which may
    not write (database.refuse_writes_on_get), still counts."""
    with app.test_request_context("/", method="GET"):
        assert storage.incr("k", 60) == 1
    assert counters() == {"k": 1}


def test_a_failed_sign_in_is_counted_though_its_request_rolls_back(client, make_user):
    """The request's own transaction ends without a commit; the count was committed on a
    connection of its own. (On SQLite the request still held the write lock when the
    limiter counted: this waited for it, and answered 503, before.)"""
    person = make_user()
    answer = client.post("/login", data={"email": person.email, "password": "not " + PASSWORD})
    assert answer.status_code == 422
    assert sorted(counters().values()) == [1, 1]  # per address and per account
