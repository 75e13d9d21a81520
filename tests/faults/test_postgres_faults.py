"""Faults: PostgreSQL stops and comes back while people submit ideas, vote and comment.

The test starts its own PostgreSQL (scripts/throwaway-postgres, with PostgreSQL's durable
defaults: synchronous_commit and fsync on), migrates it with `flask db upgrade`, serves the
app with gunicorn (two workers) on 127.0.0.1, and signs in a few people through the real
sign-in form. Each of them then loops — submit an idea, vote on someone else's, comment on
one, read one — while the test stops the database twice and starts it again:

1. `pg_ctl stop -m fast`: PostgreSQL cuts every connection and shuts down cleanly;
2. `pg_ctl stop -m immediate`: as if it crashed; it replays its log when it starts.

The immediate stop keeps every acknowledged commit only because synchronous_commit is on: with
the throwaway server's fast settings (THROWAWAY_PG_DURABLE unset) the last fraction of a
second of commits is lost, and this test then fails, as it should.

It checks that
- every answer is either a success or a clean 503 (the "database is not answering" page with
  Retry-After, or its htmx fragment): no 500, no traceback, no broken or hanging connection;
- every person saw the outage (so the fault really hit the load) and nobody waited long;
- the app recovers by itself, without restarting gunicorn or its workers: within
  RECOVERY_LIMIT seconds of PostgreSQL being back a signed-in page answers, and from then on
  every request succeeds, and every person writes again;
- every idea, vote and comment whose request was answered with success is in the database
  afterwards, and each idea's vote count equals its votes (no half-done transaction).

About 25 seconds. Marked `faults`: a plain `pytest` leaves it out, `pytest -m faults` runs it,
and scripts/test-all (so CI) runs it once, after the SQLite and PostgreSQL runs. Without a
PostgreSQL installation it is skipped, except in CI (CI=true), where that is a failure.
"""

from __future__ import annotations

import glob
import http.client
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import sqlalchemy as sa

pytestmark = pytest.mark.faults

ROOT = Path(__file__).resolve().parents[2]
THROWAWAY = ROOT / "scripts" / "throwaway-postgres"
PEOPLE = 4  # client threads, each its own signed-in person
PASSWORD = "amber-kettle-orbit-42"
WARM_UP = 2.0  # seconds of load before the first fault
DOWN_FOR = 3.0  # seconds the database stays stopped, load going on
STEADY = 2.5  # seconds of load after each recovery
RECOVERY_LIMIT = 10.0  # seconds after PostgreSQL is back within which the app must answer
REQUEST_TIMEOUT = 15.0  # no answer within this is a hang, and a failure
SLOW = 5.0  # an answer slower than this is reported as a failure too
UNAVAILABLE = "The database is not answering; try again in a moment."
CSRF_FIELD = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


# The database and the server


@dataclass
class Postgres:
    folder: str
    url: str

    def run(self, *args: str) -> None:
        subprocess.run([str(THROWAWAY), *args], check=True, capture_output=True, timeout=90)

    def down(self, mode: str) -> None:
        self.run("down", self.folder, mode)

    def up(self) -> None:
        self.run("up", self.folder)


@pytest.fixture
def postgres() -> Iterator[Postgres]:
    installed = glob.glob("/usr/lib/postgresql/*/bin/pg_ctl") or shutil.which("pg_ctl")
    if not installed:
        message = "PostgreSQL is not installed (apt-get install postgresql)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI: {message}; the fault test is required")
        pytest.skip(message)
    started = subprocess.run(
        [str(THROWAWAY), "start"],
        env={**os.environ, "THROWAWAY_PG_DURABLE": "1"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert started.returncode == 0, f"throwaway PostgreSQL did not start:\n{started.stderr}"
    lines = started.stdout.strip().splitlines()
    database = Postgres(folder=lines[0], url=lines[-1])
    try:
        yield database
    finally:
        subprocess.run([str(THROWAWAY), "stop", database.folder], timeout=90, check=False)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")

    def log_tail(self) -> str:
        """The end of gunicorn's log, less the expected one-line warnings of the outages."""
        lines = [x for x in self.log_text().splitlines() if "Database unavailable" not in x]
        return "\n".join(lines[-60:])


def prepare_database(url: str, emails: list[str]) -> None:
    """Migrate as production does, then add the people (with a quick password hash)."""
    environment = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "fault-" + "k" * 40}
    environment.pop("SERVICEIDEAS_ENV", None)
    subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"],
        cwd=ROOT,
        env=environment,
        check=True,
        capture_output=True,
        timeout=120,
    )
    from serviceideas import create_app
    from serviceideas.extensions import db
    from serviceideas.people import services
    from serviceideas.people.models import Department, DepartmentKind
    from tests.conftest import settings_for_tests

    app = create_app(settings_for_tests(url))
    with app.app_context():
        department = Department(name="Customer Service", kind=DepartmentKind.FRONT_LINE)
        db.session.add(department)
        for n, email in enumerate(emails, 1):
            services.create_user(
                email=email, name=f"Load {n}", department=department, password=PASSWORD
            )
        db.session.commit()
        db.engine.dispose()


@pytest.fixture
def server(postgres: Postgres, tmp_path: Path) -> Iterator[Server]:
    prepare_database(postgres.url, [f"load{n}@example.com" for n in range(PEOPLE + 1)])
    port = free_port()
    log = tmp_path / "gunicorn.log"
    environment = {
        **os.environ,
        "DATABASE_URL": postgres.url,
        "SECRET_KEY": "fault-" + "k" * 40,
        "SERVICEIDEAS_ASSETS": "local",
    }
    environment.pop("SERVICEIDEAS_ENV", None)
    command = [sys.executable, "-m", "gunicorn", "wsgi:app", "--workers", "2", "--timeout", "30"]
    command.append("--no-control-socket")  # not the shared ~/.gunicorn/gunicorn.ctl of `make run`
    with log.open("wb") as output:
        process = subprocess.Popen(
            [*command, "--bind", f"127.0.0.1:{port}"],
            cwd=ROOT,
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    running = Server(process, port, log)
    try:
        deadline = time.monotonic() + 30
        while call(port, "GET", "/healthz").status != 200:
            assert process.poll() is None, f"gunicorn stopped:\n{running.log_text()}"
            assert time.monotonic() < deadline, f"gunicorn did not answer:\n{running.log_text()}"
            time.sleep(0.1)
        yield running
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=15)


# HTTP, as a browser would: cookies, CSRF tokens from the forms, no redirects followed


@dataclass
class Answer:
    status: int  # 0: no HTTP answer at all (refused, reset, timed out)
    headers: dict[str, str]
    body: str
    seconds: float


def call(
    port: int,
    method: str,
    path: str,
    form: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> Answer:
    started = time.monotonic()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT)
    try:
        body = urllib.parse.urlencode(form).encode() if form is not None else None
        sent = dict(headers or {})
        if body is not None:
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        connection.request(method, path, body=body, headers=sent)
        response = connection.getresponse()
        text = response.read().decode(errors="replace")
        received = {name.lower(): value for name, value in response.getheaders()}
        cookies = response.headers.get_all("Set-Cookie") or []
        received["set-cookie"] = "\n".join(cookies)
        return Answer(response.status, received, text, time.monotonic() - started)
    except (OSError, http.client.HTTPException) as error:
        return Answer(0, {}, f"{type(error).__name__}: {error}", time.monotonic() - started)
    finally:
        connection.close()


class Person:
    """A signed-in person. The session cookie is kept as it was after signing in: the app
    keeps nothing but flash messages in it afterwards, which would only pile up here."""

    def __init__(self, port: int, email: str) -> None:
        self.port = port
        self.email = email
        self.cookies: dict[str, str] = {}
        self.csrf = ""

    def _keep_cookies(self, answer: Answer) -> None:
        for line in answer.headers.get("set-cookie", "").splitlines():
            name, _, value = line.split(";", 1)[0].partition("=")
            self.cookies[name.strip()] = value.strip()

    def _csrf_from(self, answer: Answer) -> str:
        found = CSRF_FIELD.search(answer.body)
        assert found, f"no CSRF token on the page ({answer.status}): {answer.body[:300]}"
        return found.group(1)

    def sign_in(self) -> None:
        page = self.request("GET", "/login")
        self._keep_cookies(page)
        form = {"email": self.email, "password": PASSWORD, "csrf_token": self._csrf_from(page)}
        signed_in = self.request("POST", "/login", form)
        assert signed_in.status == 303, f"sign-in failed: {signed_in.status} {signed_in.body[:300]}"
        self._keep_cookies(signed_in)
        page = self.request("GET", "/ideas/new")
        assert page.status == 200, f"/ideas/new after sign-in: {page.status}"
        self._keep_cookies(page)
        self.csrf = self._csrf_from(page)

    def request(
        self, method: str, path: str, form: dict[str, str] | None = None, htmx: bool = False
    ) -> Answer:
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        if htmx:
            headers |= {"HX-Request": "true", "X-CSRFToken": self.csrf}
        return call(self.port, method, path, form, headers)


# The load


@dataclass
class Record:
    person: int
    kind: str  # idea | vote | comment | read
    started: float
    finished: float
    status: int
    verdict: str  # ok | unavailable (a clean 503) | refused (a rule said no) | bad
    detail: str = ""


def judge(kind: str, answer: Answer) -> tuple[str, str]:
    """A verdict on one answer, and what it created when it succeeded."""
    location = answer.headers.get("location", "")
    if answer.status == 0:
        return "bad", answer.body
    if answer.seconds > SLOW:
        return "bad", f"answered after {answer.seconds:.1f} s"
    if answer.status == 503:
        clean = UNAVAILABLE in answer.body and answer.headers.get("retry-after") == "5"
        page = "<html" in answer.body
        if clean and page is (kind != "vote"):  # votes are htmx requests: a fragment
            return "unavailable", ""
        return "bad", f"503 but not the clean page: {answer.body[:300]}"
    if answer.status == 404:  # every idea asked for had been acknowledged
        return "bad", "404: an idea whose submission was acknowledged is not there (lost?)"
    if kind == "idea" and answer.status == 303 and re.fullmatch(r".*/ideas/\d+", location):
        return "ok", location.rsplit("/", 1)[1]
    if kind == "vote" and answer.status == 200 and 'class="vote"' in answer.body:
        return "ok", ""
    if kind == "vote" and answer.status == 409:
        return "refused", answer.body[:200]  # voting closed; cannot happen here, but harmless
    if kind == "comment" and answer.status == 303 and location.endswith("#comments"):
        return "ok", ""
    if kind == "read" and answer.status == 200 and "<html" in answer.body:
        return "ok", ""
    return "bad", f"{answer.status} {location} {answer.body[:300]}"


@dataclass
class Load:
    people: list[Person]
    records: list[Record] = field(default_factory=list)
    ideas: dict[int, tuple[str, int]] = field(default_factory=dict)  # id: (title, person)
    votes: set[tuple[int, int]] = field(default_factory=set)  # (idea id, person)
    comments: set[tuple[int, str, int]] = field(default_factory=set)  # (idea id, body, person)
    lock: threading.Lock = field(default_factory=threading.Lock)
    stopping: threading.Event = field(default_factory=threading.Event)
    crashed: list[str] = field(default_factory=list)

    def start(self) -> list[threading.Thread]:
        threads = [
            threading.Thread(target=self._run, args=(n,), daemon=True)
            for n in range(len(self.people))
        ]
        for thread in threads:
            thread.start()
        return threads

    def _run(self, n: int) -> None:
        try:
            self._loop(n)
        except Exception as error:  # the test reports it instead of a silent thread
            self.crashed.append(f"person {n}: {type(error).__name__}: {error}")

    def _loop(self, n: int) -> None:
        person, chance = self.people[n], random.Random(n)
        step = 0
        while not self.stopping.is_set():
            step += 1
            with self.lock:
                others = [i for i, (_, by) in self.ideas.items() if by != n]
                unvoted = [i for i in others if (i, n) not in self.votes]
                any_idea = list(self.ideas)
            kind = ("idea", "vote", "comment", "read")[step % 4]
            if not any_idea or (kind == "vote" and not unvoted):
                kind = "idea"
            started = time.monotonic()
            if kind == "idea":
                title = f"Fault-test idea {n}-{step}"
                form = {
                    "title": title,
                    "problem": "Customers ring twice because nobody calls back.",
                    "proposal": "Call back within the hour, every time.",
                    "lens": "care",
                    "beneficiary": "external",
                    "csrf_token": person.csrf,
                }
                answer = person.request("POST", "/ideas/new", form)
            elif kind == "vote":
                target = chance.choice(unvoted)
                answer = person.request("POST", f"/ideas/{target}/vote", {"vote": "1"}, htmx=True)
            elif kind == "comment":
                target = chance.choice(any_idea)
                body = f"Fault-test comment {n}-{step}"
                form = {"body": body, "csrf_token": person.csrf}
                answer = person.request("POST", f"/ideas/{target}/comments", form)
            else:
                answer = person.request("GET", f"/ideas/{chance.choice(any_idea)}")
            verdict, detail = judge(kind, answer)
            with self.lock:
                self.records.append(
                    Record(n, kind, started, time.monotonic(), answer.status, verdict, detail)
                )
                if verdict == "ok" and kind == "idea":
                    self.ideas[int(detail)] = (title, n)
                elif verdict == "ok" and kind == "vote":
                    self.votes.add((target, n))
                elif verdict == "ok" and kind == "comment":
                    self.comments.add((target, body, n))
            if verdict != "ok":
                time.sleep(0.02)  # a person retries soon, not in a tight loop


@dataclass
class Outage:
    mode: str
    stopping: float = 0.0  # when the stop was asked for
    back: float = 0.0  # when PostgreSQL accepted connections again
    recovered: float = 0.0  # when the app first answered a signed-in page again


def wait_for(test: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if test():
            return True
        time.sleep(0.05)
    return test()


def test_the_app_rides_out_a_database_restart_under_load(postgres, server):
    people = [Person(server.port, f"load{n}@example.com") for n in range(PEOPLE + 1)]
    for person in people:
        person.sign_in()
    probe, loaders = people[-1], people[:-1]
    load = Load(loaders)
    threads = load.start()
    outages = [Outage("fast"), Outage("immediate")]
    began = time.monotonic()
    try:
        assert wait_for(lambda: len(load.votes) >= PEOPLE and len(load.comments) >= PEOPLE, 15), (
            f"the load never got going: {load.records[-5:]} {load.crashed}"
        )
        time.sleep(WARM_UP)
        for outage in outages:
            outage.stopping = time.monotonic()
            postgres.down(outage.mode)
            time.sleep(DOWN_FOR)
            postgres.up()
            outage.back = time.monotonic()

            def answers() -> bool:
                return (
                    call(server.port, "GET", "/healthz").status == 200
                    and probe.request("GET", "/ideas").status == 200
                )

            recovered = wait_for(answers, RECOVERY_LIMIT)
            outage.recovered = time.monotonic()
            assert recovered, (
                f"the app did not recover within {RECOVERY_LIMIT} s after PostgreSQL came back "
                f"({outage.mode} stop):\n{server.log_tail()}"
            )
            time.sleep(STEADY)
    finally:
        load.stopping.set()
        for thread in threads:
            thread.join(timeout=REQUEST_TIMEOUT + 5)
    took = time.monotonic() - began

    assert not load.crashed, load.crashed
    assert not any(thread.is_alive() for thread in threads), "a person's request never ended"
    records = load.records

    bad = [record for record in records if record.verdict == "bad"]
    assert not bad, (
        f"{len(bad)} answers were neither a success nor a clean 503: {bad[:10]}\n"
        f"gunicorn's log ends:\n{server.log_tail()}"
    )

    # Between a recovery and the next stop every request must succeed; one still running when
    # the next stop is asked for may fail, so only requests answered before it count.
    ends = [o.stopping for o in outages[1:]] + [float("inf")]
    for outage, until in zip(outages, ends, strict=True):
        during = [r for r in records if outage.stopping <= r.started < outage.back]
        for n in range(len(loaders)):
            assert any(r.person == n and r.verdict == "unavailable" for r in during), (
                f"person {n} never saw the {outage.mode} outage: the fault missed the load"
            )
        after = [r for r in records if outage.recovered <= r.started and r.finished < until]
        failed = [r for r in after if r.verdict != "ok"]
        assert not failed, f"after recovering from the {outage.mode} stop: {failed[:10]}"
        for n in range(len(loaders)):
            assert any(r.person == n and r.kind != "read" and r.verdict == "ok" for r in after), (
                f"person {n} wrote nothing after the {outage.mode} outage"
            )

    assert server.process.poll() is None, "gunicorn stopped"
    log = server.log_text()
    assert log.count("Booting worker") == 2, f"a worker was restarted:\n{server.log_tail()}"
    for unhandled in ("Exception on ", "Error handling request"):  # Flask's, gunicorn's
        assert unhandled not in log, f"an unhandled exception:\n{server.log_tail()}"

    engine = sa.create_engine(postgres.url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as connection:
            stored_ideas = dict(connection.execute(sa.text("SELECT id, title FROM ideas")).all())
            person_of = {
                user_id: int(email.removeprefix("load").split("@")[0])
                for user_id, email in connection.execute(sa.text("SELECT id, email FROM users"))
            }
            stored_votes = {
                (idea_id, person_of[user_id])
                for idea_id, user_id in connection.execute(
                    sa.text("SELECT idea_id, user_id FROM votes")
                )
            }
            stored_comments = {
                (idea_id, body, person_of[author_id])
                for idea_id, body, author_id in connection.execute(
                    sa.text("SELECT idea_id, body, author_id FROM comments")
                )
            }
            miscounted = connection.execute(
                sa.text(
                    "SELECT i.id, i.vote_count, count(v.user_id) FROM ideas i"
                    " LEFT JOIN votes v ON v.idea_id = i.id"
                    " GROUP BY i.id, i.vote_count HAVING i.vote_count <> count(v.user_id)"
                )
            ).all()
            without_history = connection.execute(
                sa.text(
                    "SELECT id FROM ideas i WHERE NOT EXISTS"
                    " (SELECT 1 FROM status_changes s WHERE s.idea_id = i.id)"
                )
            ).all()
    finally:
        engine.dispose()

    lost_ideas = {i: t for i, (t, _) in load.ideas.items() if stored_ideas.get(i) != t}
    assert not lost_ideas, f"acknowledged ideas missing from the database: {lost_ideas}"
    lost_votes = load.votes - stored_votes
    assert not lost_votes, f"acknowledged votes missing from the database: {lost_votes}"
    lost_comments = load.comments - stored_comments
    assert not lost_comments, f"acknowledged comments missing from the database: {lost_comments}"
    assert not miscounted, f"vote counts that disagree with the votes: {miscounted}"
    assert not without_history, f"ideas without their submission in the history: {without_history}"

    unavailable = sum(1 for r in records if r.verdict == "unavailable")
    print(
        f"\nfault test: {len(records)} requests in {took:.1f} s; {unavailable} clean 503s; "
        f"acknowledged and found: {len(load.ideas)} ideas, {len(load.votes)} votes, "
        f"{len(load.comments)} comments; recovered "
        + ", ".join(f"{o.recovered - o.back:.2f} s after the {o.mode} stop" for o in outages)
    )
