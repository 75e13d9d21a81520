"""Report figures on several instances: remembered for a minute, yet fresh on the next view
everywhere after a decision that changes the ideas put into practice (docs/architecture.md,
"Report figures", "Several servers").

Two app objects on the same database stand for two servers (or two workers): "A", the test's
app, where a manager decides, and "B", where another manager looks. With REDIS_URL they share
the figures through Redis; without it each keeps its own in memory.
"""

from __future__ import annotations

import builtins
import pickle
import re
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import redis
import sqlalchemy as sa
from flask import Flask

from serviceideas import create_app
from serviceideas import figures as figures_module
from serviceideas.database import utcnow
from serviceideas.extensions import db
from serviceideas.figures import PREFIX, FiguresVersion
from serviceideas.ideas import services as ideas
from serviceideas.ideas.models import Status, StatusChange
from serviceideas.ideas.signals import status_changed
from serviceideas.people.models import Role
from serviceideas.shared import PAUSE_SECONDS
from tests.conftest import IsolatedClient, count_queries, login_as, settings_for_tests, table_rows

DEPARTMENT = "Harbour desk"


@pytest.fixture(params=["redis", "memory"])
def app_settings(request: pytest.FixtureRequest) -> dict[str, Any]:
    settings: dict[str, Any] = {"FIGURES_CACHE_SECONDS": 60}
    if request.param == "redis":
        settings["REDIS_URL"] = request.getfixturevalue("redis_url")
    return settings


_other_apps: dict[str, Flask] = {}


@pytest.fixture
def other(app: Flask, database_url: str, app_settings: dict[str, Any]) -> Iterator[Flask]:
    """Instance B: another app object for the same database (and Redis), as new."""
    settings = settings_for_tests(database_url, **app_settings)
    key = repr(sorted(settings.items()))
    if key not in _other_apps:
        made = create_app(settings)
        made.test_client_class = IsolatedClient
        _other_apps[key] = made
    other = _other_apps[key]
    figures_module.init_app(other)  # nothing remembered from another test
    yield other
    figures_module.init_app(other)


HEADLINE = re.compile(r'id="headline-number">(\d+)<')
SUBMITTED = re.compile(r"<h3>Ideas submitted</h3>\s*<p class=\"mid-number\">(\d+)</p>")
MONTH = re.compile(r"^[A-Z][a-z]+ \d{4}$")


def number(pattern: re.Pattern[str], page: str) -> int:
    found = pattern.search(page)
    assert found, f"{pattern.pattern} is not on the page"
    return int(found.group(1))


def dashboard(client: Any) -> dict[str, int]:
    response = client.get("/dashboard")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    response.close()  # as the server does once it has sent the page
    rows = table_rows(page)
    department = next(row for row in rows if row[0] == DEPARTMENT and len(row) == 6)
    return {
        "headline": number(HEADLINE, page),
        "submitted": number(SUBMITTED, page),
        "trend": sum(int(row[1]) for row in rows if len(row) == 2 and MONTH.match(row[0])),
        "department": int(department[4]),
    }


def leaderboard(client: Any, author: str) -> dict[str, int]:
    response = client.get("/leaderboard")
    assert response.status_code == 200
    rows = table_rows(response.get_data(as_text=True))
    response.close()
    person = next(row for row in rows if row[1].startswith(author))
    department = next(row for row in rows if len(row) == 3 and row[1].startswith(DEPARTMENT))
    return {"person": int(person[2]), "department": int(department[2])}  # count after the name


@pytest.fixture
def company(make_user, make_department, make_idea) -> dict[str, Any]:
    """One idea put into practice, one in progress, one approved; two managers."""
    team = make_department(DEPARTMENT)
    author = make_user(department=team, name="Ada Harbour")
    manager = make_user(Role.MANAGER)
    made = {
        status: make_idea(status, author=author, reviewer=manager)
        for status in (Status.IMPLEMENTED, Status.IN_PROGRESS, Status.APPROVED)
    }
    return {
        "author": author,
        "manager": manager,
        "ideas": made,
        "onlooker": make_user(Role.MANAGER),
    }


def decide(client: Any, idea: Any, to: Status, **fields: str) -> None:
    """A manager's decision, sent through the idea's page's form."""
    seen = db.session.scalar(
        sa.select(sa.func.max(StatusChange.id)).where(StatusChange.idea_id == idea.id)
    )
    data = {"to": to.value, "note": "Done, and it worked.", "seen_change": str(seen), **fields}
    if to is Status.IMPLEMENTED:
        data["implemented_on"] = utcnow().date().isoformat()
    response = client.post(f"/ideas/{idea.id}/status", data=data)
    assert response.status_code == 303, response.get_data(as_text=True)


@pytest.mark.parametrize("start", [Status.IN_PROGRESS, Status.APPROVED])  # the fast track
def test_a_decision_on_one_instance_shows_on_the_others_next_view(
    app, other, client_as, company, start
):
    deciding = client_as(company["manager"])
    looking = login_as(other.test_client(), company["onlooker"])
    author = company["author"].name
    assert dashboard(looking) == {"headline": 1, "submitted": 3, "trend": 1, "department": 1}
    assert leaderboard(looking, author) == {"person": 1, "department": 1}
    with count_queries() as again:
        assert dashboard(looking)["headline"] == 1
    assert again.count <= 4  # the person, the bell, the counter: every figure remembered

    decide(deciding, company["ideas"][start], Status.IMPLEMENTED)

    assert dashboard(looking) == {"headline": 2, "submitted": 3, "trend": 2, "department": 2}
    assert leaderboard(looking, author) == {"person": 2, "department": 2}
    assert dashboard(deciding)["headline"] == 2  # and on the instance that decided


def test_figures_no_decision_touched_stay_remembered(app, other, client_as, company, make_idea):
    looking = login_as(other.test_client(), company["onlooker"])
    assert dashboard(looking)["submitted"] == 3
    make_idea(author=company["author"])  # a new idea is no decision: no figure is recomputed
    ideas.set_vote(company["manager"], company["ideas"][Status.APPROVED], True)
    db.session.commit()
    with count_queries() as again:
        seen = dashboard(looking)
    assert seen["submitted"] == 3  # remembered, as the page says it may be
    assert again.count <= 4


def test_a_merge_makes_the_figures_fresh(app, other, client_as, company, make_idea):
    looking = login_as(other.test_client(), company["onlooker"])
    duplicate = make_idea(author=company["author"])
    assert dashboard(looking)["submitted"] == 4
    make_idea(author=company["author"])  # not counted yet…
    decide(
        client_as(company["manager"]),
        duplicate,
        Status.MERGED,
        merge_into=str(company["ideas"][Status.APPROVED].id),
    )
    assert dashboard(looking)["submitted"] == 5  # …but the merge made everything fresh


def version() -> int:
    return db.session.scalar(sa.select(FiguresVersion.version)) or 0


@pytest.mark.parametrize("app_settings", ["memory"], indirect=True)
def test_which_decisions_move_the_counter(app, make_idea, make_user):
    """Into practice (through the pipeline or the fast track), out of it, and merges do;
    other steps do not."""
    manager = make_user(Role.MANAGER)
    moves = []
    for status in (Status.UNDER_REVIEW, Status.DECLINED, Status.IMPLEMENTED):
        before = version()
        make_idea(status, reviewer=manager)
        moves.append(version() - before)
    assert moves == [0, 0, 1]
    fast = make_idea(Status.APPROVED, reviewer=manager)
    before = version()
    ideas.change_status(
        manager,
        fast,
        ideas.Decision(Status.IMPLEMENTED, note="Done.", implemented_on=utcnow().date()),
    )
    assert version() == before + 1  # flushed in the decision's transaction
    db.session.rollback()
    assert version() == before  # and undone with it
    kept, merged = make_idea(reviewer=manager), make_idea(reviewer=manager)
    before = version()
    ideas.change_status(manager, merged, ideas.Decision(Status.MERGED, merge_into=kept))
    db.session.commit()
    assert version() == before + 1
    # No step leads out of practice today; should one ever, it moves the counter too.
    back = StatusChange(from_status=Status.IMPLEMENTED, to_status=Status.UNDER_REVIEW)
    status_changed.send(back, idea=kept)
    assert version() == before + 2


# Redis: signed values, a figure computed once, Redis away and back


def stored_figures(url: str) -> dict[bytes, bytes]:
    with redis.Redis.from_url(url) as client:
        return {
            key: client.get(key) for key in client.scan_iter(f"{PREFIX}*") if b":lock:" not in key
        }


class Forged:
    """Bytes that would run code if the app unpickled them."""

    def __reduce__(self) -> tuple[Any, ...]:
        return (exec, ("import builtins; builtins.FIGURES_FORGED = True",))


@pytest.mark.parametrize("app_settings", ["redis"], indirect=True)
def test_a_value_written_into_redis_by_someone_else_is_ignored(
    app, client_as, company, redis_url, caplog
):
    looking = client_as(company["onlooker"])
    assert dashboard(looking)["headline"] == 1
    stored = stored_figures(redis_url)
    assert stored  # the dashboard's figures are in Redis
    payload = pickle.dumps((time.time(), Forged()))
    with redis.Redis.from_url(redis_url) as client:
        for key in stored:
            client.set(key, b"\0" * 32 + payload, ex=60)
    assert dashboard(looking)["headline"] == 1
    assert not hasattr(builtins, "FIGURES_FORGED")
    assert "bad signature" in caplog.text


@pytest.mark.parametrize("app_settings", ["redis"], indirect=True)
def test_a_missing_figure_is_computed_once_while_the_others_wait(
    app, other, client_as, company, redis_url
):
    client = login_as(other.test_client(), company["onlooker"])
    first = dashboard(client)
    with redis.Redis.from_url(redis_url) as shared:
        values = {key: shared.get(key) for key in shared.scan_iter(f"{PREFIX}*")}
        for key in values:
            shared.delete(key)
            # Another instance computing them: it holds their locks, and stores them soon.
            shared.set(key.replace(PREFIX.encode(), f"{PREFIX}lock:".encode(), 1), "x", ex=5)

        def stored_meanwhile(*_: Any) -> None:
            for key, value in values.items():
                shared.set(key, value, ex=60)

        timer = threading.Timer(0.1, stored_meanwhile)
        timer.start()
        try:
            with count_queries() as waited:
                assert dashboard(client_as(company["onlooker"])) == first  # on instance A
        finally:
            timer.join()
    assert waited.count <= 4  # waited for the other instance's figures: computed none


@pytest.mark.parametrize("app_settings", ["redis"], indirect=True)
def test_with_redis_away_pages_answer_from_memory_and_come_back(
    app, other, client_as, company, redis_server, redis_url
):
    shared = [instance.extensions["shared_redis"] for instance in (app, other)]
    for redis_client in shared:
        redis_client.pause = 0.05  # instead of 5 s
    deciding = client_as(company["manager"])
    looking = login_as(other.test_client(), company["onlooker"])
    try:
        assert dashboard(looking)["headline"] == 1
        redis_server.down()
        try:
            assert dashboard(looking)["headline"] == 1
            decide(deciding, company["ideas"][Status.IN_PROGRESS], Status.IMPLEMENTED)
            assert dashboard(looking)["headline"] == 2  # fresh from the process's own memory
            assert leaderboard(looking, company["author"].name)["person"] == 2
            assert looking.get("/training/coverage").status_code == 200
        finally:
            redis_server.up()
        time.sleep(0.1)  # past the pause
        assert dashboard(looking)["headline"] == 2  # the next view goes to Redis again…
        assert dashboard(looking)["headline"] == 2
        assert stored_figures(redis_url)  # …and stores the figures there
        decide(deciding, company["ideas"][Status.APPROVED], Status.IMPLEMENTED)
        assert dashboard(looking)["headline"] == 3
    finally:
        for redis_client in shared:
            redis_client.pause = PAUSE_SECONDS


@pytest.mark.parametrize("app_settings", ["redis"], indirect=True)
def test_training_coverage_is_shared_through_redis_too(app, other, client_as, make_enrolment):
    trainer = make_enrolment(answer="").assignment.module.author
    first = client_as(trainer).get("/training/coverage")
    assert first.status_code == 200
    with other.app_context(), count_queries() as queries:
        second = login_as(other.test_client(), trainer).get("/training/coverage")
    assert table_rows(second.get_data(as_text=True)) == table_rows(first.get_data(as_text=True))
    assert len(queries) <= 4  # the person, the bell, the counter: the figures from Redis


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize("app_settings", ["redis"], indirect=True)
def test_past_half_its_age_one_instance_recomputes_after_its_response(
    app, other, client_as, company, make_idea
):
    clock = Clock()
    for instance in (app, other):
        instance.extensions["figures"].clock = clock
    a = client_as(company["onlooker"])
    b = login_as(other.test_client(), company["onlooker"])
    assert dashboard(a)["submitted"] == 3
    make_idea(author=company["author"])  # no decision: the figures may wait
    clock.now += 40  # past half the minute
    first = a.get("/dashboard")  # takes the figures' locks; recomputes once the page is sent
    assert number(SUBMITTED, first.get_data(as_text=True)) == 3
    with other.app_context(), count_queries() as meanwhile:
        second = b.get("/dashboard")
        second.close()
    assert number(SUBMITTED, second.get_data(as_text=True)) == 3
    assert len(meanwhile) <= 4  # instance B answered from Redis and left the work to A
    with count_queries() as after_the_page:
        first.close()  # the server has sent the page: A recomputes
    assert len(after_the_page) > 4
    with other.app_context(), count_queries() as later:
        assert dashboard(b)["submitted"] == 4
    assert len(later) <= 4  # the recomputed figures, from Redis
