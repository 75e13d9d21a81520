"""*Stalled* at its boundary, through the pages that use the rule (docs/product.md,
"Stalled ideas"): the review queue's count and flags, the list's flags and the idea page."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from serviceideas.database import utcnow
from serviceideas.extensions import db
from serviceideas.ideas.models import Idea, Stalled, Status
from serviceideas.people.models import Role

DAYS = 3


@pytest.fixture
def app_settings():
    return {"STALLED_AFTER_DAYS": DAYS}


def text(response):
    assert response.status_code == 200
    return response.get_data(as_text=True)


def flagged(page):
    """The titles of the cards that carry the stalled flag."""
    cards = re.findall(r'<article class="idea-card".*?</article>', page, flags=re.S)
    return {
        re.search(r"<h3><a [^>]+>([^<]+)</a>", card).group(1)
        for card in cards
        if 'class="stalled"' in card
    }


def test_an_idea_stalls_the_second_its_days_are_up(client_as, make_user, make_idea):
    just_stalled = make_idea(title="A second past the days")
    not_yet = make_idea(title="A second short of the days")
    settled = make_idea(Status.DECLINED, title="Declined long ago")
    client = client_as(make_user(Role.MANAGER))

    def place_at_the_boundary():
        """Status changes DAYS days ago, a second either side, as of now: just before a
        request, so the request's own clock is well inside the second."""
        now = utcnow()
        for idea, changed in (
            (just_stalled, now - timedelta(days=DAYS, seconds=1)),
            (not_yet, now - timedelta(days=DAYS, seconds=-1)),
            (settled, now - timedelta(days=10 * DAYS)),
        ):
            db.session.execute(
                sa.update(Idea).where(Idea.id == idea.id).values(status_changed_at=changed)
            )
        db.session.commit()
        return now

    now = place_at_the_boundary()
    rule = Stalled(now, DAYS)
    ideas = {idea.title: db.session.get(Idea, idea.id) for idea in (just_stalled, not_yet, settled)}
    assert {title for title, idea in ideas.items() if rule(idea)} == {just_stalled.title}
    assert db.session.scalar(sa.select(sa.func.count()).where(rule.clause())) == 1

    place_at_the_boundary()
    queue = text(client.get("/ideas/review"))
    assert "1 stalled</strong>" in queue and f"no status change for {DAYS} days" in queue
    assert flagged(queue) == {just_stalled.title}
    assert f"Stalled {DAYS} days" in queue

    place_at_the_boundary()
    assert flagged(text(client.get("/ideas?sort=waiting"))) == {just_stalled.title}

    place_at_the_boundary()
    assert "Stalled: no status change" in text(client.get(f"/ideas/{just_stalled.id}"))
    place_at_the_boundary()
    assert "Stalled: no status change" not in text(client.get(f"/ideas/{not_yet.id}"))


def test_the_queue_counts_stalled_ideas_up_to_a_point(make_idea, make_user, client_as):
    """Like a list's total, the stalled count stops past COUNT_UP_TO: a bounded read at any
    company size."""
    from serviceideas.ideas import queries

    long_ago = utcnow() - timedelta(days=10 * DAYS)
    for n in range(4):
        idea = make_idea(title=f"Stalled {n}")
        db.session.execute(
            sa.update(Idea).where(Idea.id == idea.id).values(status_changed_at=long_ago)
        )
    db.session.commit()
    rule = Stalled(utcnow(), DAYS)
    assert queries.count_stalled(rule) == 4
    assert queries.count_stalled(rule, up_to=4) == 4
    assert queries.count_stalled(rule, up_to=2) == 3  # "more than 2"
    queries_up_to = queries.COUNT_UP_TO
    try:
        queries.COUNT_UP_TO = 2
        queue = text(client_as(make_user(Role.MANAGER)).get("/ideas/review"))
    finally:
        queries.COUNT_UP_TO = queries_up_to
    assert "More than 2 stalled</strong>" in queue
