"""The API's status changes, owners and progress notes: the review panel's rules, through a
token (docs/product.md, "The API", "Resources")."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from serviceideas.api.models import Scope
from serviceideas.database import utcnow
from serviceideas.extensions import db
from serviceideas.ideas import services
from serviceideas.ideas.models import Idea, ProgressNote, Status, StatusChange, Vote
from serviceideas.ideas.policies import HIDDEN_NAME
from serviceideas.people.models import Role
from tests.conftest import count_queries


def _steps(idea_id: int) -> int:
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(StatusChange).where(StatusChange.idea_id == idea_id)
    )


def _last_step(idea_id: int) -> int:
    return db.session.scalar(
        sa.select(sa.func.max(StatusChange.id)).where(StatusChange.idea_id == idea_id)
    )


@pytest.fixture
def manager(make_user):
    return make_user(Role.MANAGER, name="Mia Manager")


# Status changes


def test_a_manager_moves_an_idea_on_and_the_history_shows_it(api_as, manager, make_idea):
    idea = make_idea()
    api = api_as(manager)
    seen = _last_step(idea.id)
    response = api.post(
        f"/ideas/{idea.id}/status-changes",
        json={"status": "under_review", "note": "Looking at it.", "seen_change": seen},
    )
    assert response.status_code == 201
    step = response.get_json()
    assert step["from_status"] == "submitted"
    assert step["to_status"] == "under_review"
    assert step["note"] == "Looking at it."
    assert step["by"] == {"id": manager.id, "name": "Mia Manager"}
    assert step["fast_track"] is False
    assert db.session.get(Idea, idea.id).status is Status.UNDER_REVIEW

    history = api.get(f"/ideas/{idea.id}/status-changes")
    assert history.status_code == 200
    body = history.get_json()
    assert [s["to_status"] for s in body["items"]] == ["submitted", "under_review"]
    assert body["items"][0]["from_status"] is None
    assert body["links"] == {"next": None}
    # The same steps, shown the same way, as the idea's own history.
    assert api.get(f"/ideas/{idea.id}").get_json()["history"] == body["items"]


def test_implemented_asks_for_evidence_and_the_fast_track_says_so(api_as, manager, make_idea):
    idea = make_idea()
    api = api_as(manager)
    missing = api.post(f"/ideas/{idea.id}/status-changes", json={"status": "implemented"})
    assert missing.status_code == 422
    assert missing.content_type == "application/problem+json"
    assert set(missing.get_json()["errors"]) == {"note", "implemented_on"}  # both at once
    no_date = api.post(
        f"/ideas/{idea.id}/status-changes",
        json={"status": "implemented", "note": "Stores now text the customer."},
    )
    assert no_date.status_code == 422
    assert "implemented_on" in no_date.get_json()["errors"]
    assert _steps(idea.id) == 1

    done = api.post(
        f"/ideas/{idea.id}/status-changes",
        json={
            "status": "implemented",
            "note": "Stores now text the customer.",
            "implemented_on": idea.created_at.date().isoformat(),
        },
    )
    assert done.status_code == 201
    assert done.get_json()["fast_track"] is True
    stored = db.session.get(Idea, idea.id)
    assert stored.implementation_note == "Stores now text the customer."


def test_declining_asks_why_and_an_illegal_step_is_refused_beside_status(
    api_as, manager, make_idea
):
    idea = make_idea(Status.IMPLEMENTED)
    api = api_as(manager)
    illegal = api.post(f"/ideas/{idea.id}/status-changes", json={"status": "approved"})
    assert illegal.status_code == 422
    assert "cannot become approved" in illegal.get_json()["errors"]["status"][0]

    open_idea = make_idea()
    why = api.post(f"/ideas/{open_idea.id}/status-changes", json={"status": "declined"})
    assert why.status_code == 422
    assert "note" in why.get_json()["errors"]
    assert db.session.get(Idea, open_idea.id).status is Status.SUBMITTED


def test_bad_bodies_are_422_with_field_errors(api_as, manager, make_idea):
    idea = make_idea()
    api = api_as(manager)
    for body, field in [
        ({}, "status"),
        ({"status": "pilot"}, "status"),
        ({"status": "implemented", "implemented_on": "yesterday"}, "implemented_on"),
        ({"status": "merged", "merge_into": 0}, "merge_into"),
        ({"status": "under_review", "seen_change": -1}, "seen_change"),
        ({"status": "under_review", "note": "x" * 2001}, "note"),
        ({"status": "under_review", "note": "nul \x00"}, "note"),
    ]:
        response = api.post(f"/ideas/{idea.id}/status-changes", json=body)
        assert response.status_code == 422, body
        assert field in response.get_json()["errors"], body
    assert _steps(idea.id) == 1


def test_merging_moves_the_votes_and_a_missing_target_is_a_field_error(
    api_as, manager, make_idea, make_user
):
    target, duplicate = make_idea(), make_idea()
    voter = make_user()
    services.set_vote(voter, duplicate, True)
    db.session.commit()
    api = api_as(manager)
    nowhere = api.post(
        f"/ideas/{duplicate.id}/status-changes", json={"status": "merged", "merge_into": 999999}
    )
    assert nowhere.status_code == 422
    assert nowhere.get_json()["errors"] == {"merge_into": ["There is no idea #999999."]}
    merged = api.post(
        f"/ideas/{duplicate.id}/status-changes",
        json={"status": "merged", "merge_into": target.id, "note": "Same idea."},
    )
    assert merged.status_code == 201
    assert db.session.get(Idea, duplicate.id).merged_into_id == target.id
    assert db.session.get(Vote, (target.id, voter.id)) is not None


def test_a_decision_on_a_stale_history_is_409_and_changes_nothing(
    api_as, manager, make_idea, make_user
):
    idea = make_idea()
    seen = _last_step(idea.id)
    other = api_as(make_user(Role.MANAGER))
    assert (
        other.post(f"/ideas/{idea.id}/status-changes", json={"status": "under_review"}).status_code
        == 201
    )
    stale = api_as(manager).post(
        f"/ideas/{idea.id}/status-changes",
        # Illegal from under review, too: the conflict is said first, as on the page.
        json={"status": "declined", "note": "Not now.", "seen_change": seen},
    )
    assert stale.status_code == 409
    assert stale.content_type == "application/problem+json"
    assert "changed this idea's status" in stale.get_json()["detail"]
    assert db.session.get(Idea, idea.id).status is Status.UNDER_REVIEW
    assert _steps(idea.id) == 2


def test_only_managers_decide(api_as, make_user, make_idea):
    idea = make_idea()
    body = {"status": "under_review"}
    no_token = api_as(None).post(f"/ideas/{idea.id}/status-changes", json=body)
    assert no_token.status_code == 401
    # A token that names the review scope (as a person who lost the manager role keeps it).
    employee = api_as(make_user(), scopes=(Scope.READ, Scope.WRITE, Scope.REVIEW))
    assert employee.post(f"/ideas/{idea.id}/status-changes", json=body).status_code == 403
    assert employee.put(f"/ideas/{idea.id}/owner", json={"person_id": None}).status_code == 403
    assert employee.delete(f"/ideas/{idea.id}/owner").status_code == 403
    # A manager's token without the review scope.
    reader = api_as(make_user(Role.MANAGER), scopes=(Scope.READ,))
    assert reader.post(f"/ideas/{idea.id}/status-changes", json=body).status_code == 403
    assert employee.get(f"/ideas/{idea.id}/status-changes").status_code == 200
    assert _steps(idea.id) == 1
    assert db.session.get(Idea, idea.id).status is Status.SUBMITTED


def test_an_unknown_idea_is_404(api_as, manager):
    api = api_as(manager)
    for response in (
        api.get("/ideas/999999/status-changes"),
        api.post("/ideas/999999/status-changes", json={"status": "under_review"}),
        api.put("/ideas/999999/owner", json={"person_id": None}),
        api.post("/ideas/999999/progress-notes", json={"note": "x"}),
        api.get("/ideas/3000000000/owner"),
    ):
        assert response.status_code == 404
        assert response.content_type == "application/problem+json"


def test_the_history_hides_an_author_who_hid_their_name_from_colleagues(
    api_as, manager, make_user, make_idea
):
    author = make_user(name="Quiet Author")
    idea = make_idea(author=author)
    db.session.execute(sa.update(Idea).where(Idea.id == idea.id).values(name_hidden=True))
    db.session.commit()
    colleague = api_as(make_user()).get(f"/ideas/{idea.id}/status-changes").get_json()
    assert colleague["items"][0]["by"] == {"id": None, "name": HIDDEN_NAME}
    as_manager = api_as(manager).get(f"/ideas/{idea.id}/status-changes").get_json()
    assert as_manager["items"][0]["by"] == {"id": author.id, "name": "Quiet Author"}


def test_the_history_is_read_in_a_fixed_number_of_queries(api_as, manager, make_user, make_idea):
    short = make_idea()
    long = make_idea(Status.IMPLEMENTED, reviewer=make_user(Role.MANAGER))
    api = api_as(make_user())
    api.get(f"/ideas/{short.id}/status-changes")  # the token's first use is stamped once

    def count(idea_id: int) -> int:
        with count_queries() as log:
            assert api.get(f"/ideas/{idea_id}/status-changes").status_code == 200
        return log.count

    assert count(short.id) == count(long.id)


# Owners


def test_a_manager_names_an_owner_and_clears_them(api_as, manager, make_user, make_idea):
    idea = make_idea()
    owner = make_user(name="Olu Owner")
    api = api_as(manager)
    named = api.put(f"/ideas/{idea.id}/owner", json={"person_id": owner.id, "seen_owner_id": None})
    assert named.status_code == 200
    assert named.get_json() == {"idea_id": idea.id, "owner": {"id": owner.id, "name": "Olu Owner"}}
    assert api_as(make_user()).get(f"/ideas/{idea.id}/owner").get_json()["owner"]["id"] == owner.id

    assert api.delete(f"/ideas/{idea.id}/owner").status_code == 204
    assert db.session.get(Idea, idea.id).owner_id is None
    assert api.get(f"/ideas/{idea.id}/owner").get_json() == {"idea_id": idea.id, "owner": None}


def test_an_owner_must_be_someone_active_and_a_stale_owner_is_409(
    api_as, manager, make_user, make_idea
):
    idea = make_idea()
    api = api_as(manager)
    gone = make_user(active=False)
    refused = api.put(f"/ideas/{idea.id}/owner", json={"person_id": gone.id})
    assert refused.status_code == 422
    assert "deactivated" in refused.get_json()["errors"]["person_id"][0]
    nobody = api.put(f"/ideas/{idea.id}/owner", json={"person_id": 999999})
    assert nobody.status_code == 422
    assert "person_id" in nobody.get_json()["errors"]
    missing = api.put(f"/ideas/{idea.id}/owner", json={})
    assert missing.status_code == 422
    assert "person_id" in missing.get_json()["errors"]

    first = make_user()
    assert api.put(f"/ideas/{idea.id}/owner", json={"person_id": first.id}).status_code == 200
    stale = api.put(
        f"/ideas/{idea.id}/owner", json={"person_id": make_user().id, "seen_owner_id": None}
    )
    assert stale.status_code == 409
    assert db.session.get(Idea, idea.id).owner_id == first.id


# Progress


def test_the_owner_records_progress_and_a_colleague_may_not(api_as, manager, make_user, make_idea):
    idea = make_idea(Status.APPROVED)
    owner = make_user()
    assert (
        api_as(manager).put(f"/ideas/{idea.id}/owner", json={"person_id": owner.id}).status_code
        == 200
    )
    target = (utcnow() + timedelta(days=10)).date()
    response = api_as(owner, scopes=(Scope.WRITE,)).post(
        f"/ideas/{idea.id}/progress-notes",
        json={"next_step": "Try it in two stores", "target_date": target.isoformat(), "note": "Go"},
    )
    assert response.status_code == 201
    body = response.get_json()
    assert body["next_step"] == "Try it in two stores"
    assert body["target_date"] == target.isoformat()
    assert body["note"]["note"] == "Go"
    assert body["note"]["by"]["id"] == owner.id

    # A field left out keeps what the idea has.
    kept = api_as(owner).post(f"/ideas/{idea.id}/progress-notes", json={"note": "Going well"})
    assert kept.status_code == 201
    assert kept.get_json()["next_step"] == "Try it in two stores"

    colleague = api_as(make_user()).post(f"/ideas/{idea.id}/progress-notes", json={"note": "Hi"})
    assert colleague.status_code == 403
    past = api_as(owner).post(
        f"/ideas/{idea.id}/progress-notes", json={"target_date": date(2001, 1, 1).isoformat()}
    )
    assert past.status_code == 422
    assert "target_date" in past.get_json()["errors"]
    nul = api_as(owner).post(f"/ideas/{idea.id}/progress-notes", json={"next_step": "a\x00"})
    assert nul.status_code == 422
    assert "next_step" in nul.get_json()["errors"]
    notes = db.session.scalar(
        sa.select(sa.func.count()).select_from(ProgressNote).where(ProgressNote.idea_id == idea.id)
    )
    assert notes == 2
