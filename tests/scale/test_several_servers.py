"""Scale: two app instances behind nginx, on one PostgreSQL and one Redis, behave as one app.

The test starts on 127.0.0.1, in a temporary folder: a PostgreSQL (scripts/throwaway-postgres),
a Redis (scripts/throwaway-redis), the schema as production makes it (`flask db upgrade`) and a
small company (the benchmark's seed: bench/seed.py), two gunicorn instances with the same
SECRET_KEY, DATABASE_URL, REDIS_URL and SERVICEIDEAS_PROXY_HOPS=1, and nginx in front of them
serving deploy/nginx/serviceideas.conf itself (bench/cluster.py renders it for loopback). nginx
serves the site three times: round robin over both instances (`cluster.base`) and pinned to
each one (`cluster.pinned[n]`), so a check chooses which instance answers while still going
through the real site; each instance's access log shows that it did answer.

Through nginx it shows that
- a session and a form's CSRF token from one instance work on the other;
- failed sign-ins to one account, alternating between the instances, are refused (429) after
  exactly LOGIN_RATE_LIMIT_PER_ACCOUNT of them, and so is the right password then; and the
  per-address limit counts each client's own address, which nginx passes on, not nginx's;
- nginx serves static files itself and refuses a body over MAX_CONTENT_LENGTH (413);
- a manager implements an idea on one instance, and the dashboard's headline and the
  leaderboard on the other instance show it on the next view (both viewed first by several
  requests at once on each instance, so that every worker remembers its figures, with the
  default FIGURES_CACHE_SECONDS);
- enrol-training, send-reminders and send-digests started on both "servers" at the same moment
  each make every enrolment once and send every message once (to an SMTP sink, aiosmtpd);
- Redis stopped and started again while people vote, comment and read loses nothing (every
  acknowledged vote and comment is in the database), answers every request with success (no
  500), and /healthz says "degraded" while Redis is away, with a 200, and "ok" after.

About a minute on 2 cores, most of it starting servers and the jobs' processes (longer while
other tests share the machine). Marked `scale`: a plain `pytest` leaves it out, `pytest -m
scale` runs it, and scripts/test-all (so CI) runs it once on PostgreSQL, after the fault test.
Without nginx, redis-server or PostgreSQL it is skipped, except in CI (CI=true), where that is
a failure.
Every process it started is stopped at the end, whatever happened (bench/cluster.py).
"""

from __future__ import annotations

import glob
import http.client
import json
import os
import random
import re
import shutil
import threading
import time
import urllib.parse
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import message_from_bytes
from email.header import decode_header, make_header

import pytest
import sqlalchemy as sa

from bench.cluster import Cluster, Throwaway, free_port, nginx_binary

pytestmark = pytest.mark.scale

STAFF, IDEAS = 40, 120  # the benchmark's seed at a small size
PASSWORD = "amber-kettle-orbit-42"
SIGN_IN = list(range(1, 9))  # people who can sign in: 1 is the seed's admin and manager
MISSED = 3  # people added after the training was assigned: enrol-training's work
E_MAILED_REMINDERS = 4  # people 1-4 want training reminders by e-mail
REQUEST_TIMEOUT = 15.0
CSRF_FIELD = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


# The servers


def required(what: str, present: bool) -> None:
    if present:
        return
    message = f"{what} is not installed (apt-get install {what})"
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI: {message}; the scale test is required")
    pytest.skip(message)


class Sink:
    """An SMTP server that keeps every message it receives (aiosmtpd, on 127.0.0.1)."""

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        self.messages: list[tuple[str, str]] = []  # (to, subject)
        self.lock = threading.Lock()
        self.port = free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        message = message_from_bytes(envelope.content)  # type: ignore[attr-defined]
        subject = str(make_header(decode_header(message["Subject"])))
        with self.lock:
            for to in envelope.rcpt_tos:  # type: ignore[attr-defined]
                self.messages.append((to, subject))
        return "250 OK"

    def received(self) -> list[tuple[str, str]]:
        with self.lock:
            return list(self.messages)

    def stop(self) -> None:
        self.controller.stop()


@dataclass
class Servers:
    cluster: Cluster
    postgres: Throwaway
    redis: Throwaway
    sink: Sink
    engine: sa.Engine

    def rows(self, sql: str, **values: object) -> list[sa.Row]:
        with self.engine.connect() as connection:
            return list(connection.execute(sa.text(sql), values))


def prepare(cluster: Cluster, url: str) -> None:
    """The schema as production makes it, then a small company: the benchmark's seed, with a
    password for a few people and a few joiners whom no assignment has enrolled yet."""
    migrate = cluster.command("db", "upgrade")
    out, err = migrate.communicate(timeout=120)
    assert migrate.returncode == 0, f"flask db upgrade failed:\n{out}\n{err}"

    from werkzeug.security import generate_password_hash

    from bench.seed import _fill
    from serviceideas import create_app
    from serviceideas.extensions import db
    from serviceideas.notifications.models import Category, Delivery
    from tests.conftest import settings_for_tests

    app = create_app(settings_for_tests(url))
    with app.app_context():
        with db.engine.begin() as connection:
            _fill(connection, db.metadata.tables, STAFF, IDEAS, random.Random(17))
            quick = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")
            connection.execute(
                sa.text("UPDATE users SET password_hash = :hash, active = true WHERE id <= :n"),
                {"hash": quick, "n": max(SIGN_IN)},
            )
            now = datetime.now(UTC)
            users = db.metadata.tables["users"]
            connection.execute(
                sa.insert(users),
                [
                    {
                        "id": STAFF + n,
                        "email": f"joiner{n}@example.com",
                        "name": f"Joiner {n}",
                        "department_id": 1,
                        "is_trainer": False,
                        "is_manager": False,
                        "is_admin": False,
                        "active": True,
                        "session_token": f"joiner-token{n}",
                        "created_at": now,
                        "updated_at": now,
                    }
                    for n in range(1, MISSED + 1)
                ],
            )
            connection.exec_driver_sql(
                "SELECT setval(pg_get_serial_sequence('users', 'id'), (SELECT max(id) FROM users))"
            )
            # Training reminders by e-mail for a few people only, the rest in the app: the
            # seed leaves hundreds of deadlines past, and a few dozen messages make the point.
            connection.execute(
                sa.insert(db.metadata.tables["notification_preferences"]),
                [
                    {"user_id": n, "category": Category.TRAINING, "delivery": Delivery.OFF}
                    for n in range(E_MAILED_REMINDERS + 1, STAFF + MISSED + 1)
                ],
            )
        db.engine.dispose()


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    required("nginx", nginx_binary() is not None)
    required("redis-server", shutil.which("redis-server") is not None)
    required(
        "postgresql",
        bool(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl") or shutil.which("pg_ctl")),
    )
    folder = tmp_path_factory.mktemp("scale")
    postgres = Throwaway("postgres")
    redis = sink = engine = None
    try:
        redis = Throwaway("redis")
        sink = Sink()
        engine = sa.create_engine(postgres.url, poolclass=sa.pool.NullPool)
        cluster = Cluster(
            postgres.url,
            redis.url,
            folder,
            environment={
                "SMTP_HOST": "127.0.0.1",
                "SMTP_PORT": str(sink.port),
                "SMTP_SECURITY": "none",
            },
        )
        prepare(cluster, postgres.url)
        with cluster:
            yield Servers(cluster, postgres, redis, sink, engine)
    finally:
        if engine is not None:
            engine.dispose()
        if sink is not None:
            sink.stop()
        if redis is not None:
            redis.stop()
        postgres.stop()


# HTTP, as a browser would: cookies kept, CSRF tokens from the pages, no redirects followed


@dataclass
class Answer:
    status: int  # 0: no HTTP answer at all
    headers: dict[str, str]
    body: str


def call(base: str, method: str, path: str, form=None, headers=None, source="127.0.0.1") -> Answer:
    """One request; `source` is the loopback address it comes from (nginx passes it on)."""
    address = urllib.parse.urlsplit(base)
    connection = http.client.HTTPConnection(
        address.hostname, address.port, timeout=REQUEST_TIMEOUT, source_address=(source, 0)
    )
    try:
        body = urllib.parse.urlencode(form).encode() if form is not None else None
        sent = dict(headers or {})
        if body is not None:
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        connection.request(method, path, body=body, headers=sent)
        response = connection.getresponse()
        text = response.read().decode(errors="replace")
        received = {name.lower(): value for name, value in response.getheaders()}
        received["set-cookie"] = "\n".join(response.headers.get_all("Set-Cookie") or [])
        return Answer(response.status, received, text)
    except (OSError, http.client.HTTPException) as error:
        return Answer(0, {}, f"{type(error).__name__}: {error}")
    finally:
        connection.close()


class Browser:
    """One person's browser; `base` chooses the address each request goes to, `source` the
    address it comes from."""

    def __init__(self, base: str, source: str = "127.0.0.1") -> None:
        self.base = base
        self.source = source
        self.cookies: dict[str, str] = {}
        self.csrf = ""

    def keep_cookies(self, answer: Answer) -> None:
        for line in answer.headers.get("set-cookie", "").splitlines():
            name, _, value = line.split(";", 1)[0].partition("=")
            self.cookies[name.strip()] = value.strip()

    def request(self, method, path, form=None, *, htmx=False, base=None, forwarded_for=None):
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        if forwarded_for:  # as a client trying to pass for another address would
            headers["X-Forwarded-For"] = forwarded_for
        if htmx:
            headers |= {"HX-Request": "true", "X-CSRFToken": self.csrf}
        return call(base or self.base, method, path, form, headers, self.source)

    def page(self, path: str, *, base: str | None = None) -> Answer:
        """GET a page, keep its cookies and its form's CSRF token."""
        answer = self.request("GET", path, base=base)
        assert answer.status == 200, f"GET {path}: {answer.status} {answer.body[:300]}"
        self.keep_cookies(answer)
        found = CSRF_FIELD.search(answer.body)
        if found:
            self.csrf = found.group(1)
        return answer

    def try_sign_in(self, email: str, password: str, *, base: str | None = None) -> Answer:
        self.page("/login", base=base)
        form = {"email": email, "password": password, "csrf_token": self.csrf}
        answer = self.request("POST", "/login", form, base=base)
        self.keep_cookies(answer)
        return answer

    def sign_in(self, email: str, *, base: str | None = None) -> None:
        answer = self.try_sign_in(email, PASSWORD, base=base)
        assert answer.status == 303, f"sign-in of {email}: {answer.status} {answer.body[:300]}"
        self.page("/ideas/new", base=base)


def email_of(person: int) -> str:
    return "bench@example.com" if person == 1 else f"person{person}@example.com"


def name_of(person: int) -> str:
    return "Bench Admin" if person == 1 else f"Person {person:05d}"


def served_by_each(servers: Servers, before: list[int]) -> list[int]:
    return [now - then for now, then in zip(servers.cluster.served(), before, strict=True)]


# The checks


def test_a_session_from_one_instance_works_on_the_other(servers):
    cluster = servers.cluster
    before = cluster.served()
    browser = Browser(cluster.pinned[0])
    browser.sign_in(email_of(2))  # on instance 0, which also gave the form's token
    assert served_by_each(servers, before)[1] == 0, "instance 1 answered a pinned request"

    before = cluster.served()
    page = browser.page("/ideas/new", base=cluster.pinned[1])
    assert name_of(2) in page.body, "instance 1 does not know who is signed in"
    # A token from instance 1's form and the session from instance 0 post on instance 1 and 0.
    idea = servers.rows("SELECT id FROM ideas WHERE author_id <> 2 AND status = 'submitted'")[0]
    for base in cluster.pinned:
        voted = browser.request(
            "POST", f"/ideas/{idea.id}/vote", {"vote": "1"}, htmx=True, base=base
        )
        assert voted.status == 200 and 'class="vote"' in voted.body, (voted.status, voted.body)
    served = served_by_each(servers, before)
    assert served[0] >= 1 and served[1] >= 2, f"requests answered by each instance: {served}"

    # Round robin through the site: both instances answer the same signed-in person.
    before = cluster.served()
    for _ in range(6):
        answer = browser.request("GET", "/ideas", base=cluster.base)
        assert answer.status == 200 and name_of(2) in answer.body, answer.status
    served = served_by_each(servers, before)
    assert all(n >= 2 for n in served), f"round robin did not reach both instances: {served}"

    # nginx refuses a body larger than the app's MAX_CONTENT_LENGTH itself.
    before = cluster.served()
    from serviceideas.config import Config

    too_large = "x" * (Config.MAX_CONTENT_LENGTH + 1)
    refused = call(cluster.base, "POST", "/login", {"email": too_large})
    assert refused.status == 413, f"a body over 4 MB: {refused.status}"
    assert served_by_each(servers, before) == [0, 0], "an instance was sent a body over 4 MB"

    # Static files come from nginx itself, never from an instance. They keep their names from
    # one release to the next, so browsers ask again each time and get a 304 while unchanged.
    before = cluster.served()
    vendor = call(cluster.base, "GET", "/static/vendor/htmx.min.js")
    own = call(cluster.base, "GET", "/static/css/app.css")
    assert vendor.status == own.status == 200
    assert vendor.headers["cache-control"] == own.headers["cache-control"] == "no-cache"
    again = {"If-Modified-Since": vendor.headers["last-modified"]}
    assert call(cluster.base, "GET", "/static/vendor/htmx.min.js", headers=again).status == 304
    assert call(cluster.base, "GET", "/static/.hidden").status == 404
    assert served_by_each(servers, before) == [0, 0], "an instance served a static file"


def test_failed_sign_ins_through_both_instances_trip_the_limit_at_its_count(servers):
    from limits import parse

    from serviceideas.config import Config

    allowed = parse(Config.LOGIN_RATE_LIMIT_PER_ACCOUNT).amount
    cluster = servers.cluster
    # From an address of its own, so that the per-address limit (LOGIN_RATE_LIMIT) counts only
    # these attempts and the other checks' sign-ins are not held back by them.
    browser = Browser(cluster.base, source="127.0.0.3")
    before = cluster.served()
    for attempt in range(allowed):
        wrong = browser.try_sign_in(
            email_of(3), "not-the-password-1", base=cluster.pinned[attempt % 2]
        )
        assert wrong.status == 422, f"attempt {attempt + 1}: {wrong.status} {wrong.body[:200]}"
    served = served_by_each(servers, before)
    assert all(n >= allowed // 2 for n in served), f"sign-ins each instance answered: {served}"
    for base in cluster.pinned:
        refused = browser.try_sign_in(email_of(3), "not-the-password-1", base=base)
        assert refused.status == 429, f"attempt {allowed + 1} on {base}: {refused.status}"
        refused = browser.try_sign_in(email_of(3), PASSWORD, base=base)
        assert refused.status == 429, "the right password got through a tripped limit"
    # Another account is not held back by it.
    assert browser.try_sign_in(email_of(4), PASSWORD, base=cluster.base).status == 303


def test_the_per_address_limit_counts_each_client_not_nginx(servers):
    """nginx's X-Forwarded-For, read with SERVICEIDEAS_PROXY_HOPS=1, is what the per-address
    limit counts: one client's failures trip it for that client only, and a client that sends
    an X-Forwarded-For of its own is still counted under its real address."""
    from limits import parse

    from serviceideas.config import Config

    allowed = parse(Config.LOGIN_RATE_LIMIT).amount
    cluster = servers.cluster
    client = Browser(cluster.base, source="127.0.0.4")
    for attempt in range(allowed):  # each to another account: only the address adds up
        wrong = client.try_sign_in(f"nobody{attempt}@example.com", "not-the-password-1")
        assert wrong.status == 422, f"attempt {attempt + 1}: {wrong.status}"
    client.page("/login")
    forged = client.request(
        "POST",
        "/login",
        {"email": "nobody@example.com", "password": "x" * 12, "csrf_token": client.csrf},
    )
    assert forged.status == 429, f"attempt {allowed + 1}: {forged.status}"
    forged = client.request(
        "POST",
        "/login",
        {"email": "nobody@example.com", "password": "x" * 12, "csrf_token": client.csrf},
        forwarded_for="10.9.9.9",
    )
    assert forged.status == 429, "a forged X-Forwarded-For escaped the per-address limit"
    other = Browser(cluster.base, source="127.0.0.5")
    assert other.try_sign_in(email_of(4), PASSWORD).status == 303, "another client was held back"


def headline(page: Answer) -> int:
    found = re.search(r'id="headline-number">(\d+)<', page.body)
    assert found, f"no headline on the dashboard: {page.body[:500]}"
    return int(found.group(1))


def leaderboard_count(page: Answer, name: str) -> int:
    for row in page.body.split("<tr")[1:]:
        if f">{name}" in row:
            found = re.search(r"<strong>(\d+)</strong>", row)
            assert found, row
            return int(found.group(1))
    return 0


VIEWS = 6  # views of each report per instance: enough that both of its workers answer


def views(browser: Browser, path: str, base: str) -> list[Answer]:
    """`VIEWS` views of a page at once on one instance, so each of its workers serves some."""
    with ThreadPoolExecutor(max_workers=VIEWS) as pool:
        answers = list(pool.map(lambda _: browser.request("GET", path, base=base), range(VIEWS)))
    for answer in answers:
        assert answer.status == 200, f"GET {path}: {answer.status} {answer.body[:300]}"
    return answers


def test_an_idea_implemented_on_one_instance_shows_on_the_other_at_once(servers):
    cluster = servers.cluster
    manager = Browser(cluster.pinned[0])
    manager.sign_in(email_of(1))
    idea_id, author = servers.rows(
        "SELECT i.id, i.author_id FROM ideas i JOIN users u ON u.id = i.author_id"
        " WHERE i.status = 'in_progress' AND u.active ORDER BY i.id LIMIT 1"
    )[0]

    def figures(base: str) -> set[tuple[int, int]]:
        """What each view of the dashboard and the leaderboard said: (headline, author's row)."""
        headlines = {headline(page) for page in views(manager, "/dashboard", base)}
        ranks = {
            leaderboard_count(page, name_of(author))
            for page in views(manager, "/leaderboard", base)
        }
        return {(h, r) for h in headlines for r in ranks}

    # Every worker of both instances shows (and so remembers) the figures before the decision.
    before = figures(cluster.pinned[0]) | figures(cluster.pinned[1])
    assert len(before) == 1, f"the views disagree before the decision: {before}"
    implemented, ranked = before.pop()

    story = manager.page(f"/ideas/{idea_id}")
    seen = re.search(r'name="seen_change" type="hidden" value="(\d+)"', story.body)
    assert seen, "no status form on the idea's page"
    decided = manager.request(
        "POST",
        f"/ideas/{idea_id}/status",
        {
            "csrf_token": manager.csrf,
            "to": "implemented",
            "note": "Put into practice across the call centre.",
            "implemented_on": datetime.now(UTC).date().isoformat(),
            "seen_change": seen.group(1),
        },
    )
    assert decided.status == 303, f"implementing: {decided.status} {decided.body[:500]}"

    for n in (1, 0):  # the other instance first
        after = figures(cluster.pinned[n])
        assert after == {(implemented + 1, ranked + 1)}, (
            f"instance {n} shows (headline, {name_of(author)}'s count on the leaderboard) "
            f"{after} after the decision, not {(implemented + 1, ranked + 1)}"
        )


def run_on_both(servers: Servers, *job: str) -> list[str]:
    """The job started on both servers at the same moment; its outputs."""
    started = time.monotonic()
    runs = [servers.cluster.command(*job) for _ in range(2)]
    outputs = []
    for run in runs:
        out, err = run.communicate(timeout=120)
        assert run.returncode == 0, f"{' '.join(job)} failed:\n{out}\n{err}"
        outputs.append(out)
    print(f"\n{' '.join(job)} on both servers: {time.monotonic() - started:.1f} s; {outputs}")
    return outputs


def test_jobs_started_on_both_servers_at_once_do_everything_once(servers):
    def enrolments() -> int:
        return servers.rows("SELECT count(*) AS n FROM enrolments")[0].n

    before = enrolments()
    outputs = run_on_both(servers, "enrol-training")
    counts = [re.search(r"(\d+|[Nn]o) new enrolment", out) for out in outputs]
    assert all(counts), f"enrol-training did not say how many it made: {outputs}"
    added = sum(int(c.group(1)) if c.group(1).isdigit() else 0 for c in counts if c)
    assert added > 0, f"nothing to enrol: the data set lost its joiners ({outputs})"
    assert enrolments() - before == added, f"enrolments made {enrolments() - before}: {outputs}"
    twice = servers.rows(
        "SELECT assignment_id, user_id, period_start FROM enrolments"
        " GROUP BY assignment_id, user_id, period_start HAVING count(*) > 1"
    )
    assert not twice, f"enrolled twice: {twice}"

    for job in ("send-reminders", "send-digests"):
        already = len(servers.sink.received())
        run_on_both(servers, job)
        received = servers.sink.received()[already:]
        assert received, f"{job} sent nothing: the data set has nothing due"
        sent = servers.rows("SELECT to_address, subject FROM emails WHERE sent_at IS NOT NULL")
        assert not servers.rows("SELECT id FROM emails WHERE sent_at IS NULL")
        assert Counter(servers.sink.received()) == Counter(tuple(r) for r in sent), (
            f"{job}: the messages received are not the e-mails sent, once each"
        )


# Redis stopped and started under load


@dataclass
class Load:
    people: list[Browser]
    ideas: list[int]
    votes: set[tuple[int, int]] = field(default_factory=set)  # (idea, person)
    comments: set[tuple[int, str]] = field(default_factory=set)  # (idea, body)
    failures: list[str] = field(default_factory=list)
    requests: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    stopping: threading.Event = field(default_factory=threading.Event)

    def run(self, n: int, person: int) -> None:
        browser = self.people[n]
        step = 0
        while not self.stopping.is_set():
            step += 1
            idea = self.ideas[(step * 7 + n * 13) % len(self.ideas)]
            kind = ("vote", "comment", "read", "dashboard")[step % 4]
            if kind == "vote":
                answer = browser.request("POST", f"/ideas/{idea}/vote", {"vote": "1"}, htmx=True)
                ok = answer.status == 200 and 'class="vote"' in answer.body
            elif kind == "comment":
                body = f"Load {person} step {step}"
                form = {"body": body, "csrf_token": browser.csrf}
                answer = browser.request("POST", f"/ideas/{idea}/comments", form)
                ok = answer.status == 303 and answer.headers.get("location", "").endswith(
                    "#comments"
                )
            else:
                path = f"/ideas/{idea}" if kind == "read" else "/dashboard"
                answer = browser.request("GET", path)
                ok = answer.status == 200 and "<html" in answer.body
            with self.lock:
                self.requests += 1
                if not ok:
                    self.failures.append(f"{kind} {idea}: {answer.status} {answer.body[:200]}")
                elif kind == "vote":
                    self.votes.add((idea, person))
                elif kind == "comment":
                    self.comments.add((idea, body))


def test_redis_stopped_and_started_under_load_loses_nothing(servers):
    cluster = servers.cluster
    people = [5, 6, 7]
    browsers = []
    for person in people:
        browser = Browser(cluster.base)
        browser.sign_in(email_of(person))
        browsers.append(browser)
    ideas = [
        row.id
        for row in servers.rows(
            "SELECT id FROM ideas WHERE status IN ('submitted', 'under_review', 'approved')"
            " AND author_id NOT IN (5, 6, 7) ORDER BY id LIMIT 12"
        )
    ]
    load = Load(browsers, ideas)
    threads = [
        threading.Thread(target=load.run, args=(n, person), daemon=True)
        for n, person in enumerate(people)
    ]
    before = cluster.served()
    for thread in threads:
        thread.start()
    try:
        time.sleep(1.5)
        servers.redis.down()
        time.sleep(1.0)
        health = call(cluster.base, "GET", "/healthz")
        at_outage = load.requests
        time.sleep(2.5)
        during = load.requests - at_outage
        servers.redis.up()
        time.sleep(6.5)  # past the 5 s that a failed Redis is left alone, so it is used again
    finally:
        load.stopping.set()
        for thread in threads:
            thread.join(timeout=REQUEST_TIMEOUT + 5)

    assert not load.failures, f"{len(load.failures)} failed answers: {load.failures[:5]}"
    assert during > 0, "nothing was served while Redis was away"
    assert health.status == 200 and json.loads(health.body)["status"] == "degraded", (
        f"/healthz while Redis was away: {health.status} {health.body}"
    )
    recovered = call(cluster.base, "GET", "/healthz")
    assert json.loads(recovered.body) == {"status": "ok", "redis": "ok"}, recovered.body
    served = served_by_each(servers, before)
    assert all(n > 0 for n in served), f"requests each instance answered: {served}"

    stored_votes = {
        (row.idea_id, row.user_id)
        for row in servers.rows("SELECT idea_id, user_id FROM votes WHERE user_id IN (5, 6, 7)")
    }
    lost_votes = load.votes - stored_votes
    assert not lost_votes, f"acknowledged votes missing from the database: {lost_votes}"
    stored_comments = {
        (row.idea_id, row.body) for row in servers.rows("SELECT idea_id, body FROM comments")
    }
    lost_comments = load.comments - stored_comments
    assert not lost_comments, f"acknowledged comments missing: {lost_comments}"
    assert load.votes and load.comments, "the load wrote nothing"
    for process in cluster.instances:
        log = process.log.read_text(errors="replace")
        assert "Exception on " not in log, f"an unhandled exception:\n{cluster.logs()}"
    print(
        f"\nscale test: {load.requests} requests under load, {during} while Redis was away; "
        f"{len(load.votes)} votes and {len(load.comments)} comments acknowledged and found"
    )
