"""Similar ideas while typing, merging by title and likely duplicates in the review queue
(docs/product.md, "Similar ideas and duplicates"), with pairs of near-duplicate and unrelated
ideas."""

from __future__ import annotations

import re
from urllib.parse import urlencode

import pytest

from serviceideas.extensions import db
from serviceideas.ideas.models import Idea, Status, Vote
from serviceideas.people.models import Role
from tests.conftest import count_queries
from tests.ideas.test_routes import review, text

HX = {"HX-Request": "true"}

CALL_BACK = "Call customers back instead of keeping them on hold"
PARKING = "Free parking for the night shift"
# An unrelated idea's own words (make_idea's default problem and proposal are about calls).
UNRELATED = {
    "problem": "Night staff drive round for twenty minutes looking for a space.",
    "proposal": "Reserve spaces near the entrance after ten in the evening.",
}


@pytest.fixture
def manager(make_user):
    return make_user(Role.MANAGER, name="Max Manager")


@pytest.fixture
def emma(make_user):
    return make_user(name="Emma Employee")


def similar(client, title, **more):
    return client.get(f"/ideas/similar?{urlencode({'title': title, **more})}", headers=HX)


def listed_ids(page):
    """The ideas a fragment lists (by their links), in order."""
    return [int(n) for n in re.findall(r'<a href="/ideas/(\d+)">', page)]


# Similar ideas on the submit form


def test_typing_a_near_duplicate_title_shows_it_and_not_an_unrelated_idea(
    client_as, make_idea, emma
):
    call_back = make_idea(title=CALL_BACK)
    parking = make_idea(title=PARKING, **UNRELATED)
    answer = similar(client_as(emma), "Call the customers back when they hold")
    assert answer.status_code == 200
    page = text(answer)
    assert 'id="similar-ideas"' in page
    assert call_back.id in listed_ids(page) and parking.id not in listed_ids(page)
    assert f"#{call_back.id} {CALL_BACK}" in page and "Submitted" in page
    assert "1 similar idea already exists" in page
    assert "<strong>0</strong> votes" in page


def test_the_submit_form_asks_for_similar_ideas_as_the_title_changes(client_as, emma):
    page = text(client_as(emma).get("/ideas/new"))
    title = re.search(r"<input[^>]*name=\"title\"[^>]*>", page)[0]
    assert 'hx-get="/ideas/similar"' in title
    assert "input changed delay:400ms" in title and 'hx-sync="this:replace"' in title
    assert 'id="similar-ideas"' in page  # empty until something is typed


def test_at_most_five_similar_ideas_are_shown_and_merged_ones_never(
    client_as, make_idea, manager, emma
):
    ideas = [make_idea(title=f"Call customers back, take {n}") for n in range(7)]
    kept = make_idea(title="Call customers back for good")
    review(client_as(manager), ideas[0], "status", to="merged", merge_into=str(kept.id))
    page = text(similar(client_as(emma), "Call customers back"))
    shown = listed_ids(page)
    assert len(shown) == 5 and ideas[0].id not in shown
    assert "5 similar ideas already exist" in page


def test_vote_instead_is_offered_only_where_the_viewer_may_vote(
    client_as, make_idea, manager, emma
):
    colleagues = make_idea(title="Call customers back within an hour")
    voted = make_idea(title="Call customers back the same day")
    own = make_idea(title="Call customers back before noon", author=emma)
    closed = make_idea(Status.DECLINED, title="Call customers back by post", reviewer=manager)
    db.session.add(Vote(idea_id=voted.id, user_id=emma.id))
    db.session.commit()
    page = text(similar(client_as(emma), "Call customers back"))
    assert set(listed_ids(page)) == {colleagues.id, voted.id, own.id, closed.id}

    def control(idea):
        return re.search(rf'<div id="similar-vote-{idea.id}".*?</div>', page, re.S)[0]

    assert "Vote for this instead" in control(colleagues)
    assert 'aria-pressed="false"' in control(colleagues)
    assert "You voted" in control(voted) and 'aria-pressed="true"' in control(voted)
    assert "<button" not in control(own) and "<button" not in control(closed)
    assert "Declined" in page


def test_voting_for_a_similar_idea_instead_goes_through_the_vote_endpoint(
    client_as, make_idea, emma
):
    idea = make_idea(title=CALL_BACK)
    client = client_as(emma)
    answer = client.post(
        f"/ideas/{idea.id}/vote", data={"vote": "1", "place": "similar"}, headers=HX
    )
    assert answer.status_code == 200
    page = text(answer)
    assert f'id="similar-vote-{idea.id}"' in page and "You voted" in page
    assert 'id="vote-top"' not in page and 'id="vote"' not in page  # no other page's controls
    assert "Your vote is counted: 1 vote." in page
    assert db.session.get(Idea, idea.id).vote_count == 1
    # The list shows it from then on; pressed again, the vote is taken back.
    assert "You voted" in text(similar(client, "Call customers back"))
    back = client.post(f"/ideas/{idea.id}/vote", data={"vote": "0", "place": "similar"}, headers=HX)
    assert "Vote for this instead" in text(back)
    assert db.session.get(Idea, idea.id).vote_count == 0


@pytest.mark.parametrize(
    "title",
    ["", "  ", "ca", "the", "a" * 2000, '"unclosed', "-", "call* OR NEAR(", "))((", "💡💡💡"],
)
def test_little_or_odd_input_gives_a_list_never_an_error(client_as, make_idea, emma, title):
    make_idea(title=CALL_BACK)
    answer = similar(client_as(emma), title)
    assert answer.status_code == 200
    assert 'id="similar-ideas"' in text(answer)
    if len(title.strip()) < 3:
        assert listed_ids(text(answer)) == []
    assert similar(client_as(emma), "").status_code == 200
    assert client_as(emma).get("/ideas/similar", headers=HX).status_code == 200


def test_hostile_text_stays_text(client_as, make_idea, emma):
    make_idea(title="<script>alert('call back')</script> customers")
    page = text(similar(client_as(emma), "<img src=x onerror=alert(1)> call back customers"))
    assert "<script>alert" not in page and "&lt;script&gt;" in page
    assert "<img src=x" not in page


def test_the_list_is_read_out_only_when_it_changed(client_as, make_idea, emma):
    idea = make_idea(title=CALL_BACK)
    client = client_as(emma)
    first = text(similar(client, "Call customers back"))
    assert "data-announce" in first
    assert f'name="shown" value="{idea.id}"' in first
    again = text(similar(client, "Call customers back soon", shown=str(idea.id)))
    assert idea.id in listed_ids(again) and "data-announce" not in again
    gone = text(similar(client, "Parking spaces", shown=str(idea.id)))
    assert "No similar ideas." in gone and "data-announce" in gone
    # Nothing shown before and nothing now: nothing to say.
    assert "data-announce" not in text(similar(client, "Parking spaces"))


def test_similar_ideas_take_the_same_queries_however_many_are_shown(client_as, make_idea, emma):
    client = client_as(emma)
    make_idea(title="Call customers back quickly")

    def queries_for(title):
        with count_queries() as queries:
            page = text(similar(client, title))
        return queries.count, len(listed_ids(page))

    few = queries_for("Call customers back")
    for n in range(6):
        make_idea(title=f"Call customers back, take {n}")
    many = queries_for("Call customers back")
    assert few[1] == 1 and many[1] == 5
    assert few[0] == many[0]


def test_only_signed_in_people_see_similar_ideas(client_as, make_idea):
    make_idea(title=CALL_BACK)
    answer = similar(client_as(None), "Call customers back")
    assert CALL_BACK not in text(answer)
    assert answer.status_code != 200


# Merging by title


def merge_matches(client, idea, typed):
    return client.get(
        f"/ideas/{idea.id}/merge/matches?{urlencode({'merge_into': typed})}", headers=HX
    )


def test_the_merge_search_offers_open_ideas_by_title_never_the_idea_itself(
    client_as, make_idea, manager
):
    duplicate = make_idea(title="Call customers back when lines are busy")
    stays = make_idea(title=CALL_BACK)
    closed = make_idea(Status.DECLINED, title="Call customers back by post", reviewer=manager)
    make_idea(title=PARKING, **UNRELATED)
    answer = merge_matches(client_as(manager), duplicate, "call customers back")
    assert answer.status_code == 200
    page = text(answer)
    choices = [int(n) for n in re.findall(r'name="merge_choice" value="(\d+)"', page)]
    assert choices == [stays.id]
    assert closed.id not in choices and duplicate.id not in choices
    assert f"Merge into #{stays.id} {CALL_BACK}" in page
    # A number is no search; nothing matching says so; too little typed says nothing.
    assert "merge_choice" not in text(merge_matches(client_as(manager), duplicate, "#12"))
    assert "No open idea" in text(merge_matches(client_as(manager), duplicate, "zebra crossings"))
    assert "No open idea" not in text(merge_matches(client_as(manager), duplicate, "c"))
    hostile = text(merge_matches(client_as(manager), duplicate, "<b onmouseover=x>call"))
    assert "<b onmouseover" not in hostile and f"Merge into #{stays.id}" not in hostile


def test_the_review_panel_searches_titles_to_merge_into(client_as, make_idea, manager):
    idea = make_idea()
    page = text(client_as(manager).get(f"/ideas/{idea.id}"))
    field = re.search(r'<input[^>]*name="merge_into"[^>]*>', page)[0]
    assert f'hx-get="/ideas/{idea.id}/merge/matches"' in field
    assert 'id="merge-matches"' in page


def test_a_manager_merges_into_the_idea_chosen_from_the_matches(client_as, make_idea, manager):
    duplicate = make_idea(title="Call customers back when lines are busy")
    stays = make_idea(title=CALL_BACK)
    answer = review(
        client_as(manager),
        duplicate,
        "status",
        to="merged",
        merge_into="call customers back",
        merge_choice=str(stays.id),
    )
    assert answer.status_code == 303
    merged = db.session.get(Idea, duplicate.id)
    assert merged.status is Status.MERGED and merged.merged_into_id == stays.id


def test_a_whole_title_or_a_number_typed_merges_without_choosing(client_as, make_idea, manager):
    first, second = make_idea(title="Call back, first"), make_idea(title="Call back, second")
    stays = make_idea(title=CALL_BACK)
    client = client_as(manager)
    by_title = review(client, first, "status", to="merged", merge_into=CALL_BACK.upper())
    assert by_title.status_code == 303
    assert db.session.get(Idea, first.id).merged_into_id == stays.id
    by_number = review(client, second, "status", to="merged", merge_into=f"#{stays.id}")
    assert by_number.status_code == 303
    assert db.session.get(Idea, second.id).merged_into_id == stays.id


def test_several_matches_are_offered_beside_the_field_with_what_was_typed(
    client_as, make_idea, manager
):
    duplicate = make_idea(title="Call back busy callers")
    one = make_idea(title="Call customers back within an hour")
    other = make_idea(title="Call customers back the same day")
    answer = review(
        client_as(manager),
        duplicate,
        "status",
        to="merged",
        merge_into="call customers",
        note="Same.",
    )
    assert answer.status_code == 422
    page = text(answer)
    assert "Choose the idea to merge this one into" in page
    assert 'id="merge_into-error"' in page and 'value="call customers"' in page
    assert "Same.</textarea>" in page  # the note is kept too
    choices = {int(n) for n in re.findall(r'name="merge_choice" value="(\d+)"', page)}
    assert choices == {one.id, other.id}
    assert db.session.get(Idea, duplicate.id).status is Status.SUBMITTED


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("zebra crossings", "No open idea"),
        ("itself", "cannot be merged into itself"),
        ("closed", "merge into an open idea"),
        ("merged", "was itself merged into"),
        ("#99999999999", "There is no idea #99999999999."),
    ],
)
def test_merges_that_cannot_be_are_refused_beside_the_field(
    client_as, make_idea, manager, typed, message
):
    idea = make_idea(title="Call back busy callers")
    closed = make_idea(Status.DECLINED, title="Call customers back by post", reviewer=manager)
    stays = make_idea(title=CALL_BACK)
    merged = make_idea(title="Call back, merged")
    client = client_as(manager)
    assert (
        review(client, merged, "status", to="merged", merge_into=str(stays.id)).status_code == 303
    )
    numbers = {"itself": idea.id, "closed": closed.id, "merged": merged.id}
    # Typed (a number as #12), or, for an idea, chosen from the matches.
    sends = [{"merge_into": f"#{numbers[typed]}" if typed in numbers else typed}]
    if typed in numbers:
        sends.append({"merge_choice": str(numbers[typed])})
    for sent in sends:
        answer = review(client, idea, "status", to="merged", **sent)
        assert answer.status_code == 422
        page = text(answer)
        assert 'id="merge_into-error"' in page and message in page
        if "merge_into" in sent:
            assert f'value="{sent["merge_into"]}"' in page  # what was typed is kept
    assert db.session.get(Idea, idea.id).status is Status.SUBMITTED


def test_a_merge_target_typed_for_another_step_is_ignored(client_as, make_idea, manager):
    idea = make_idea()
    answer = review(client_as(manager), idea, "status", to="under_review", merge_into="nonsense")
    assert answer.status_code == 303
    assert db.session.get(Idea, idea.id).status is Status.UNDER_REVIEW


# Likely duplicates in the review queue


def test_the_review_queue_shows_each_ideas_likely_duplicates(client_as, make_idea, manager):
    first = make_idea(title="Call customers back instead of waiting")
    second = make_idea(title=CALL_BACK)
    parking = make_idea(title=PARKING, **UNRELATED)
    page = text(client_as(manager).get("/ideas/review"))
    first_card = re.search(
        rf'<article class="idea-card" id="idea-{first.id}">.*?</article>', page, re.S
    )[0]
    assert "Possibly the same as:" in first_card
    assert f'<a href="/ideas/{second.id}">#{second.id} {CALL_BACK}</a>' in first_card
    assert "(submitted, 0 votes)" in first_card
    parking_card = re.search(
        rf'<article class="idea-card" id="idea-{parking.id}">.*?</article>', page, re.S
    )[0]
    assert "Possibly the same as" not in parking_card
    # Lists other than the queue do not look for duplicates.
    assert "Possibly the same as" not in text(client_as(manager).get("/ideas"))


def test_the_review_queue_takes_the_same_queries_whatever_its_size(
    app, client_as, make_idea, manager, make_user
):
    client = client_as(manager)
    author = make_user()

    def queries_for_queue():
        with count_queries() as queries:
            page = text(client.get("/ideas/review"))
        return queries.count, page.count("Possibly the same as:")

    def pair(topic):
        """Two ideas on `topic`, worded differently: each the other's likely duplicate."""
        problem = f"Guests complain about the {topic} every week."
        for title in (f"Better {topic} for guests", f"Guests deserve better {topic}"):
            make_idea(title=title, author=author, problem=problem, proposal=f"Fix the {topic}.")

    pair("parking")
    few = queries_for_queue()
    for topic in ("uniforms", "menus", "signposts", "lifts"):
        pair(topic)
    many = queries_for_queue()
    assert few[1] == 2 and many[1] == 10
    assert few[0] == many[0]
