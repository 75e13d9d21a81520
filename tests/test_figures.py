"""Report figures may be a little stale, by design: remembered for FIGURES_CACHE_SECONDS, in
the process's own memory here (tests/insights/test_fresh_figures.py: Redis, several instances,
and freshness after decisions)."""

from __future__ import annotations

import re
import threading
import time

import pytest

from serviceideas.figures import CODE, MAX_REFRESHING, Figures, code_digest, key_of
from serviceideas.ideas.models import Status
from serviceideas.people.models import Role
from tests.conftest import count_queries


@pytest.fixture
def app_settings():
    return {"FIGURES_CACHE_SECONDS": 60}


SUBMITTED = re.compile(r"<h3>Ideas submitted</h3>\s*<p class=\"mid-number\">(\d+)</p>")


def submitted(page: str) -> int:
    found = SUBMITTED.search(page)
    assert found, "no 'Ideas submitted' figure on the page"
    return int(found.group(1))


def test_the_dashboard_remembers_its_figures_for_a_while(client_as, make_user, make_idea, app):
    client = client_as(make_user(Role.MANAGER))
    make_idea(Status.IMPLEMENTED)
    with count_queries() as first:
        page = client.get("/dashboard").get_data(as_text=True)
    assert '<p class="big-number" id="headline-number">1</p>' in page
    assert submitted(page) == 1
    assert "recomputed at most every 60 seconds" in page
    assert "except ideas put into practice, which count at once" in page
    make_idea()  # a new idea: no decision, so the figures may stay as they were
    with count_queries() as second:
        page = client.get("/dashboard").get_data(as_text=True)
    assert second.count < first.count
    assert submitted(page) == 1  # not yet
    app.extensions["figures"].clear()  # as when the minute has passed
    page = client.get("/dashboard").get_data(as_text=True)
    assert submitted(page) == 2


def test_what_a_person_changes_themselves_is_always_fresh(client_as, make_user, make_idea):
    author = make_user()
    client = client_as(author)
    client.get("/dashboard")
    make_idea(author=author, title="Brand new")
    assert "Brand new" in client.get("/ideas/mine").get_data(as_text=True)


# The memory itself: a clock and a starter given by the test instead of time and threads.


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def counting(values: list[int]):
    def figure(name: str) -> str:
        values.append(len(values) + 1)
        return f"{name} {values[-1]}"

    return figure


def ask(figures: Figures, function, *args, version: int = 0):
    """What `remembered` asks the memory for: the figure under the counter `version`."""
    return figures.get(key_of(version, function, args), lambda: function(*args)).value


def remembers(figures: Figures, function, *args, version: int = 0) -> bool:
    return figures.remembers(key_of(version, function, args))


def test_a_fresh_figure_is_remembered_and_a_too_old_one_is_computed_while_waiting():
    clock, calls, started = Clock(), [], []
    figures = Figures(60, clock=clock, start=started.append)
    figure = counting(calls)
    assert ask(figures, figure, "a") == "a 1"
    clock.now += 29
    assert ask(figures, figure, "a") == "a 1"
    assert ask(figures, figure, "b") == "b 2"  # other arguments, another figure
    clock.now += 31  # 60 s: too old to show
    assert ask(figures, figure, "a") == "a 3"
    assert started == []


def test_past_half_its_age_a_figure_is_recomputed_in_the_background_once():
    clock, calls, started = Clock(), [], []
    figures = Figures(60, clock=clock, start=started.append)
    figure = counting(calls)
    ask(figures, figure, "a")
    clock.now += 45
    assert ask(figures, figure, "a") == "a 1"  # answered from memory at once…
    assert ask(figures, figure, "a") == "a 1"
    assert len(started) == 1  # …and one recomputation started, not one per visitor
    started.pop()()
    assert ask(figures, figure, "a") == "a 2"
    clock.now += 29
    assert ask(figures, figure, "a") == "a 2" and started == []


def test_a_failed_background_recomputation_keeps_the_figure_until_it_is_too_old(app):
    clock, started = Clock(), []
    figures = Figures(60, clock=clock, start=started.append)
    answers = iter(["first", RuntimeError("database away"), "third"])

    def figure() -> str:
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    ask(figures, figure)
    clock.now += 40
    assert ask(figures, figure) == "first"
    with app.app_context():
        started.pop()()  # fails, logged
    assert ask(figures, figure) == "first"
    assert len(started) == 1  # tried again by the next visitor past half its age
    clock.now += 20
    assert ask(figures, figure) == "third"  # too old: computed while waiting


def test_the_age_counts_from_when_the_reading_began():
    clock = Clock()
    figures = Figures(60, clock=clock, start=lambda job: None)

    def slow() -> float:
        clock.now += 50  # a reading that took 50 s
        return clock.now

    first = ask(figures, slow)
    clock.now += 11  # 61 s after the reading began
    assert ask(figures, slow) != first


def test_the_dashboard_is_recomputed_in_a_real_background_thread(
    client_as, make_user, make_idea, app
):
    client = client_as(make_user(Role.MANAGER))
    make_idea(Status.IMPLEMENTED)
    figures = app.extensions["figures"]
    page = client.get("/dashboard").get_data(as_text=True)
    assert submitted(page) == 1
    make_idea()
    threads_before = set(threading.enumerate())
    clock = Clock()
    clock.now = time.time() + 40  # past half its age
    figures.clock = clock
    page = client.get("/dashboard").get_data(as_text=True)
    assert submitted(page) == 1  # from memory
    for thread in set(threading.enumerate()) - threads_before:
        thread.join(timeout=30)
    page = client.get("/dashboard").get_data(as_text=True)
    assert submitted(page) == 2  # the drawn page and the reading it is drawn from, both anew
    assert 'href="/ideas/review"' in page  # rendered for a manager, links intact


def test_only_a_few_recomputations_run_at_once_and_one_that_cannot_start_is_let_go(app):
    clock, started = Clock(), []
    figures = Figures(60, clock=clock, start=started.append)
    figure = counting([])
    for name in "abcd":
        ask(figures, figure, name)
    clock.now += 40
    for name in "abcd":
        ask(figures, figure, name)  # all past half their age
    assert len(started) == MAX_REFRESHING  # the others wait for a visitor
    refreshing = [figures.is_refreshing(key_of(0, figure, (name,))) for name in "abcd"]
    assert refreshing == [True, True, False, False]

    def no_threads(job):
        raise RuntimeError("can't start new thread")

    figures = Figures(60, clock=clock, start=no_threads)
    ask(figures, figure, "e")
    clock.now += 40
    with app.app_context():
        assert ask(figures, figure, "e").startswith("e")  # answered from memory all the same
    assert not figures.is_refreshing(key_of(0, figure, ("e",)))  # free to try again


def test_figures_too_old_to_show_make_room_first():
    clock = Clock()
    figures = Figures(60, clock=clock, start=lambda job: None, max_figures=3)
    figure = counting([])
    ask(figures, figure, "old")
    clock.now += 61
    for name in ("a", "b"):
        ask(figures, figure, name)
        clock.now += 1
    ask(figures, figure, "c")  # full: the one too old to show goes, the fresh ones stay
    names = ("old", "a", "b", "c", "d")
    assert {name for name in names if remembers(figures, figure, name)} == {"a", "b", "c"}
    ask(figures, figure, "d")  # full of fresh ones: the oldest goes
    assert {name for name in names if remembers(figures, figure, name)} == {"b", "c", "d"}
    assert len(figures) == 3


def test_odd_period_parameters_share_the_periods_figures(client_as, make_user, app):
    client = client_as(make_user(Role.MANAGER))
    client.get("/dashboard")
    remembered = len(app.extensions["figures"])
    assert remembered > 0
    with count_queries() as again:
        client.get("/dashboard?period=quarter&start=zzz&end=yyy")  # start/end mean nothing here
    assert len(app.extensions["figures"]) == remembered
    assert again.count <= 4  # the person, the bell, the figures' counter: no figure read again


def test_a_newer_counter_leaves_the_older_figures_behind():
    clock = Clock()
    figures = Figures(60, clock=clock, start=lambda job: None)
    figure = counting([])
    assert ask(figures, figure, "a") == "a 1"
    assert ask(figures, figure, "a", version=1) == "a 2"  # after a decision: computed anew
    assert not remembers(figures, figure, "a")  # the figure from before it is gone
    assert ask(figures, figure, "a", version=1) == "a 2"


def test_figures_in_redis_are_named_after_the_code_that_made_them(tmp_path):
    """During a rolling deploy the old code and the new share Redis: a figure's name carries a
    digest of the code and templates, so neither reads what the other wrote."""
    (tmp_path / "templates").mkdir()
    module = tmp_path / "metrics.py"
    module.write_text("def headline(): return 1\n")
    template = tmp_path / "templates" / "dashboard.html"
    template.write_text("<p>{{ n }}</p>")
    before = code_digest(tmp_path)
    assert code_digest(tmp_path) == before  # the same code: the same name on every server
    module.write_text("def headline(): return (1, 2)\n")
    after_code = code_digest(tmp_path)
    template.write_text("<p>{{ n }} ideas</p>")
    after_template = code_digest(tmp_path)
    assert len({before, after_code, after_template}) == 3
    assert CODE in key_of(0, str, ("a",)).redis_name
