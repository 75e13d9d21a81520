"""Rate limits and /healthz with Redis (REDIS_URL), and while Redis is away.

With REDIS_URL set the rate-limit counters live in that Redis, shared by every worker and
server (RATELIMIT_STORAGE_URI still overrides). While Redis does not answer, Flask-Limiter
counts in each process's memory and goes back to Redis once it answers again; no request fails
for it, and /healthz says "degraded" with a 200 (SECURITY.md, "Passwords"; docs/architecture.md,
"Several servers"). Two gunicorn workers sharing the Redis: tests/test_rate_limits_workers.py.

A process has one limiter (serviceideas.extensions.limiter), bound to the app made or bound last,
as a server runs one app. Each test here binds it to its app, and afterwards to the default test
app again, once a request has found that app's storage counting (Flask-Limiter leaves its memory
fallback only when a request finds the storage answering), so later tests find it as new.
"""

from __future__ import annotations

import itertools
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from flask import Flask
from flask.testing import FlaskClient
from limits import parse

from serviceideas import create_app
from serviceideas.config import Config, environment_overrides, rate_limit_settings
from serviceideas.extensions import limiter
from serviceideas.ratelimits import DatabaseStorage
from tests.conftest import PASSWORD, IsolatedClient, ThrowawayRedis, app_for, settings_for_tests

PER_ACCOUNT = parse(Config.LOGIN_RATE_LIMIT_PER_ACCOUNT)  # 5 a minute
# Flask-Limiter asks a storage that failed again 1, 2, 4, 8, 16 and 32 s after (then from 1 s).
RECOVERY_SECONDS = 40
_probes = itertools.count(1)


@pytest.fixture
def app_settings(redis_url: str) -> dict[str, Any]:
    return {"REDIS_URL": redis_url}


@pytest.fixture(autouse=True)
def limiter_bound_to_the_test_app(
    app: Flask, redis_server: ThrowawayRedis, database_url: str
) -> Iterator[None]:
    limiter.init_app(app)
    yield
    if not answers(redis_server.url):
        redis_server.up()
    default = app_for(settings_for_tests(database_url))
    limiter.init_app(default)
    with default.app_context():
        counting_in_storage_again(default.test_client())


def answers(url: str) -> bool:
    try:
        with redis.Redis.from_url(url, socket_connect_timeout=0.5) as client:
            return bool(client.ping())
    except redis.RedisError:
        return False


def fail_to_sign_in(client: FlaskClient, email: str) -> int:
    return client.post("/login", data={"email": email, "password": "not " + PASSWORD}).status_code


def counted_in_storage(email: str) -> int:
    """The account's failed sign-ins in the limiter's storage (Redis, the database), not in
    a process's memory."""
    return limiter.storage.get(PER_ACCOUNT.key_for("login:" + email, "auth.login"))


def counting_in_storage_again(client: FlaskClient) -> float:
    """Fail to sign in as nobody in particular until the storage counts it; the seconds taken."""
    started = time.monotonic()
    while True:
        email = f"probe-{next(_probes)}@example.com"
        fail_to_sign_in(client, email)
        if counted_in_storage(email):
            return time.monotonic() - started
        assert time.monotonic() - started < RECOVERY_SECONDS, "still counting in memory"
        time.sleep(0.1)


def counts_in_redis(url: str, email: str) -> list[int]:
    """The counts of the Redis keys that name this account (found without the app)."""
    with redis.Redis.from_url(url) as client:
        return [int(client.get(key) or 0) for key in client.scan_iter(f"*login:{email}*")]


# Where the counters live


def test_the_settings_choose_redis_when_redis_url_is_set_and_nothing_else_is_given():
    def settled(**given: Any) -> dict[str, Any]:
        defaults = {key: getattr(Config, key) for key in dir(Config) if key.isupper()}
        return rate_limit_settings({**defaults, **given})

    alone = settled()
    assert alone["RATELIMIT_STORAGE_URI"] == "database://"
    assert alone["RATELIMIT_IN_MEMORY_FALLBACK_ENABLED"] is False  # no app without its database
    with_redis = settled(**environment_overrides({"REDIS_URL": "redis://cache:6379/2"}))
    assert with_redis["RATELIMIT_STORAGE_URI"] == "redis://cache:6379/2"
    assert with_redis["RATELIMIT_IN_MEMORY_FALLBACK_ENABLED"] is True
    options = with_redis["RATELIMIT_STORAGE_OPTIONS"]
    assert 0 < options["socket_connect_timeout"] <= options["socket_timeout"] <= 1
    both = environment_overrides(
        {"REDIS_URL": "redis://cache:6379/2", "RATELIMIT_STORAGE_URI": "memcached://mc:11211"}
    )
    assert settled(**both)["RATELIMIT_STORAGE_URI"] == "memcached://mc:11211"
    mine = settled(
        REDIS_URL="redis://cache:6379/2",
        RATELIMIT_STORAGE_OPTIONS={"socket_timeout": 3},
        RATELIMIT_IN_MEMORY_FALLBACK_ENABLED=False,
    )
    assert mine["RATELIMIT_STORAGE_OPTIONS"]["socket_timeout"] == 3
    assert mine["RATELIMIT_IN_MEMORY_FALLBACK_ENABLED"] is False


def test_failed_sign_ins_are_counted_in_redis(app, client, make_user, redis_url):
    assert app.config["RATELIMIT_STORAGE_URI"] == redis_url
    person = make_user()
    assert fail_to_sign_in(client, person.email) == 422
    assert counts_in_redis(redis_url, person.email) == [1]
    assert counted_in_storage(person.email) == 1


def test_two_servers_on_one_redis_share_the_per_account_limit(
    app, client, make_user, redis_url, database_url
):
    """Every request goes through a limiter bound anew to one of two app objects: a new
    Redis client each time and nothing kept in memory, so only Redis can carry the count."""
    second = create_app(settings_for_tests(database_url, REDIS_URL=redis_url))
    second.test_client_class = IsolatedClient
    servers = itertools.cycle([(app, client), (second, second.test_client())])
    person = make_user()
    statuses = []
    for _ in range(PER_ACCOUNT.amount + 1):
        server, its_client = next(servers)
        limiter.init_app(server)
        statuses.append(fail_to_sign_in(its_client, person.email))
    assert statuses == [422] * PER_ACCOUNT.amount + [429]
    # Every failed attempt is counted, the refused one too.
    assert counts_in_redis(redis_url, person.email) == [PER_ACCOUNT.amount + 1]


def test_rate_limit_storage_uri_overrides_redis_url(make_user, redis_url, database_url):
    app = app_for(
        settings_for_tests(database_url, REDIS_URL=redis_url, RATELIMIT_STORAGE_URI="database://")
    )
    limiter.init_app(app)
    assert isinstance(limiter.storage, DatabaseStorage)
    person = make_user()
    with app.app_context():
        assert fail_to_sign_in(app.test_client(), person.email) == 422
        assert counted_in_storage(person.email) == 1
    assert counts_in_redis(redis_url, person.email) == []


# Redis away


def test_with_redis_down_sign_in_answers_limits_hold_per_process_and_redis_counts_again(
    client, make_user, redis_server, redis_url
):
    person, other = make_user(), make_user()
    redis_server.down()
    try:
        assert client.get("/login").status_code == 200
        statuses = [fail_to_sign_in(client, person.email) for _ in range(PER_ACCOUNT.amount + 1)]
        assert statuses == [422] * PER_ACCOUNT.amount + [429]  # counted in this process
        signed_in = client.post("/login", data={"email": other.email, "password": PASSWORD})
        assert signed_in.status_code == 303
    finally:
        redis_server.up()
    # Back to Redis at Flask-Limiter's next look (here 2 s after it found Redis away).
    assert counting_in_storage_again(client) < RECOVERY_SECONDS
    assert fail_to_sign_in(client, other.email) == 422
    assert counts_in_redis(redis_url, other.email) == [1]


@pytest.fixture
def silent_redis() -> Iterator[str]:
    """The URL of a "Redis" that accepts connections (or lets them wait) and never answers."""
    with socket.socket() as listening:
        listening.bind(("127.0.0.1", 0))
        listening.listen(0)
        yield f"redis://127.0.0.1:{listening.getsockname()[1]}/0"


# A Redis that never answers would hold a request for ever without the client's timeouts
# (serviceideas/shared.py: a quarter and half a second): the bound shows they apply, with room
# for a loaded machine (CI took 2.6 s once on two busy cores; the speed is the benchmark's).
HUNG_REQUEST_BOUND = 10.0


def test_a_redis_that_hangs_costs_a_request_bounded_time(make_user, silent_redis, database_url):
    app = create_app(settings_for_tests(database_url, REDIS_URL=silent_redis))
    app.test_client_class = IsolatedClient
    hanging = app.test_client()
    person = make_user()
    with app.app_context():
        for _ in range(2):
            started = time.monotonic()
            assert fail_to_sign_in(hanging, person.email) == 422
            assert time.monotonic() - started < HUNG_REQUEST_BOUND
        started = time.monotonic()
        health = hanging.get("/healthz")
        assert (health.status_code, health.get_json()) == (
            200,
            {"status": "degraded", "redis": "unavailable"},
        )
        assert time.monotonic() - started < HUNG_REQUEST_BOUND


# /healthz


def test_healthz_reports_redis_degraded_while_it_is_away_and_ok_when_back(client, redis_server):
    assert client.get("/healthz").get_json() == {"status": "ok", "redis": "ok"}
    redis_server.down()
    try:
        away = client.get("/healthz")
        assert away.status_code == 200  # the app still serves: stay in the load balancer
        assert away.get_json() == {"status": "degraded", "redis": "unavailable"}
    finally:
        redis_server.up()
    back = client.get("/healthz")
    assert (back.status_code, back.get_json()) == (200, {"status": "ok", "redis": "ok"})
