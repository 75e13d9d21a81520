"""The documented rate limits hold exactly as `make run` serves the app: gunicorn, two workers.

README.md and SECURITY.md ("Passwords") promise: failed sign-ins are limited to
LOGIN_RATE_LIMIT_PER_ACCOUNT per account and LOGIN_RATE_LIMIT per address, and password-link
submissions to 20 a minute per address. Each worker is a process of its own, so counters kept
in a worker's memory let twice as many through; the counters live in the database
(serviceideas/ratelimits.py). The server here runs on the test database with the default
settings, except one: SERVICEIDEAS_PROXY_HOPS=1, so that each scenario comes from an address
of its own (X-Forwarded-For) and the per-address limits of one do not spill into the next.

Every request is a new connection, so either worker may take it; gunicorn's access log says
which one did, and a scenario counts only if both workers answered some of its requests (it
is tried again, as someone else from elsewhere, when one worker happened to take them all).
Run with RATELIMIT_STORAGE_URI=memory:// in the environment to see these tests fail.
"""

from __future__ import annotations

import http.client
import itertools
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path

import pytest
from limits import parse

from serviceideas.config import Config
from serviceideas.database import writing
from serviceideas.extensions import db
from serviceideas.people import services
from serviceideas.people.models import User
from tests.conftest import PASSWORD, settings_for_tests

ROOT = Path(__file__).resolve().parents[1]
# The test's own app signs the password links; the server must check them with the same key.
SECRET_KEY = settings_for_tests("")["SECRET_KEY"]
ATTEMPTS = 4  # scenarios tried before concluding that gunicorn never used both workers
CSRF_FIELD = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
_addresses = (f"198.51.100.{n}" for n in itertools.count(1))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    port: int
    folder: Path

    def log(self, name: str) -> str:
        path = self.folder / name
        return path.read_text(errors="replace") if path.exists() else ""

    def workers_that_answered(self, method: str, address: str) -> set[str]:
        """The pids of the workers that answered `method` requests from `address` ("-": none
        given), from the access log (pid, method, address)."""
        lines = [line.split() for line in self.log("access.log").splitlines()]
        return {pid for pid, logged, sender in lines if (logged, sender) == (method, address)}

    def wait_for_log(self, method: str, address: str, requests: int) -> set[str]:
        """workers_that_answered() once `requests` are logged (a worker logs after answering)."""
        deadline = time.monotonic() + 5
        while True:
            lines = [line.split() for line in self.log("access.log").splitlines()]
            logged = sum((m, a) == (method, address) for _pid, m, a in lines)
            if logged >= requests or time.monotonic() > deadline:
                return self.workers_that_answered(method, address)
            time.sleep(0.02)


@pytest.fixture(scope="module")
def server(_schema: None, database_url: str, tmp_path_factory: pytest.TempPathFactory):
    """gunicorn with two workers, as `make run` starts it, on the test database."""
    folder = tmp_path_factory.mktemp("gunicorn")
    port = free_port()
    environment = {
        **os.environ,
        "DATABASE_URL": database_url,
        "SECRET_KEY": SECRET_KEY,
        "SERVICEIDEAS_BASE_URL": f"http://127.0.0.1:{port}",
        "SERVICEIDEAS_PROXY_HOPS": "1",
        "SERVICEIDEAS_ASSETS": "local",
    }
    environment.pop("SERVICEIDEAS_ENV", None)  # production, as served
    command = [sys.executable, "-m", "gunicorn", "wsgi:app", "--workers", "2"]
    command += ["--bind", f"127.0.0.1:{port}", "--graceful-timeout", "5", "--no-control-socket"]
    command += ["--access-logfile", str(folder / "access.log")]
    command += ["--access-logformat", "%(p)s %(m)s %({x-forwarded-for}i)s"]
    with (folder / "error.log").open("wb") as errors:
        process = subprocess.Popen(
            command, cwd=ROOT, env=environment, stderr=errors, start_new_session=True
        )
    running = Server(process, port, folder)
    try:
        # Ready once both workers have answered (each loads the app after it starts).
        deadline = time.monotonic() + 30
        while len(running.workers_that_answered("GET", "-")) < 2:
            assert process.poll() is None, f"gunicorn stopped:\n{running.log('error.log')}"
            assert time.monotonic() < deadline, f"not ready:\n{running.log('error.log')}"
            answers(port)
            time.sleep(0.02)
        yield running
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=15)


def answers(port: int) -> bool:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        connection.request("GET", "/healthz")
        return connection.getresponse().status == 200
    except OSError:
        return False
    finally:
        connection.close()


@dataclass
class Visitor:
    """Someone at one address with a browser's cookies; each request on a new connection."""

    port: int
    address: str = field(default_factory=lambda: next(_addresses))
    cookies: dict[str, str] = field(default_factory=dict)

    def request(
        self, method: str, path: str, form: dict[str, str] | None = None
    ) -> tuple[int, str]:
        headers = {"X-Forwarded-For": self.address, "Connection": "close"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=15)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            text = response.read().decode()
            for header in response.headers.get_all("Set-Cookie") or []:
                for name, morsel in SimpleCookie(header).items():
                    self.cookies[name] = morsel.value
            return response.status, text
        finally:
            connection.close()

    def csrf_token(self, path: str) -> str:
        status, page = self.request("GET", path)
        assert status == 200, page
        found = CSRF_FIELD.search(page)
        assert found, page
        return found.group(1)


def quietly(make: Callable[..., User], **given: object) -> User:
    """A person added while the workers may be writing: like a request, the test's transaction
    takes SQLite's write lock up front and waits its turn (database.writing()), instead of
    reading first and finding the database changed under it ("database is locked")."""
    db.session.commit()
    with writing():
        return make(**given)


def statuses_across_both_workers(
    server: Server, scenario: Callable[[Visitor], list[int]]
) -> list[int]:
    """The statuses of the scenario's POSTs, from a run whose POSTs both workers answered."""
    for _ in range(ATTEMPTS):
        visitor = Visitor(server.port)
        statuses = scenario(visitor)
        if len(server.wait_for_log("POST", visitor.address, len(statuses))) == 2:
            return statuses
    pytest.fail(f"one gunicorn worker answered everything, {ATTEMPTS} times running")


def per_minute(setting: str) -> int:
    """How many a minute the default setting allows (config.py)."""
    limit = parse(getattr(Config, setting))
    assert limit.get_expiry() == 60
    return limit.amount


def test_failed_sign_ins_for_one_account_stop_at_the_documented_limit(server, make_user):
    per_account = per_minute("LOGIN_RATE_LIMIT_PER_ACCOUNT")  # 5 a minute
    assert per_account < per_minute("LOGIN_RATE_LIMIT")  # so the per-address one is not reached

    def wrong_passwords(visitor: Visitor) -> list[int]:
        person = quietly(make_user)
        token = visitor.csrf_token("/login")
        form = {"csrf_token": token, "email": person.email, "password": "not " + PASSWORD}
        return [visitor.request("POST", "/login", form)[0] for _ in range(per_account + 1)]

    statuses = statuses_across_both_workers(server, wrong_passwords)
    assert statuses == [422] * per_account + [429]


def test_failed_sign_ins_from_one_address_stop_at_the_documented_limit(server, make_user):
    per_address = per_minute("LOGIN_RATE_LIMIT")  # 10 a minute
    per_account = per_minute("LOGIN_RATE_LIMIT_PER_ACCOUNT")

    def wrong_passwords_for_several(visitor: Visitor) -> list[int]:
        people = [quietly(make_user) for _ in range(per_address // per_account + 1)]
        token = visitor.csrf_token("/login")
        statuses = []
        for n in range(per_address + 1):
            email = people[n // per_account].email  # never past one account's own limit
            form = {"csrf_token": token, "email": email, "password": "not " + PASSWORD}
            statuses.append(visitor.request("POST", "/login", form)[0])
        return statuses

    statuses = statuses_across_both_workers(server, wrong_passwords_for_several)
    assert statuses == [422] * per_address + [429]


def test_password_link_submissions_stop_at_the_documented_limit(server, make_user):
    per_address = 20  # @limiter.limit on auth.set_password; SECURITY.md, "Passwords"

    def mismatched_passwords(visitor: Visitor) -> list[int]:
        link = f"/password/{services.password_set_token(quietly(make_user, password=None))}"
        token = visitor.csrf_token(link)
        form = {"csrf_token": token, "password": "a good new password", "confirm": "another"}
        return [visitor.request("POST", link, form)[0] for _ in range(per_address + 1)]

    statuses = statuses_across_both_workers(server, mismatched_passwords)
    assert statuses == [422] * per_address + [429]
