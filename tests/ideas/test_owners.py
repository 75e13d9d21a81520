"""Owners who carry ideas: picked by typing a name, told, with their ideas, next steps,
target dates and progress notes (docs/product.md, "The pipeline")."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from serviceideas.database import utcnow
from serviceideas.extensions import db
from serviceideas.ideas import services
from serviceideas.ideas.models import Idea, ProgressNote, Status
from serviceideas.notifications.models import Notification
from serviceideas.people.models import Role
from tests.conftest import count_queries
from tests.ideas.test_routes import review, text

HX = {"HX-Request": "true"}


@pytest.fixture
def manager(make_user):
    return make_user(Role.MANAGER, name="Max Manager")


@pytest.fixture
def olive(make_user):
    return make_user(email="olive@example.com", name="Olive Owner")


def titles(user):
    return db.session.scalars(
        sa.select(Notification.title).where(Notification.user_id == user.id)
    ).all()


def matches_url(idea, typed):
    return f"/ideas/{idea.id}/owner/matches?owner={typed}"


# Picking an owner


def test_typing_part_of_a_name_offers_the_active_people_who_match(
    client_as, make_idea, manager, olive, make_user
):
    make_user(name="Oliver Gone", active=False)
    make_user(name="Sam Other")
    idea = make_idea()
    answer = client_as(manager).get(matches_url(idea, "oliv"), headers=HX)
    assert answer.status_code == 200
    page = text(answer)
    assert 'id="owner-matches"' in page
    assert 'name="choice" value="olive@example.com"' in page and "Olive Owner" in page
    assert "Oliver Gone" not in page and "Sam Other" not in page
    # Too little typed, or nobody: no list, no error.
    assert "<button" not in text(client_as(manager).get(matches_url(idea, "o"), headers=HX))
    none = text(client_as(manager).get(matches_url(idea, "zzz"), headers=HX))
    assert "Nobody active matches" in none


def test_the_matches_are_few_and_take_the_same_queries_however_many_people(
    client_as, make_idea, manager, make_user
):
    idea = make_idea()
    client = client_as(manager)

    def queries_for_matches() -> tuple[int, int]:
        with count_queries() as queries:
            page = text(client.get(matches_url(idea, "pat"), headers=HX))
        return queries.count, page.count('name="choice"')

    make_user(name="Pat One")
    few = queries_for_matches()
    for n in range(12):
        make_user(name=f"Pat Many {n}")
    many = queries_for_matches()
    assert few == (few[0], 1)
    assert many == (few[0], 8)


def test_only_managers_search_for_owners(client_as, make_idea, make_user):
    idea = make_idea()
    assert client_as(make_user()).get(matches_url(idea, "per")).status_code == 403


def test_without_javascript_a_whole_name_or_an_email_sets_the_owner(
    client_as, make_idea, manager, olive
):
    idea = make_idea()
    client = client_as(manager)
    assert review(client, idea, "owner", owner="  olive   owner ").status_code == 303
    db.session.refresh(idea)
    assert idea.owner_id == olive.id
    assert review(client, idea, "owner", owner="").status_code == 303
    assert review(client, idea, "owner", owner="OLIVE@example.com").status_code == 303
    db.session.refresh(idea)
    assert idea.owner_id == olive.id


def test_a_name_several_people_share_is_answered_with_them_to_choose_from(
    client_as, make_idea, manager, make_user
):
    first = make_user(name="Alex Kim", email="alex.kim@example.com")
    make_user(name="Alex Kim", email="alex.kim2@example.com")
    idea = make_idea()
    client = client_as(manager)
    refused = review(client, idea, "owner", owner="Alex Kim")
    page = text(refused)
    assert refused.status_code == 422
    assert "Choose who you mean by “Alex Kim”." in page
    assert page.count('name="choice"') == 2
    assert 'value="Alex Kim"' in page  # what was typed is kept
    db.session.refresh(idea)
    assert idea.owner_id is None
    # One of the buttons sends the form with that person.
    chosen = review(client, idea, "owner", owner="Alex Kim", choice="alex.kim@example.com")
    assert chosen.status_code == 303
    db.session.refresh(idea)
    assert idea.owner_id == first.id


def test_part_of_a_name_without_javascript_lists_who_matches(client_as, make_idea, manager, olive):
    idea = make_idea()
    refused = review(client_as(manager), idea, "owner", owner="oliv")
    assert refused.status_code == 422
    assert 'name="choice" value="olive@example.com"' in text(refused)


# The owner is told


def test_the_new_owner_is_told_once_and_not_when_they_name_themselves(
    client_as, make_idea, manager, olive
):
    idea = make_idea(title="Call back")
    client = client_as(manager)
    review(client, idea, "owner", owner="olive@example.com")
    review(client, idea, "owner", owner="Olive Owner")  # the same owner again: nothing new
    assert titles(olive) == ["Max Manager made you the owner of “Call back”"]
    notification = db.session.scalar(
        sa.select(Notification).where(Notification.user_id == olive.id)
    )
    assert (notification.target.value, notification.target_id) == ("idea", idea.id)
    review(client, idea, "owner", owner="Max Manager")
    assert not [t for t in titles(manager) if "owner" in t]


# Ideas I own, next steps and progress


def test_ideas_i_own_lists_each_with_its_next_step(client_as, make_idea, manager, olive):
    mine = make_idea(Status.IN_PROGRESS, title="Owned and moving")
    make_idea(title="Not mine")
    services.set_owner(manager, mine, olive)
    services.record_progress(
        olive,
        mine,
        services.Progress("Train the night shift", utcnow().date() + timedelta(days=10)),
    )
    db.session.commit()
    page = text(client_as(olive).get("/ideas/owned"))
    assert "Owned and moving" in page and "Not mine" not in page
    assert "Train the night shift" in page
    assert "You own no idea yet" in text(client_as(manager).get("/ideas/owned"))
    # Found from My ideas, and in a manager's navigation.
    assert 'href="/ideas/owned"' in text(client_as(olive).get("/ideas/mine"))
    assert 'href="/ideas/owned"' in text(client_as(manager).get("/ideas"))


def test_the_owner_records_progress_shown_in_the_history(client_as, make_idea, manager, olive):
    idea = make_idea(Status.APPROVED)
    services.set_owner(manager, idea, olive)
    db.session.commit()
    client = client_as(olive)
    target = (utcnow().date() + timedelta(days=14)).isoformat()
    sent = client.post(
        f"/ideas/{idea.id}/progress",
        data={"next_step": "Ask IT for a queue", "target_date": target, "note": "Met IT today."},
    )
    assert sent.status_code == 303
    page = text(client.get(f"/ideas/{idea.id}"))
    assert re.search(r'id="idea-next-step">Ask IT for a queue, by \d+ \w+ \d{4}', page)
    assert "Olive Owner</strong> noted progress" in page and "Met IT today." in page
    db.session.refresh(idea)
    assert idea.version == 3  # two status steps; progress leaves the version alone


def test_progress_is_refused_with_a_reason_and_kept(client_as, make_idea, manager, olive):
    idea = make_idea(Status.IN_PROGRESS)
    services.set_owner(manager, idea, olive)
    db.session.commit()
    client = client_as(olive)
    past = (utcnow().date() - timedelta(days=5)).isoformat()
    refused = client.post(
        f"/ideas/{idea.id}/progress", data={"next_step": "Pilot it", "target_date": past}
    )
    assert refused.status_code == 422
    assert "The target date cannot be in the past." in text(refused)
    assert 'value="Pilot it"' in text(refused)
    nothing = client.post(f"/ideas/{idea.id}/progress", data={})
    assert nothing.status_code == 422 and "Nothing to save" in text(nothing)
    assert db.session.scalar(sa.select(sa.func.count(ProgressNote.id))) == 0


def test_only_the_owner_and_managers_record_progress(client_as, make_idea, manager, make_user):
    idea = make_idea(Status.IN_PROGRESS)
    someone = make_user()
    assert (
        client_as(someone).post(f"/ideas/{idea.id}/progress", data={"note": "x"}).status_code == 403
    )
    assert "Save progress" not in text(client_as(someone).get(f"/ideas/{idea.id}"))
    sent = client_as(manager).post(f"/ideas/{idea.id}/progress", data={"note": "Checked in."})
    assert sent.status_code == 303


def test_a_closed_idea_takes_no_next_step(client_as, make_idea, manager):
    idea = make_idea(Status.IMPLEMENTED)
    refused = client_as(manager).post(f"/ideas/{idea.id}/progress", data={"note": "More."})
    assert refused.status_code == 422 and "there is no next step to record" in text(refused)


# Stalled or late, shown to the author and the owner too


def test_author_and_owner_see_a_stalled_or_late_idea_others_do_not(
    client_as, make_idea, manager, olive, make_user
):
    long_ago = utcnow() - timedelta(days=60)
    idea = make_idea(Status.APPROVED, now=long_ago)
    services.set_owner(manager, idea, olive)
    db.session.execute(
        sa.update(Idea)
        .where(Idea.id == idea.id)
        .values(target_date=utcnow().date() - timedelta(days=2))
    )
    db.session.commit()
    author = db.session.get(Idea, idea.id).author
    for person in (author, olive, manager):
        page = text(client_as(person).get(f"/ideas/{idea.id}"))
        assert "Stalled: no status change for 60 days" in page, person.name
        assert 'id="past-target"' in page, person.name
    other = text(client_as(make_user()).get(f"/ideas/{idea.id}"))
    assert "Stalled:" not in other and "past-target" not in other
    assert "Past its target date" in text(client_as(olive).get("/ideas/owned"))
    # The author's list flags it too.
    assert "Stalled 60 days" in text(client_as(author).get("/ideas/mine"))


def test_the_demo_company_has_an_owned_idea_with_a_next_step_and_a_fast_track(
    demo_company, client_as
):
    from serviceideas.ideas.models import StatusChange
    from serviceideas.people.models import User

    assert demo_company.exit_code == 0
    employee = db.session.scalar(sa.select(User).where(User.email == "employee@example.com"))
    page = text(client_as(employee).get("/ideas/owned"))
    assert "Next step:</strong> Brief the evening shift" in page
    fast_tracked = db.session.scalars(
        sa.select(StatusChange).where(StatusChange.to_status == Status.IMPLEMENTED)
    ).all()
    assert sum(step.is_fast_track for step in fast_tracked) == 1
    assert db.session.scalar(sa.select(sa.func.count(ProgressNote.id))) >= 1
