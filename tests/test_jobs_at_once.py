"""The scheduled jobs started on two servers at the same moment, as cron on every server does
(README.md, "Scheduled commands"): each message is sent once, each enrolment made once, and
both commands end well, saying what they did.

Two stand-in servers (tests/job_server.py: separate processes, each running the real
`flask --app wsgi <job>`) share the test's database and send to one SMTP server here that
counts messages. Each race is run a few times over new data, to make it bite. On PostgreSQL
this is several servers; on SQLite, two cron runs overlapping on the one machine.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller

from serviceideas.database import utcnow
from serviceideas.extensions import db
from serviceideas.ideas import services as ideas
from serviceideas.ideas.models import Status
from serviceideas.jobs import lock_key, one_at_a_time
from serviceideas.notifications import services as notifications
from serviceideas.notifications.models import Category, Delivery, Email, Notification, Target
from serviceideas.people.models import Role, User
from serviceideas.training import services as training
from serviceideas.training.models import Audience, Enrolment, Repeat
from tests.notifications.conftest import Inbox, free_port

ROOT = Path(__file__).resolve().parent.parent
ROUNDS = 2
PEOPLE = 3  # new people each round


class Server:
    """One stand-in app server (tests/job_server.py)."""

    def __init__(self, environment: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.job_server"],
            cwd=ROOT,
            env=environment,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert json.loads(self.read()) == {"ready": True}

    def read(self) -> str:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        assert line, "the stand-in server stopped"
        return line

    def start(self, job: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(job + "\n")
        self.process.stdin.flush()

    def result(self) -> tuple[int, str]:
        answer = json.loads(self.read())
        return answer["code"], answer["output"]

    def stop(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(timeout=10)


@pytest.fixture(scope="module")
def inbox() -> Iterator[Inbox]:
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    inbox.port = controller.port
    yield inbox
    controller.stop()


@pytest.fixture(scope="module")
def servers(database_url: str, inbox: Inbox) -> Iterator[list[Server]]:
    environment = {
        **os.environ,
        "DATABASE_URL": database_url,
        "SECRET_KEY": "test-secret-key-for-the-job-servers-0123456789",
        "SERVICEIDEAS_ASSETS": "local",
        "SERVICEIDEAS_BASE_URL": "https://ideas.example.com",
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(inbox.port),
        "SMTP_SECURITY": "none",
        "MAIL_SENDER": "serviceideas <ideas@example.com>",
    }
    environment.pop("REDIS_URL", None)
    started = [Server(environment) for _ in range(2)]
    yield started
    for server in started:
        server.stop()


def at_once(servers: list[Server], job: str) -> list[str]:
    """Start `job` on every server at the same moment; each ended well: their outputs."""
    db.session.commit()  # the test's data is there for them to find
    for server in servers:
        server.start(job)
    outputs = []
    for server in servers:
        code, output = server.result()
        assert code == 0 and "Traceback" not in output, output
        outputs.append(output)
    db.session.expire_all()
    return outputs


def total(outputs: list[str], pattern: str) -> int:
    """The sum over the servers' outputs of the number `pattern` counts (0 where absent)."""
    return sum(int(found.group(1)) for o in outputs if (found := re.search(pattern, o)))


def sent_emails() -> int:
    return db.session.scalar(sa.select(sa.func.count()).where(Email.sent_at.is_not(None))) or 0


def assert_each_message_once(inbox: Inbox) -> None:
    """Every message the SMTP server received was sent once: one per e-mail row marked sent,
    and no person received the same subject twice (every subject here names its event)."""
    assert len(inbox.messages) == sent_emails()
    twice = [
        pair
        for pair, n in Counter((m.envelope_to[0], m["Subject"]) for m in inbox.messages).items()
        if n > 1
    ]
    assert twice == []


@pytest.fixture
def fresh_inbox(inbox: Inbox) -> Inbox:
    inbox.messages.clear()
    inbox.raw.clear()
    return inbox


def test_send_reminders_on_two_servers_at_once(
    app, servers, fresh_inbox, make_user, make_idea, make_enrolment
):
    """Due-soon reminders, e-mail for events just told in the app, and their delivery."""
    manager = make_user(Role.MANAGER)
    for batch in range(ROUNDS):
        learners = [make_user(email=f"r{batch}-{n}@example.com") for n in range(PEOPLE)]
        for learner in learners:
            make_enrolment(learner=learner, due_days=3)  # assigned now, and due soon
            idea = make_idea(author=learner)
            ideas.change_status(manager, idea, ideas.Decision(Status.UNDER_REVIEW))
        before = len(fresh_inbox.messages)

        outputs = at_once(servers, "send-reminders")

        for learner in learners:
            assert len(fresh_inbox.to(learner.email)) == 3  # assigned, due soon, under review
        assert_each_message_once(fresh_inbox)
        assert total(outputs, r"(\d+) reminders?\b") == PEOPLE
        assert total(outputs, r"(\d+) e-mails? queued") == 3 * PEOPLE
        assert total(outputs, r"(\d+) sent") == len(fresh_inbox.messages) - before == 3 * PEOPLE


def test_send_digests_on_two_servers_at_once(app, servers, fresh_inbox, make_user, make_enrolment):
    """Daily, weekly (managers, owners, overdue training) and trainers' digests."""
    today = utcnow().date()
    for batch in range(ROUNDS):
        new = []
        for n in range(PEOPLE):
            new.append(make_user(Role.MANAGER, email=f"d{batch}-m{n}@example.com"))
            late = make_user(email=f"d{batch}-late{n}@example.com")
            make_enrolment(learner=late, today=today - timedelta(days=20))  # overdue
            new.append(late)
            daily = make_user(email=f"d{batch}-daily{n}@example.com")
            notifications.set_preference(daily.id, Category.IDEAS, Delivery.DAILY)
            notifications.notify(
                daily.id, Category.IDEAS, "k", "Yesterday's news", Target.NOTIFICATIONS
            )
            new.append(daily)
        make_enrolment("reflection", answer="A reflection for the trainers to read " * 3)
        db.session.execute(  # the daily digest covers yesterday: that is when it happened
            sa.update(Notification)
            .where(Notification.key == "k")
            .values(created_at=utcnow() - timedelta(days=1))
        )
        queued_before = db.session.scalar(sa.select(sa.func.count(Email.id))) or 0
        before = len(fresh_inbox.messages)

        outputs = at_once(servers, "send-digests")

        for person in new:
            digests = [m for m in fresh_inbox.to(person.email) if "assigned" not in m["Subject"]]
            assert len(digests) == 1, [m["Subject"] for m in digests]
        assert_each_message_once(fresh_inbox)
        queued = (db.session.scalar(sa.select(sa.func.count(Email.id))) or 0) - queued_before
        assert total(outputs, r"(\d+) digests? queued") == queued >= 3 * PEOPLE
        assert total(outputs, r"(\d+) e-mails? sent") == len(fresh_inbox.messages) - before


def test_enrol_training_on_two_servers_at_once(app, servers, make_user, make_module):
    """New periods of repeating assignments, and people the assignments missed."""
    trainer = make_user(Role.TRAINER)
    today = utcnow().date()
    last_month = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    for _ in range(ROUNDS):
        # Repeating since last month: this month's period starts now, for everyone.
        training.create_assignment(
            trainer,
            make_module(author=trainer),
            training.AssignmentDraft(Audience.EVERYONE, due_days=10, repeat=Repeat.MONTHLY),
            today=last_month,
        )
        for _ in range(PEOPLE):
            make_user()  # added without the joining signal: the job finds them missed
        expected = count_missing_enrolments(today)
        assert expected >= PEOPLE

        outputs = at_once(servers, "enrol-training")

        assert total(outputs, r"(\d+) new enrolments?") == expected
        assert count_missing_enrolments(today) == 0
        told = db.session.execute(
            sa.select(Notification.user_id, Notification.key).where(
                Notification.key.startswith("assigned:")
            )
        ).all()
        assert len(told) == len(set(told))
        assert told_about_each_enrolment(today)


def count_missing_enrolments(today: date) -> int:
    """(active person, active assignment) pairs without an enrolment in today's period: here
    every assignment is for everyone, and monthly or started today."""
    from serviceideas.training.models import Assignment

    people = db.session.scalars(sa.select(User.id).where(User.is_active)).all()
    assignments = db.session.scalars(
        sa.select(Assignment.id).where(Assignment.withdrawn_at.is_(None))
    ).all()
    enrolled = {
        (user_id, assignment_id)
        for user_id, assignment_id, start in db.session.execute(
            sa.select(Enrolment.user_id, Enrolment.assignment_id, Enrolment.period_start)
        )
        if start >= today.replace(day=1) or start == today
    }
    return sum(1 for pair in itertools.product(people, assignments) if pair not in enrolled)


def told_about_each_enrolment(today: date) -> bool:
    """Everyone enrolled today was told once, in the app, of that enrolment."""
    enrolled_today = set(
        db.session.scalars(sa.select(Enrolment.id).where(Enrolment.enrolled_on == today))
    )
    told = set(
        db.session.scalars(
            sa.select(Notification.target_id).where(Notification.key.startswith("assigned:"))
        )
    )
    return enrolled_today <= told


@pytest.fixture
def on_postgresql(app):
    """Advisory locks are PostgreSQL's (on SQLite the commands take turns): these tests are
    marked postgres_only, which the SQLite run leaves out (tests/conftest.py)."""
    assert db.engine.dialect.name == "postgresql"


@pytest.mark.postgres_only
def test_send_reminders_skips_while_another_server_runs_it(
    on_postgresql, servers, fresh_inbox, make_enrolment
):
    make_enrolment(due_days=3)
    with one_at_a_time("send-reminders", wait=False) as turn:  # this test is that server
        assert turn.ran
        servers[0].start("send-reminders")
        code, output = servers[0].result()
    assert code == 0
    assert output == (
        "send-reminders is running on another server: this run did nothing (that one does it).\n"
    )
    assert fresh_inbox.messages == []
    assert run_alone(servers[0], "send-reminders").startswith("1 reminder; 2 e-mails queued")


@pytest.mark.postgres_only
@pytest.mark.parametrize("job", ["send-digests", "enrol-training"])
def test_a_daily_job_waits_for_another_servers_run_then_does_what_is_left(
    on_postgresql, servers, job
):
    waiting = sa.text(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
        " AND ((classid::bigint << 32) | objid::bigint) = :key"
    )
    with one_at_a_time(job, wait=True):
        servers[0].start(job)
        deadline = time.monotonic() + 30  # the server starts its command, then waits
        while not db.session.scalar(waiting, {"key": lock_key(job)}):
            assert time.monotonic() < deadline, "the server never waited for the lock"
            time.sleep(0.02)
        time.sleep(0.5)  # and keeps waiting meanwhile
    code, output = servers[0].result()
    assert code == 0
    waited, summary = output.splitlines()
    found = re.fullmatch(
        rf"Waited (\d+\.\d) s for {job} on another server to finish; then did what was left\.",
        waited,
    )
    assert found and float(found.group(1)) >= 0.3
    assert summary in {"0 digests queued; 0 e-mails sent, 0 failed.", "0 new enrolments."}


def run_alone(server: Server, job: str) -> str:
    db.session.commit()
    server.start(job)
    code, output = server.result()
    assert code == 0, output
    return output


@pytest.mark.postgres_only
def test_a_run_whose_lock_connection_was_lost_ends_quietly_and_frees_the_lock(on_postgresql):
    """The database restarted under a run, say: the lock went with its connection."""
    key = lock_key("send-digests")
    holder = sa.text(
        "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted"
        " AND ((classid::bigint << 32) | objid::bigint) = :key"
    )
    with one_at_a_time("send-digests", wait=True) as turn:
        assert turn.ran
        (pid,) = db.session.scalars(holder, {"key": key}).all()
        db.session.execute(sa.select(sa.func.pg_terminate_backend(pid)))
    with one_at_a_time("send-digests", wait=False) as turn:
        assert turn.ran and turn.note() is None
