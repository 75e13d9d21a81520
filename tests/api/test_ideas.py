"""The API's ideas: the list as the ideas page lists them (filters, sorts, keyset pages), one
idea with its history, submitting, votes and comments; authors who hid their name stay hidden
from colleagues; every rule the pages enforce holds."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from serviceideas.api.models import Scope
from serviceideas.database import utcnow
from serviceideas.extensions import db
from serviceideas.ideas import services
from serviceideas.ideas.models import Comment, Idea, JourneyStage, Lens, Status, Vote
from serviceideas.ideas.policies import HIDDEN_NAME
from serviceideas.people.models import Role
from tests.api.conftest import API_ROOT
from tests.conftest import count_queries

HIDDEN = {"id": None, "name": HIDDEN_NAME}


def walk(api: Any, path: str) -> list[int]:
    """Every idea of a list, following links.next (and checking the Link header says the
    same) until it is null."""
    ids: list[int] = []
    url: str | None = path
    while url:
        response = api.get(url)
        assert response.status_code == 200, response.get_json()
        body = response.get_json()
        ids += [item["id"] for item in body["items"]]
        following = body["links"]["next"]
        if following:
            assert following.startswith(API_ROOT + "/ideas?")
            assert response.headers["Link"] == f'<{following}>; rel="next"'
            url = following.removeprefix(API_ROOT)
        else:
            assert "Link" not in response.headers
            url = None
    return ids


def page_order(client: Any, query: str) -> list[int]:
    """The ideas page's cards, in order (one page holds them all here)."""
    page = client.get(f"/ideas?{query}")
    assert page.status_code == 200
    return [int(number) for number in re.findall(r'id="idea-(\d+)"', page.text)]


@pytest.fixture
def world(make_user, make_idea, make_department):
    """Ideas with votes, statuses, times and departments that the sorts tell apart; one of
    them by an author who hid their name."""
    start = utcnow() - timedelta(days=30)
    sales = make_department("Sales")
    author = make_user(name="Hidden Hannah", department=sales)
    colleague = make_user(name="Colleague Carl")
    manager = make_user(Role.MANAGER, name="Manager Mia")
    voters = [make_user() for _ in range(4)]
    ideas = []
    for n, status in enumerate(
        [Status.SUBMITTED, Status.UNDER_REVIEW, Status.APPROVED, Status.SUBMITTED, Status.DECLINED]
    ):
        ideas.append(
            make_idea(
                status, title=f"Phone idea {n}", reviewer=manager, now=start + timedelta(days=n)
            )
        )
    hidden = services.submit_idea(
        author,
        services.IdeaDraft(
            title="Phone calls without a name",
            problem="Customers wait on the phone.",
            proposal="Call them back.",
            lens=Lens.LEARN,
            beneficiary=sales,
            name_hidden=True,
        ),
        now=start + timedelta(days=10),
    )
    services.set_owner(manager, hidden, author)
    ideas.append(hidden)
    for count, idea in zip([2, 0, 3, 1, 0, 2], ideas, strict=True):
        for voter in voters[:count]:
            if idea.status.accepts_votes:
                services.set_vote(voter, idea, True)
    db.session.commit()
    return {
        "author": author,
        "colleague": colleague,
        "manager": manager,
        "ideas": ideas,
        "hidden": hidden,
        "sales": sales,
    }


def test_every_operation_needs_a_live_token_and_its_scope(api_as, world):
    idea = world["ideas"][0]
    nobody = api_as(None)
    assert nobody.get("/ideas").status_code == 401
    assert nobody.get(f"/ideas/{idea.id}").status_code == 401
    reader = api_as(world["colleague"], scopes=(Scope.READ,))
    writer = api_as(world["colleague"], scopes=(Scope.WRITE,))
    assert writer.get("/ideas").status_code == 403
    assert writer.get(f"/ideas/{idea.id}").status_code == 403
    assert writer.get(f"/ideas/{idea.id}/comments").status_code == 403
    # Refused for the scope before the body is read: no 422 for the empty body.
    assert reader.post("/ideas", json={}).status_code == 403
    assert reader.put(f"/ideas/{idea.id}/vote").status_code == 403
    assert reader.delete(f"/ideas/{idea.id}/vote").status_code == 403
    assert reader.post(f"/ideas/{idea.id}/comments", json={"body": "Hi"}).status_code == 403
    assert (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Vote)
            .where(Vote.user_id == world["colleague"].id)
        )
        == 0
    )


# Sorts, filters and searches, each walked in pages of two.
QUERIES = [
    "",
    "sort=newest",
    "sort=waiting",
    "sort=votes&status=submitted",
    "q=phone",
    "q=phone&sort=newest",
    "beneficiary=external",
    "lens=care&sort=newest",
]


def test_the_list_walks_in_pages_in_the_ideas_page_order(api_as, client_as, world):
    viewer = world["colleague"]
    api, page = api_as(viewer, scopes=(Scope.READ,)), client_as(viewer)
    for query in QUERIES:
        expected = page_order(page, query)
        assert expected, query  # each query finds something
        assert walk(api, f"/ideas?limit=2&{query}") == expected, query


def test_the_list_filters_by_department_and_author_as_the_page_does(api_as, client_as, world):
    colleague, sales = world["colleague"], world["sales"]
    api = api_as(colleague)
    query = f"department_id={sales.id}"
    assert walk(api, f"/ideas?{query}") == page_order(
        client_as(colleague), "department=" + str(sales.id)
    )
    assert walk(api, f"/ideas?{query}") == [world["hidden"].id]
    # Asking for the hidden author's ideas does not name them to a colleague.
    assert walk(api, f"/ideas?author_id={world['author'].id}") == []
    assert walk(api_as(world["manager"]), f"/ideas?author_id={world['author'].id}") == [
        world["hidden"].id
    ]


def test_a_bad_filter_or_cursor_is_a_problem_with_the_parameter(api_as, world):
    api = api_as(world["colleague"])
    for query, parameter in [
        ("status=lost", "status"),
        ("sort=oldest", "sort"),
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("department_id=99999999999", "department_id"),
        ("beneficiary=nobody", "beneficiary"),
        ("after=notacursor", "after"),
        ("stauts=submitted", "stauts"),  # a typo is not read as no filter
    ]:
        response = api.get(f"/ideas?{query}")
        assert response.status_code == 422, query
        assert response.content_type == "application/problem+json"
        assert parameter in response.get_json()["errors"], query


def test_a_hidden_author_is_not_shown_to_colleagues_but_to_the_author_and_managers(api_as, world):
    hidden, author = world["hidden"], world["author"]
    colleague = api_as(world["colleague"])
    listed = {item["id"]: item for item in colleague.get("/ideas?limit=50").get_json()["items"]}
    assert listed[hidden.id]["author"] == HIDDEN
    assert listed[hidden.id]["department"] == {"name": "Sales", "kind": "front_line"}
    one = colleague.get(f"/ideas/{hidden.id}")
    assert one.status_code == 200
    body = one.get_json()
    assert body["author"] == HIDDEN
    assert body["owner"] == HIDDEN  # the author owns it: still not named
    assert body["history"][0]["by"] == HIDDEN
    # Read by programs: the same words whatever language the caller's browser or person asks.
    german = colleague.get(f"/ideas/{hidden.id}", headers={"Accept-Language": "de"}).get_json()
    assert german["author"] == german["owner"] == german["history"][0]["by"] == HIDDEN
    assert body["name_hidden"] is True
    assert author.name not in one.text
    assert author.name not in colleague.get("/ideas").text

    named = {"id": author.id, "name": author.name}
    for person in (author, world["manager"]):
        api = api_as(person)
        items = api.get("/ideas?limit=50").get_json()["items"]
        assert next(item for item in items if item["id"] == hidden.id)["author"] == named
        body = api.get(f"/ideas/{hidden.id}").get_json()
        assert body["author"] == named
        assert body["owner"] == named
        assert body["history"][0]["by"] == named


def test_one_idea_with_its_history_and_the_callers_stakes(api_as, make_idea, world):
    colleague, manager = world["colleague"], world["manager"]
    idea = world["ideas"][2]  # approved, with three votes
    services.set_vote(colleague, idea, True)
    services.add_comment(colleague, idea, "Good one.")
    db.session.commit()
    body = api_as(colleague, scopes=(Scope.READ,)).get(f"/ideas/{idea.id}").get_json()
    assert body["title"] == "Phone idea 2"
    assert body["status"] == "approved"
    assert [step["to_status"] for step in body["history"]] == [
        "submitted",
        "under_review",
        "approved",
    ]
    assert body["history"][1]["by"] == {"id": manager.id, "name": manager.name}
    assert body["history"][0]["from_status"] is None
    assert (body["vote_count"], body["voted"], body["following"]) == (4, True, True)
    assert body["comment_count"] == 1
    assert body["beneficiary"] is None
    assert body["merged_into"] is None

    # Merged: still shown, saying where it went, as its page does.
    target = world["ideas"][0]
    loser = make_idea(title="Call back sooner")
    services.change_status(
        manager, loser, services.Decision(Status.MERGED, note="Same.", merge_into=target)
    )
    db.session.commit()
    merged = api_as(colleague).get(f"/ideas/{loser.id}").get_json()
    assert merged["status"] == "merged"
    assert merged["merged_into"] == {"id": target.id, "title": target.title}
    there = api_as(colleague).get(f"/ideas/{target.id}").get_json()
    assert there["merged_here"] == [{"id": loser.id, "title": "Call back sooner"}]

    missing = api_as(colleague).get("/ideas/999999")
    assert missing.status_code == 404
    assert missing.content_type == "application/problem+json"


def _ideas() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Idea)) or 0


GOOD = {
    "title": "Text customers when the van is late",
    "problem": "Customers wait at home all day.",
    "proposal": "Send a text with the new time.",
    "lens": "care",
    "beneficiary_department_id": None,
}


def test_submitting_an_idea(api_as, make_user, make_department):
    department = make_department("Logistics")
    person = make_user()
    api = api_as(person, scopes=(Scope.READ, Scope.WRITE))
    response = api.post(
        "/ideas",
        json={**GOOD, "beneficiary_department_id": department.id, "name_hidden": True},
    )
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert response.headers["Location"] == f"{API_ROOT}/ideas/{body['id']}"
    assert body["status"] == "submitted"
    assert body["beneficiary"] == "Logistics"
    assert body["author"] == {"id": person.id, "name": person.name}  # to themself
    assert body["following"] is True
    idea = db.session.get(Idea, body["id"])
    assert idea is not None
    assert (idea.author_id, idea.name_hidden, idea.lens) == (person.id, True, Lens.CARE)
    assert api.get(response.headers["Location"].removeprefix(API_ROOT)).get_json() == body


@pytest.mark.parametrize(
    ("sent", "fields"),
    [
        ({}, {"title", "problem", "proposal", "lens", "beneficiary_department_id"}),
        ({**GOOD, "title": "   "}, {"title"}),
        ({**GOOD, "title": "x" * 121, "problem": ""}, {"title", "problem"}),
        ({**GOOD, "proposal": "a\x00b"}, {"proposal"}),
        ({**GOOD, "lens": "kindness"}, {"lens"}),
        ({**GOOD, "beneficiary_department_id": 999999}, {"beneficiary_department_id"}),
        ({**GOOD, "journey_stage_id": 999999}, {"journey_stage_id"}),
        ({**GOOD, "colour": "red"}, {"colour"}),
    ],
)
def test_a_refused_idea_says_why_beside_each_field_and_stores_nothing(
    api_as, make_user, sent, fields
):
    response = api_as(make_user()).post("/ideas", json=sent)
    assert response.status_code == 422
    assert response.content_type == "application/problem+json"
    assert set(response.get_json()["errors"]) == fields
    assert _ideas() == 0


def test_only_a_new_idea_answers_with_its_location(api_as, make_user, make_idea):
    api = api_as(make_user())
    made = api.post("/ideas", json=GOOD)
    assert made.headers["Location"] == f"{API_ROOT}/ideas/{made.get_json()['id']}"
    assert "Location" not in api.get(f"/ideas/{make_idea().id}").headers


def test_an_idempotency_key_submits_once(api_as, make_user):
    api = api_as(make_user())
    key = {"Idempotency-Key": "3c1f1d1e-0c6a-4b8e-9d53-3f0b2b7b9a11"}
    first = api.post("/ideas", json=GOOD, headers=key)
    again = api.post("/ideas", json=GOOD, headers=key)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.get_json()["id"] == first.get_json()["id"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert _ideas() == 1
    other = api.post("/ideas", json={**GOOD, "title": "Something else"}, headers=key)
    assert other.status_code == 422
    assert set(other.get_json()["errors"]) == {"Idempotency-Key"}
    assert api.post("/ideas", json=GOOD).status_code == 201  # no key: another idea
    assert _ideas() == 2


@pytest.mark.parametrize(
    "changed",
    [
        {"lens": "learn"},
        {"name_hidden": True},
        {"compass": "need"},
        {"beneficiary_department_id": "department"},
        {"journey_stage_id": "stage"},
    ],
)
def test_a_key_sent_again_with_any_field_changed_is_refused(
    api_as, make_user, make_department, changed
):
    """Every field submitted counts, not only the text: a replay answering the first idea
    would drop the change silently."""
    api = api_as(make_user())
    key = {"Idempotency-Key": "same-key"}
    assert api.post("/ideas", json=GOOD, headers=key).status_code == 201
    stage = JourneyStage(name="Paying", explanation="The customer pays us.")
    db.session.add(stage)
    db.session.commit()
    made = {"department": make_department().id, "stage": stage.id}
    changed = {name: made.get(value, value) for name, value in changed.items()}
    other = api.post("/ideas", json={**GOOD, **changed}, headers=key)
    assert other.status_code == 422, other.get_json()
    assert set(other.get_json()["errors"]) == {"Idempotency-Key"}
    assert _ideas() == 1


def test_a_comment_key_sent_again_on_another_idea_or_with_other_text_is_refused(
    api_as, make_user, make_idea
):
    api = api_as(make_user())
    a, b = make_idea(), make_idea()
    key = {"Idempotency-Key": "k1"}
    first = api.post(f"/ideas/{a.id}/comments", json={"body": "On A"}, headers=key)
    assert first.status_code == 201
    for idea, body in ((b, "Quite different, on B"), (b, "On A"), (a, "Other text on A")):
        refused = api.post(f"/ideas/{idea.id}/comments", json={"body": body}, headers=key)
        assert refused.status_code == 422, refused.get_json()
        assert "Idempotent-Replayed" not in refused.headers
        assert set(refused.get_json()["errors"]) == {"Idempotency-Key"}
    again = api.post(f"/ideas/{a.id}/comments", json={"body": " On A "}, headers=key)
    assert (again.status_code, again.headers["Idempotent-Replayed"]) == (201, "true")
    assert again.get_json()["id"] == first.get_json()["id"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Comment)) == 1


def test_voting_is_once_per_person_and_never_on_ones_own_idea(api_as, world):
    idea = world["ideas"][1]  # under review, no votes
    api = api_as(world["colleague"], scopes=(Scope.WRITE,))
    for _ in range(2):
        voted = api.put(f"/ideas/{idea.id}/vote")
        assert voted.status_code == 200
        assert voted.get_json() == {"voted": True, "vote_count": 1}
    db.session.refresh(idea)
    assert idea.vote_count == 1
    assert (
        db.session.scalar(
            sa.select(sa.func.count()).select_from(Vote).where(Vote.idea_id == idea.id)
        )
        == 1
    )
    for _ in range(2):
        taken_back = api.delete(f"/ideas/{idea.id}/vote")
        assert taken_back.get_json() == {"voted": False, "vote_count": 0}

    own = api_as(world["author"]).put(f"/ideas/{world['hidden'].id}/vote")
    assert own.status_code == 409
    assert own.content_type == "application/problem+json"
    closed = api.put(f"/ideas/{world['ideas'][4].id}/vote")  # declined
    assert closed.status_code == 409
    assert api.put("/ideas/999999/vote").status_code == 404
    assert (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Vote)
            .where(Vote.user_id == world["colleague"].id)
        )
        == 0
    )


def test_comments(api_as, world):
    idea = world["ideas"][0]
    colleague, manager = world["colleague"], world["manager"]
    api = api_as(colleague)
    posted = api.post(f"/ideas/{idea.id}/comments", json={"body": "  Yes, please.  "})
    assert posted.status_code == 201
    comment = posted.get_json()
    assert comment["body"] == "Yes, please."
    assert comment["author"] == {"id": colleague.id, "name": colleague.name}
    assert comment["removed_by"] is None

    for bad in ({}, {"body": "  "}, {"body": "x" * 2001}):
        refused = api.post(f"/ideas/{idea.id}/comments", json=bad)
        assert refused.status_code == 422
        assert set(refused.get_json()["errors"]) == {"body"}
    assert api.post("/ideas/999999/comments", json={"body": "Hi"}).status_code == 404

    key = {"Idempotency-Key": "comment-1"}
    first = api.post(f"/ideas/{idea.id}/comments", json={"body": "Once"}, headers=key)
    again = api.post(f"/ideas/{idea.id}/comments", json={"body": "Once"}, headers=key)
    assert again.get_json()["id"] == first.get_json()["id"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Comment)) == 2

    removed = db.session.get(Comment, comment["id"])
    services.remove_comment(manager, removed)
    db.session.commit()
    listed = api.get(f"/ideas/{idea.id}/comments")
    assert listed.status_code == 200
    body = listed.get_json()
    assert body["links"] == {"next": None}
    assert [(item["body"], item["removed_by"]) for item in body["items"]] == [
        (None, "manager"),
        ("Once", None),
    ]
    assert api.get("/ideas/999999/comments").status_code == 404


def _statements(log: list[str]) -> list[str]:
    """The request's statements but the rate limiter's (which sweeps old counters now and
    then, whatever the request)."""
    return [statement for statement in log if "rate_limit_counters" not in statement]


def test_the_list_runs_the_same_queries_whatever_the_page_size(api_as, make_idea, world):
    for _ in range(6):
        make_idea()
    api = api_as(world["colleague"])
    api.get("/ideas?limit=1")  # the token's first use is recorded once
    counts = []
    for limit in (1, 10):
        with count_queries() as log:
            response = api.get(f"/ideas?limit={limit}&sort=newest")
        assert len(response.get_json()["items"]) == limit
        counts.append(len(_statements(log)))
    assert counts[0] == counts[1]
    hidden = world["hidden"]
    with count_queries() as few:
        api.get(f"/ideas/{hidden.id}/comments")
    for n in range(5):
        services.add_comment(world["manager"], hidden, f"More {n}")
    db.session.commit()
    with count_queries() as more:
        assert len(api.get(f"/ideas/{hidden.id}/comments").get_json()["items"]) == 5
    assert len(_statements(more)) == len(_statements(few))
