"""Reading ideas without HTTP: every list filter narrows the list, with each request's values."""

from __future__ import annotations

import dataclasses

import pytest

from serviceideas.extensions import db
from serviceideas.ideas import queries, services
from serviceideas.ideas.models import Compass, JourneyStage, Lens, Status
from serviceideas.ideas.queries import EXTERNAL, IdeaFilters
from serviceideas.people.models import DepartmentKind


@pytest.fixture
def three_ideas(make_idea, make_user, make_department):
    """Three ideas that differ in everything a list can be filtered by."""
    stores = make_department("Stores", DepartmentKind.FRONT_LINE)
    it = make_department("IT", DepartmentKind.BACK_OFFICE)
    queue = make_idea(
        author=make_user(department=stores),
        title="Shorter phone queue",
        lens=Lens.CARE,
    )
    reset = make_idea(
        Status.IMPLEMENTED,
        author=make_user(department=it),
        title="Password reset",
        problem="People forget their password.",
        lens=Lens.TEACH,
        beneficiary=stores,
    )
    leavers = make_idea(
        Status.DECLINED,
        author=make_user(department=it),
        title="Listen to leavers",
        problem="We never learn why they left.",
        lens=Lens.LEARN,
        beneficiary=it,
    )
    # The customer's side: a stage and a compass point on two of them, none on the third.
    paying, help_ = JourneyStage(name="Paying"), JourneyStage(name="Getting help", position=1)
    queue.journey_stage, queue.compass = help_, Compass.EMOTION
    reset.journey_stage, reset.compass = paying, Compass.NEED
    db.session.flush()
    return {"queue": queue, "reset": reset, "leavers": leavers, "stores": stores, "it": it}


def titles(viewer, filters):
    return {card.title for card in queries.list_ideas(filters, viewer).cards}


def test_every_filter_narrows_the_list_with_the_value_asked_for(three_ideas, make_user):
    """Asked twice with different values, each filter finds what its value names: a statement
    kept from the first request must not carry that request's value into the second. A filter
    added to IdeaFilters fails here until it is given examples, and then until the list
    honours it."""
    queue, reset, leavers = three_ideas["queue"], three_ideas["reset"], three_ideas["leavers"]
    stores, it = three_ideas["stores"], three_ideas["it"]
    queue_title, reset_title, leavers_title = queue.title, reset.title, leavers.title
    examples = {  # field: [(value, the titles it finds), ...]
        "status": [(Status.SUBMITTED, {queue_title}), (Status.IMPLEMENTED, {reset_title})],
        "lens": [(Lens.CARE, {queue_title}), (Lens.TEACH, {reset_title})],
        "department_id": [(stores.id, {queue_title}), (it.id, {reset_title, leavers_title})],
        "kind": [
            (DepartmentKind.FRONT_LINE, {queue_title}),
            (DepartmentKind.BACK_OFFICE, {reset_title, leavers_title}),
        ],
        "beneficiary": [
            (str(stores.id), {reset_title}),
            (str(it.id), {leavers_title}),
            (EXTERNAL, {queue_title}),
        ],
        "q": [("PHONE", {queue_title}), ("password", {reset_title}), ("  ", None)],
        "open_only": [(True, {queue_title}), (False, None)],
        "author_id": [(queue.author_id, {queue_title}), (reset.author_id, {reset_title})],
        "journey_stage_id": [
            (queue.journey_stage_id, {queue_title}),
            (reset.journey_stage_id, {reset_title}),
        ],
        "compass": [(Compass.EMOTION, {queue_title}), (Compass.NEED, {reset_title})],
    }
    everything = {queue_title, reset_title, leavers_title}
    filter_fields = {field.name for field in dataclasses.fields(IdeaFilters)} - {"sort"}
    assert set(examples) == filter_fields, "give each list filter examples here"

    viewer = make_user()
    db.session.commit()
    assert titles(viewer, IdeaFilters()) == everything
    for name, cases in examples.items():
        for value, expected in cases:
            found = titles(viewer, IdeaFilters(**{name: value}))
            assert found == (expected or everything), f"{name}={value!r}"


def test_filters_combine_and_keep_their_own_values(three_ideas, make_user):
    stores, it = three_ideas["stores"], three_ideas["it"]
    viewer = make_user()
    both = IdeaFilters(kind=DepartmentKind.BACK_OFFICE, beneficiary=str(stores.id))
    assert titles(viewer, both) == {three_ideas["reset"].title}
    other = IdeaFilters(kind=DepartmentKind.BACK_OFFICE, beneficiary=str(it.id))
    assert titles(viewer, other) == {three_ideas["leavers"].title}


def test_cards_say_whether_the_viewer_voted(three_ideas, make_user):
    voter, other = make_user(), make_user()
    services.set_vote(voter, three_ideas["queue"], True)
    db.session.commit()
    for viewer, expected in ((voter, True), (other, False)):
        cards = queries.list_ideas(IdeaFilters(status=Status.SUBMITTED), viewer).cards
        assert [(card.title, card.voted) for card in cards] == [("Shorter phone queue", expected)]


def test_the_total_comes_with_the_cards_and_holds_past_the_last_one(three_ideas, make_user):
    """The page's statement brings the list's total; a "load more" past the last card still
    says how many the list holds, and a first page with no card says none."""
    viewer = make_user()
    page = queries.list_ideas(IdeaFilters(), viewer, limit=2)
    assert (len(page.cards), page.total, page.next_cursor is not None) == (2, 3, True)
    rest = queries.list_ideas(IdeaFilters(), viewer, after=page.next_cursor, limit=2)
    assert (len(rest.cards), rest.total, rest.next_cursor) == (1, 3, None)
    past = queries.encode_cursor(queries.Sort.VOTES, rest.cards[-1])
    beyond = queries.list_ideas(IdeaFilters(), viewer, after=past, limit=2)
    assert (beyond.cards, beyond.total) == ([], 3)
    nothing = queries.list_ideas(IdeaFilters(q="nowhere-to-be-found"), viewer)
    assert (nothing.cards, nothing.total, nothing.total_label) == ([], 0, "0 ideas")


def test_the_list_filters_read_departments_and_stages_as_their_own_queries_do(
    three_ideas, make_department
):
    """One statement for the idea list's filters gives what the two it replaces give: every
    department by name, every stage in order (equal positions by id), retired ones said so."""
    from serviceideas.ideas import stage_queries
    from serviceideas.people.forms import department_choices

    make_department("Accounts", DepartmentKind.BACK_OFFICE)
    late = JourneyStage(name="Alpha", position=1)  # after "Getting help" (position 1, older)
    db.session.add_all([late, JourneyStage(name="Before all", position=-1)])
    db.session.flush()
    three_ideas["reset"].journey_stage.retired_at = late.created_at
    db.session.flush()
    departments, stages = stage_queries.departments_and_stages()
    assert departments == department_choices()
    expected = stage_queries.stages_in_order(with_retired=True)
    assert [(s.id, s.name, s.is_retired) for s in stages] == [
        (s.id, s.name, s.is_retired) for s in expected
    ]
    assert [s.name for s in stages] == ["Before all", "Paying", "Getting help", "Alpha"]
    assert [s.is_retired for s in stages] == [False, True, False, False]
