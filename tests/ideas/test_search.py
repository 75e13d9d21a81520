"""Full-text search (serviceideas/ideas/search.py) on both databases: matching and ranking,
web-search syntax that is never an error, the index kept in step, similar ideas, the merge
picker's title search, likely duplicates and the list page searched by best match."""

from __future__ import annotations

import pytest

from serviceideas.extensions import db
from serviceideas.ideas import search
from serviceideas.ideas.models import Status
from tests.conftest import count_queries

HOSTILE_QUERIES = [
    '"unbalanced quote',
    'refund"',
    "AND OR (",
    "*",
    "NEAR(",
    'NEAR("a" "b", 2)',
    "title:refund",
    "^refund",
    "{title}: x",
    "!!! ??? ...",
    "-",
    "- -",
    '"',
    '""',
    "-refund",
    '-"refund policy"',
    "refund*",
    "(refund",
    "OR",
    "NOT refund",
    "a & b | !c <-> d",
    "'; DROP TABLE ideas; --",
    "x" * 1000,
    "refund " * 200,
]


@pytest.fixture
def idea(make_idea, make_user):
    author = make_user()

    def make(title, problem="Nothing special here.", proposal="Do something else.", **kw):
        return make_idea(author=author, title=title, problem=problem, proposal=proposal, **kw)

    return make


def ids(matches):
    return [match.id for match in matches]


# Similar ideas


def test_similar_ideas_finds_near_duplicates_and_not_unrelated_ideas(idea):
    refunds = idea("Faster refunds for returned parcels", "Customers wait weeks for money.")
    parking = idea("More parking for visitors", "The car park is full by nine.")
    lunch = idea("Healthier lunch in the canteen", "Only chips and pies are served.")

    found = search.similar_ideas("Refund parcels faster")
    assert ids(found) == [refunds.id]
    assert found[0] == search.Match(refunds.id, refunds.title, Status.SUBMITTED, 0)
    assert ids(search.similar_ideas("Visitor parking is always full")) == [parking.id]
    assert ids(search.similar_ideas("canteen lunches")) == [lunch.id]
    assert search.similar_ideas("Paint the meeting rooms blue") == []


def test_similar_ideas_matches_any_word_best_first_and_leaves_out_merged_and_excluded(
    idea, make_user
):
    both = idea("Refund the delivery charge", "Late parcels annoy customers.")
    one = idea("Delivery slots in the evening")
    target = idea("Refunds by bank transfer")
    merged = idea("Refund delivery costs")
    from serviceideas.ideas import services

    manager = make_user("manager")
    services.change_status(
        manager, merged, services.Decision(Status.MERGED, note="Same.", merge_into=target)
    )
    db.session.commit()

    found = ids(search.similar_ideas("refund delivery"))
    assert found[0] == both.id
    assert set(found) == {both.id, one.id, target.id}
    assert merged.id not in found
    assert both.id not in ids(search.similar_ideas("refund delivery", exclude=[both.id]))
    assert len(search.similar_ideas("refund delivery", limit=1)) == 1


@pytest.mark.parametrize("text", ["", "   ", "the and of", "!!! ...", "or OR or"])
def test_similar_ideas_of_no_words_worth_looking_for_is_nothing(idea, text):
    idea("The and of it all")
    assert search.similar_ideas(text) == []


# The merge picker


def test_titles_matching_takes_the_last_word_as_a_prefix_and_only_titles(idea):
    refunds = idea("Faster refunds", "Money back sooner.")
    mention = idea("Phone queue", "Callers ask about refunds all day.")
    idea("Free parking")

    assert ids(search.titles_matching("refu")) == [refunds.id]
    assert ids(search.titles_matching("faster refu")) == [refunds.id]
    assert ids(search.titles_matching("Faster refunds")) == [refunds.id]
    assert mention.id not in ids(search.titles_matching("refunds"))
    assert search.titles_matching("refu", exclude=[refunds.id]) == []
    assert search.titles_matching("") == []
    assert search.titles_matching("***") == []


def test_titles_matching_can_keep_to_open_ideas(idea):
    open_one = idea("Refunds by post")
    closed = idea("Refunds by phone", status=Status.DECLINED)
    assert set(ids(search.titles_matching("refunds"))) == {open_one.id, closed.id}
    assert ids(search.titles_matching("refunds", open_only=True)) == [open_one.id]


@pytest.mark.parametrize("text", HOSTILE_QUERIES)
def test_what_is_typed_is_never_an_error(idea, text):
    idea("Faster refunds", "A refund policy for everyone.")
    search.similar_ideas(text)
    search.titles_matching(text)


# Likely duplicates

PAIRS = [  # (an idea, its near-duplicate worded otherwise)
    (
        ("Faster refunds for returned parcels", "Customers wait three weeks for their money."),
        ("Refund returned parcels sooner", "People wait weeks before the money comes back."),
    ),
    (
        ("Call customers back instead of a phone queue", "Callers hang up after ten minutes."),
        ("Offer a call back when the phone queue is long", "Callers give up waiting."),
    ),
    (
        ("Free wi-fi in the waiting room", "Visitors have no signal while they wait."),
        ("Wi-fi for visitors in the waiting area", "There is no signal in the waiting room."),
    ),
]
UNRELATED = [
    ("Healthier lunch in the canteen", "Only chips and pies; customers never see it."),
    ("Quieter open-plan office", "Phones ring all day and nobody can think."),
    ("Bike racks by the entrance", "Staff who cycle leave bikes in the corridor."),
]


def test_likely_duplicates_pairs_near_duplicates_and_leaves_unrelated_ideas_alone(idea):
    pairs = [(idea(*first).id, idea(*second).id) for first, second in PAIRS]
    unrelated = [idea(*texts).id for texts in UNRELATED]

    found = search.likely_duplicates([number for pair in pairs for number in pair] + unrelated)
    for first, second in pairs:
        assert ids(found[first]) == [second]
        assert ids(found[second]) == [first]
    for number in unrelated:
        assert found[number] == []


def test_likely_duplicates_runs_two_queries_whatever_the_number_of_ideas(idea):
    numbers = [idea("Refund returned parcels sooner", "Customers wait.").id for _ in range(6)]
    numbers += [idea(*texts).id for texts in UNRELATED * 2]
    with count_queries() as few:
        search.likely_duplicates(numbers[:1])
    with count_queries() as many:
        found = search.likely_duplicates(numbers, per_idea=2)
    assert len(few) == len(many) == 2
    assert all(len(found[number]) == 2 for number in numbers[:6])
    assert all(number not in ids(found[number]) for number in numbers)
    assert search.likely_duplicates([]) == {}
