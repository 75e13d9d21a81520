"""Likely duplicates (docs/product.md, "Similar ideas and duplicates"): judged when an idea is
written, by the words distinctive of it, stored once and shown on both ideas; `flask
find-duplicates` for the ideas there were before. Among ordinary ideas (the demo company's
first two dozen), so that common words are common."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from serviceideas.demo.ideas import IDEAS
from serviceideas.extensions import db
from serviceideas.ideas import search, services
from serviceideas.ideas.models import Duplicate, Status
from serviceideas.people.models import Role
from tests.conftest import count_queries
from tests.ideas.test_search import PAIRS

BACKGROUND = [(title, problem) for _, title, problem, *_ in IDEAS[:24]]
# Each shares common words ("customers", "call", "item", "wait") with the background and with
# each other, and nothing distinctive.
COMMON_WORDS = [
    ("Call customers after their first delivery", "New customers call us in the first week."),
    ("Help customers choose the right item", "Customers call to ask which item suits them."),
    ("Customers wait too long for a call back", "They wait by the phone for hours."),
]


@pytest.fixture
def company(make_idea, make_user):
    """Writes an idea (title, problem) among the background's ordinary ideas."""
    author = make_user()

    def write(title, problem, **kw):
        return make_idea(author=author, title=title, problem=problem, proposal="Do it.", **kw)

    for title, problem in BACKGROUND:
        write(title, problem)
    return write


def stored():
    return set(db.session.execute(sa.select(Duplicate.idea_id, Duplicate.duplicate_id)).all())


def ids(matches):
    return [match.id for match in matches]


def test_a_near_duplicate_is_stored_once_and_shown_on_both_ideas(company):
    assert stored() == set()  # the ordinary ideas are no one's duplicates
    pairs = [(company(*first).id, company(*second).id) for first, second in PAIRS]
    assert stored() == {(second, first) for first, second in pairs}  # newer to older
    found = search.likely_duplicates([number for pair in pairs for number in pair])
    for first, second in pairs:
        assert ids(found[first]) == [second]
        assert ids(found[second]) == [first]


def test_ideas_sharing_only_common_words_are_not_duplicates(company):
    numbers = [company(*texts).id for texts in COMMON_WORDS]
    assert stored() == set()
    assert all(found == [] for found in search.likely_duplicates(numbers).values())


def test_a_closed_duplicate_shows_and_a_merged_one_does_not(company, make_user):
    (done_first, done_second), (wifi_first, wifi_second), _ = PAIRS
    done = company(*done_first, status=Status.IMPLEMENTED)
    again = company(*done_second)
    wifi = company(*wifi_first)
    merged = company(*wifi_second)
    services.change_status(
        make_user(Role.MANAGER), merged, services.Decision(Status.MERGED, merge_into=wifi)
    )
    found = search.likely_duplicates([again.id, wifi.id])
    assert [(m.id, m.status) for m in found[again.id]] == [(done.id, Status.IMPLEMENTED)]
    assert found[wifi.id] == []  # its duplicate was merged into it


def test_an_older_duplicate_is_found_past_the_newest_ideas_with_common_words(company, monkeypatch):
    """In a large company the newest ideas holding its common words are many; the candidates
    are looked for by the words that are not common, so an older duplicate is still found.
    Small limits stand in for a large company."""
    (first, second), *_ = PAIRS
    older = company(*first)
    for title, problem in BACKGROUND[:8]:  # newer, holding "customers" and "wait"
        company(f"{title} for customers", f"{problem} Customers wait.")
    monkeypatch.setattr(search, "SUGGESTIONS_UP_TO", 5)
    monkeypatch.setattr(search, "WORD_COUNT_UP_TO", 10)
    newer = company(*second)
    assert ids(search.likely_duplicates([newer.id])[newer.id]) == [older.id]


def test_find_duplicates_fills_in_the_ideas_there_were_and_is_idempotent(app, company):
    for first, second in PAIRS:
        company(*first)
        company(*second)
    judged = stored()
    db.session.execute(sa.delete(Duplicate))
    db.session.commit()
    for _ in range(2):
        result = app.test_cli_runner().invoke(args=["find-duplicates"])
        assert result.exit_code == 0, result.output
        assert "3 pairs" in result.output
        db.session.expire_all()
        assert stored() == judged
    # In batches, each idea judged against the older ones only, as when it was written.
    db.session.execute(sa.delete(Duplicate))
    after, pairs = 0, 0
    while (step := services.find_duplicates(after, batch=5))[0] is not None:
        after, pairs = step[0], pairs + step[1]
    assert (pairs, stored()) == (3, judged)


def test_a_submission_and_the_queue_run_the_same_statements_whatever_the_company(company):
    (first, second), (more_first, more_second), _ = PAIRS
    written = [company(*first)]
    with count_queries() as small:
        written.append(company(*second))
    for _, title, problem, *_ in IDEAS[24:]:  # more ideas, and common words more common
        written.append(company(title, problem))
    written.append(company(*more_first))
    with count_queries() as large:
        written.append(company(*more_second))
    assert len(small) == len(large)
    numbers = [idea.id for idea in written]
    with count_queries() as one:
        search.likely_duplicates(numbers[:1])
    with count_queries() as page:
        found = search.likely_duplicates(numbers)
    assert len(one) == len(page) == 1
    assert sum(len(matches) for matches in found.values()) == 4  # two pairs, both ways


def test_the_demo_queue_names_a_handful_of_likely_duplicates(demo_company):
    """The demo company's look-alikes are found, and none of its other ideas."""
    from serviceideas.ideas.models import OPEN_STATUSES, Idea

    assert demo_company.exit_code == 0
    queue = db.session.execute(
        sa.select(Idea.id, Idea.title).where(Idea.status.in_(OPEN_STATUSES))
    ).all()
    found = search.likely_duplicates([number for number, _ in queue])
    titles = {title for number, title in queue if found[number]}
    assert titles == {
        "Let engineers reset their own password",
        "A quiet hour in stores for customers who find crowds hard",
        "Quiet hour for customers who find busy stores hard",
    }
