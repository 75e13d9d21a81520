"""Many people at once on one idea: votes and status changes racing, on the real database.

Runs on SQLite and on PostgreSQL. Whatever the interleaving, the vote count equals the rows
in the vote table, nobody votes twice, the history is an unbroken legal chain, and no
request answers 500.
"""

from __future__ import annotations

import random
import re
from concurrent.futures import ThreadPoolExecutor
from itertools import pairwise

import sqlalchemy as sa

from serviceideas.extensions import db
from serviceideas.ideas.models import TRANSITIONS, Idea, Status, StatusChange, Vote
from serviceideas.people.models import Role


def test_racing_votes_and_status_changes_leave_consistent_data(
    app, make_idea, make_user, client_as
):
    idea = make_idea()
    voters = [make_user() for _ in range(10)]
    managers = [make_user(Role.MANAGER) for _ in range(3)]
    idea_id = idea.id
    statuses: list[int] = []
    # Clients are made here: signing in reads the database through this thread's context.
    voter_clients = [client_as(voter) for voter in voters]
    manager_clients = [client_as(manager) for manager in managers]

    def vote(voter_index: int) -> None:
        client = voter_clients[voter_index % len(voters)]
        rng = random.Random(voter_index)
        for _ in range(8):
            response = client.post(f"/ideas/{idea_id}/vote", data={"vote": rng.choice("10")})
            statuses.append(response.status_code)

    def review(manager_index: int) -> None:
        client = manager_clients[manager_index]
        for step in ("under_review", "approved", "in_progress"):
            # As a person would: open the page, then decide on what it showed.
            page = client.get(f"/ideas/{idea_id}").get_data(as_text=True)
            seen = re.search(r'name="seen_change" type="hidden" value="(\d+)"', page)
            response = client.post(
                f"/ideas/{idea_id}/status",
                data={"to": step, "note": "Go", "seen_change": seen.group(1)},
            )
            statuses.append(response.status_code)

    # Two threads per voter, so the same person also races themselves.
    with ThreadPoolExecutor(max_workers=8) as pool:
        jobs = [pool.submit(vote, n) for n in range(2 * len(voters))]
        jobs += [pool.submit(review, n) for n in range(len(managers))]
        for job in jobs:
            job.result()

    assert 500 not in statuses
    assert set(statuses) <= {303, 409, 422}
    db.session.commit()  # end this test's own snapshot and read afresh
    idea = db.session.get(Idea, idea_id)
    rows = db.session.scalar(sa.select(sa.func.count()).where(Vote.idea_id == idea_id))
    assert idea.vote_count == rows
    assert rows <= len(voters)
    history = db.session.scalars(
        sa.select(StatusChange).where(StatusChange.idea_id == idea_id).order_by(StatusChange.id)
    ).all()
    for before, after in pairwise(history):
        assert after.from_status == before.to_status
        assert after.to_status in TRANSITIONS[before.to_status]
    assert idea.status == history[-1].to_status == Status.IN_PROGRESS
