"""Full-text search (serviceideas/ideas/search.py) on both databases: matching and ranking,
web-search syntax that is never an error, the index kept in step, similar ideas, the merge
picker's title search, likely duplicates and the list page searched by best match."""

from __future__ import annotations

import base64
import json
from urllib.parse import quote

import pytest
import sqlalchemy as sa

from serviceideas.extensions import db
from serviceideas.ideas import queries, search
from serviceideas.ideas.models import Follower, Idea, Status, StatusChange
from serviceideas.ideas.queries import IdeaFilters, Sort
from tests.conftest import count_queries
from tests.test_migrations import empty_database_url  # noqa: F401  (a fixture)

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
    # Among a few ordinary ideas, so that words like "customers" and "wait" are common.
    for title, problem in BACKGROUND:
        idea(title, problem)
    pairs = [(idea(*first).id, idea(*second).id) for first, second in PAIRS]
    unrelated = [idea(*texts).id for texts in UNRELATED]

    found = search.likely_duplicates([number for pair in pairs for number in pair] + unrelated)
    for first, second in pairs:
        assert ids(found[first]) == [second]
        assert ids(found[second]) == [first]
    for number in unrelated:
        assert found[number] == []


def test_likely_duplicates_runs_one_query_whatever_the_number_of_ideas(idea):
    numbers = [idea("Refund returned parcels sooner", "Customers wait.").id for _ in range(6)]
    numbers += [idea(*texts).id for texts in UNRELATED * 2]
    with count_queries() as few:
        search.likely_duplicates(numbers[:1])
    with count_queries() as many:
        found = search.likely_duplicates(numbers, per_idea=2)
    assert len(few) == len(many) == 1
    assert all(len(found[number]) == 2 for number in numbers[:6])
    assert all(number not in ids(found[number]) for number in numbers)
    assert search.likely_duplicates([]) == {}


BACKGROUND = [
    ("Call back customers who cancelled", "People who leave tell us nothing."),
    ("Tell customers the delivery window the evening before", "Customers wait all day."),
    ("Let agents refund up to 50 without approval", "Customers wait days for small refunds."),
    ("A real person answers the store phone", "Callers wait twenty minutes in a queue."),
    ("Invoices a customer can read", "Customers call to ask what the lines mean."),
    ("Text the customer when the engineer is near", "Customers wait by the door for hours."),
]


# The list page: matching and ranking


def listed(viewer, q, **kw):
    page = queries.list_ideas(IdeaFilters(q=q, sort=Sort.BEST_MATCH), viewer, **kw)
    return [card.id for card in page.cards]


def test_a_title_match_outranks_a_passing_mention(idea, make_user):
    mention = idea("Shorter phone queue", "Callers wait.", "And mention refunds on the line.")
    in_title = idea("Refunds in a day", "Money back takes weeks.")
    viewer = make_user()
    assert listed(viewer, "refunds") == [in_title.id, mention.id]
    assert ids(search.similar_ideas("refunds")) == [in_title.id, mention.id]


def test_words_are_stemmed(idea, make_user):
    numbers = {
        idea("Refund on the spot").id,
        idea("Faster refunds").id,
        idea("Nobody knows when they are refunded", "Tell them.").id,
    }
    idea("Free parking")
    viewer = make_user()
    for word in ("refund", "refunds", "refunded", "REFUNDING"):
        assert set(listed(viewer, word)) == numbers, word


def test_quoted_phrases_and_excluded_words_work_as_in_web_search(idea, make_user):
    phrase = idea("A refund policy for parcels")
    apart = idea("Policy on parcels", "A refund takes weeks.")
    other = idea("Refund by phone")
    viewer = make_user()
    assert listed(viewer, '"refund policy"') == [phrase.id]
    assert set(listed(viewer, "refund policy")) == {phrase.id, apart.id}
    assert listed(viewer, "refund -policy") == [other.id]
    assert set(listed(viewer, 'refund -"refund policy"')) == {apart.id, other.id}
    assert listed(viewer, '"refund policy') == [phrase.id]  # the quote closes at the end
    # Nothing wanted, only words left out: nothing, not every other idea.
    assert listed(viewer, "-policy") == []


def test_bad_query_syntax_is_never_an_error_on_the_list_page(idea, client_as, make_user):
    idea("Faster refunds", "A refund policy for everyone.")
    client = client_as(make_user())
    for q in HOSTILE_QUERIES:
        for sort in ("", "&sort=best", "&sort=newest"):
            response = client.get("/ideas", query_string=f"q={quote(q)}{sort}")
            assert response.status_code in (200, 400), (q, sort)
            if len(q) <= 200:  # the field's limit; longer is refused beside the field
                assert response.status_code == 200, (q, sort)


def test_edits_and_deletes_keep_the_index_in_step(idea, make_user):
    one = idea("Faster refunds", "Money back sooner.")
    viewer = make_user()
    one.title = "Shorter queues"
    db.session.commit()
    assert listed(viewer, "refunds") == []
    assert listed(viewer, "queues") == [one.id]
    assert ids(search.titles_matching("queue")) == [one.id]
    one.problem = "Callers hang up."
    db.session.commit()
    assert listed(viewer, "money") == []
    assert listed(viewer, "callers") == [one.id]
    one.vote_count = one.vote_count  # an update that leaves the text alone
    gone = idea("Refunds by post")
    number = gone.id
    db.session.execute(sa.delete(StatusChange).where(StatusChange.idea_id == number))
    db.session.execute(sa.delete(Follower).where(Follower.idea_id == number))
    db.session.execute(sa.delete(Idea).where(Idea.id == number))
    db.session.commit()
    assert listed(viewer, "refunds") == []
    assert search.similar_ideas("refunds by post") == []


def test_best_match_pages_neither_overlap_nor_skip(idea, make_user):
    # Ranks differ (the word in the title or not, once or twice) and tie too.
    for n in range(4):
        idea(f"Refund {n}", "Refund money.")
        idea(f"Parcel {n}", "Mention a refund.")
        idea(f"Refund refund {n}")
    idea("Nothing to see")
    viewer = make_user()
    whole = listed(viewer, "refund", limit=100)
    assert len(whole) == 12
    seen: list[int] = []
    after = None
    while True:
        page = queries.list_ideas(
            IdeaFilters(q="refund", sort=Sort.BEST_MATCH), viewer, after=after, limit=5
        )
        seen += [card.id for card in page.cards]
        if page.next_cursor is None:
            break
        after = page.next_cursor
    assert seen == whole


def test_a_search_is_sorted_by_best_match_unless_another_sort_is_chosen(idea, client_as, make_user):
    mention = idea("Phone queue", "Callers ask about refunds.")
    in_title = idea("Refunds in a day")
    client = client_as(make_user())
    page = client.get("/ideas?q=refunds").get_data(as_text=True)
    assert page.index(f'/ideas/{in_title.id}"') < page.index(f'/ideas/{mention.id}"')
    assert '<option value="best" selected>Best match</option>' in page
    newest = client.get("/ideas?q=refunds&sort=newest").get_data(as_text=True)
    assert newest.index(f'/ideas/{in_title.id}"') < newest.index(f'/ideas/{mention.id}"')
    oldest_first = client.get("/ideas?q=refunds&sort=waiting").get_data(as_text=True)
    assert oldest_first.index(f'/ideas/{mention.id}"') < oldest_first.index(
        f'/ideas/{in_title.id}"'
    )
    # Without a search, best match is most votes.
    assert client.get("/ideas?sort=best").status_code == 200


def test_cards_mark_the_words_that_matched_stemmed_and_escaped(idea, client_as, make_user):
    idea("<script>alert(1)</script> refunds", "We refunded <b>late</b> & slowly.")
    idea("Marker \ue000 refund \ue001 here")
    page = client_as(make_user()).get("/ideas?q=refund").get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt; <mark>refunds</mark>" in page
    assert "We <mark>refunded</mark> &lt;b&gt;late&lt;/b&gt; &amp; slowly." in page
    assert "<script>alert(1)" not in page
    assert "Marker \ue000 refund \ue001 here" in page  # marks it cannot place: none at all
    plain = client_as(make_user()).get("/ideas").get_data(as_text=True)
    assert "<mark>" not in plain


def test_a_searched_list_runs_a_constant_number_of_queries(idea, client_as, make_user):
    client = client_as(make_user())
    urls = ["/ideas?q=refund", "/ideas?q=refund&sort=newest", "/ideas?q=refund+-parcel"]

    def queries_for(url):
        with count_queries() as log:
            assert client.get(url).status_code == 200
        return len(log)

    for n in range(3):
        idea(f"Refund {n}", "Refund parcels.")
    few = [queries_for(url) for url in urls]
    for n in range(30):
        idea(f"Refund {n}", "Refund the money.")
    assert [queries_for(url) for url in urls] == few


def test_a_broad_search_ranks_its_newest_matches_and_pages_no_further(idea, make_user, monkeypatch):
    monkeypatch.setattr(queries, "BEST_MATCH_UP_TO", 4)
    old_title_match = idea("Refund refund refund")
    newer = [idea(f"Parcel {n}", "Mention a refund.").id for n in range(4)]
    viewer = make_user()
    page = queries.list_ideas(IdeaFilters(q="refund", sort=Sort.BEST_MATCH), viewer, limit=2)
    seen = [card.id for card in page.cards]
    assert page.next_cursor is not None
    page = queries.list_ideas(
        IdeaFilters(q="refund", sort=Sort.BEST_MATCH), viewer, after=page.next_cursor, limit=2
    )
    seen += [card.id for card in page.cards]
    assert page.next_cursor is None
    assert sorted(seen) == sorted(newer)
    assert old_title_match.id not in seen
    # Any other sort still reaches every match.
    everyone = queries.list_ideas(IdeaFilters(q="refund", sort=Sort.NEWEST), viewer)
    assert len(everyone.cards) == 5


def test_a_broken_best_match_link_is_a_400(idea, client_as, make_user):
    idea("Faster refunds")
    client = client_as(make_user())

    def cursor(value):
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")

    for after in (
        "garbage!",
        cursor(["best", 0]),
        cursor(["best", -5]),
        cursor(["best", 10**6]),
        cursor(["best", "5"]),
        cursor(["votes", 5]),
        cursor([5, 1]),
        cursor(["best", True]),
    ):
        response = client.get("/ideas", query_string={"q": "refunds", "after": after})
        assert response.status_code == 400, after
    good = client.get("/ideas", query_string={"q": "refunds", "after": cursor(["best", 20])})
    assert good.status_code == 200


def test_or_is_an_ordinary_word_on_both_databases(idea, make_user):
    idea("Refunds by post")
    idea("Parcels by van")
    viewer = make_user()
    assert listed(viewer, "refunds OR parcels") == []
    assert listed(viewer, "refunds or post") == listed(viewer, "refunds post")


def test_the_migration_indexes_the_ideas_there_are_and_its_downgrade_drops_the_index(
    empty_database_url,  # noqa: F811 - the fixture imported above
):
    from flask_migrate import downgrade, upgrade

    from serviceideas import create_app
    from serviceideas.ideas import services
    from serviceideas.ideas.models import Lens
    from serviceideas.people.models import Department, DepartmentKind, User
    from tests.conftest import settings_for_tests

    app = create_app(settings_for_tests(empty_database_url))
    with app.app_context():
        upgrade()
        team = Department(name="Stores", kind=DepartmentKind.FRONT_LINE)
        author = User(email="a@example.com", name="A", department=team)
        db.session.add_all([team, author])
        db.session.flush()
        draft = services.IdeaDraft("Faster refunds", "Money back.", "Pay at once.", Lens.CARE, None)
        number = services.submit_idea(author, draft).id
        db.session.commit()
        downgrade(revision="4f8b2d0c6e31")
        names = sa.inspect(db.engine).get_table_names()
        assert not any(name.startswith("ideas_fts") for name in names)
        columns = [column["name"] for column in sa.inspect(db.engine).get_columns("ideas")]
        assert "search_vector" not in columns
        upgrade()
        assert ids(search.similar_ideas("refund")) == [number]
        assert ids(search.titles_matching("faster ref")) == [number]
        db.session.remove()
        db.engine.dispose()
