"""The customer's side of ideas (docs/product.md, "Journey stages and the compass"): the
journey stages an admin keeps, and the stage and compass point an idea names, chosen on the
form, changed by managers, and filtered by on the list."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from serviceideas.extensions import db
from serviceideas.ideas import services, stage_services
from serviceideas.ideas.models import Compass, Idea, JourneyStage, Status
from serviceideas.people.models import Role
from tests.ideas.test_routes import GOOD, text


@pytest.fixture
def admin(make_user):
    return make_user(Role.ADMIN, name="Ada Admin")


@pytest.fixture
def manager(make_user):
    return make_user(Role.MANAGER, name="Max Manager")


@pytest.fixture
def stages(admin):
    """Three stages in order; the last retired."""
    made = [
        stage_services.add_stage(admin, name, explanation)
        for name, explanation in (
            ("Buying", "The customer chooses and orders."),
            ("Paying", "The customer pays us, now or later."),
            ("Leaving", "The customer ends the contract."),
        )
    ]
    stage_services.retire_stage(admin, made[2])
    db.session.commit()
    return {stage.name: stage for stage in made}


def names_in_order():
    return list(db.session.scalars(sa.select(JourneyStage.name).order_by(JourneyStage.position)))


def stage_row(page, name):
    """The admin list's row of the stage called `name`, as text."""
    found = re.search(
        rf'<tr id="stage-\d+">\s*<th scope="row">\d+\. {name}</th>.*?</tr>', page, re.S
    )
    assert found, name
    return found.group(0)


# The admin keeps the stages


def test_an_admin_adds_stages_at_the_end_and_sees_each_with_its_use(
    client_as, admin, stages, make_idea
):
    client = client_as(admin)
    added = client.post(
        "/admin/stages", data={"name": " Getting  help ", "explanation": "They ask us."}
    )
    assert added.status_code == 303
    assert names_in_order() == ["Buying", "Paying", "Leaving", "Getting help"]
    idea = make_idea()
    idea.journey_stage = stages["Paying"]
    db.session.commit()
    page = text(client.get(added.headers["Location"]))
    assert "Stage Getting help added" in page
    paying, leaving = stage_row(page, "Paying"), stage_row(page, "Leaving")
    assert "The customer pays us" in paying and f'?stage={stages["Paying"].id}"' in paying
    assert "Retired" in leaving and "Bring back" in leaving
    assert "Delete" not in paying and "Delete" in leaving  # only unused stages


def test_a_name_taken_already_is_refused_beside_the_field(client_as, admin, stages):
    client = client_as(admin)
    sent = client.post("/admin/stages", data={"name": "paying", "explanation": "Again."})
    shown = client.get(sent.headers["Location"])
    assert shown.status_code == 422  # a refused form, shown again (serviceideas/refusals.py)
    page = text(shown)
    assert re.search(r'id="name-error"[^>]*>There is already a stage called Paying', page)
    assert "Again." in page  # what was typed is kept
    edited = client.post(
        f"/admin/stages/{stages['Buying'].id}",
        data={"name": "Leaving", "explanation": "Chosen."},
    )
    shown = client.get(edited.headers["Location"])
    assert shown.status_code == 422 and "There is already a stage called Leaving" in text(shown)
    assert names_in_order() == ["Buying", "Paying", "Leaving"]


def test_the_database_refuses_a_name_taken_meanwhile_as_the_check_would(admin, stages, monkeypatch):
    """Another admin adds the same name between the check and the write: the unique
    constraint decides, and the refusal stands beside the name, the session still usable."""
    monkeypatch.setattr(stage_services, "stage_named", lambda name: None)
    with pytest.raises(services.RuleViolation, match="already a stage") as refused:
        stage_services.add_stage(admin, "Paying", "Again.")
    assert refused.value.field == "name"
    assert names_in_order() == ["Buying", "Paying", "Leaving"]


def test_an_admin_edits_moves_retires_brings_back_and_deletes(client_as, admin, stages):
    client = client_as(admin)
    buying, paying, leaving = stages["Buying"], stages["Paying"], stages["Leaving"]
    client.post(
        f"/admin/stages/{buying.id}", data={"name": "Ordering", "explanation": "They order."}
    )
    client.post(f"/admin/stages/{leaving.id}/move", data={"direction": "up"})
    assert names_in_order() == ["Ordering", "Leaving", "Paying"]
    client.post(f"/admin/stages/{leaving.id}/move", data={"direction": "up"})
    client.post(f"/admin/stages/{leaving.id}/move", data={"direction": "up"})  # first: stays
    assert names_in_order() == ["Leaving", "Ordering", "Paying"]
    client.post(f"/admin/stages/{paying.id}/move", data={"direction": "down"})  # last: stays
    assert names_in_order() == ["Leaving", "Ordering", "Paying"]
    assert client.post(f"/admin/stages/{paying.id}/move", data={}).status_code == 303
    client.post(f"/admin/stages/{leaving.id}/restore")
    client.post(f"/admin/stages/{paying.id}/retire")
    assert (leaving.is_retired, paying.is_retired) == (False, True)
    deleted = client.post(f"/admin/stages/{paying.id}/delete")
    assert "Stage Paying deleted" in text(client.get(deleted.headers["Location"]))
    assert names_in_order() == ["Leaving", "Ordering"]


def test_a_stage_ideas_name_cannot_be_deleted_and_the_database_agrees(
    client_as, admin, stages, make_idea
):
    paying = stages["Paying"]
    idea = make_idea()
    idea.journey_stage = paying
    db.session.commit()
    client = client_as(admin)
    refused = client.post(f"/admin/stages/{paying.id}/delete")
    assert refused.status_code == 303
    page = text(client.get(refused.headers["Location"]))
    assert "An idea names this stage, so it cannot be deleted: retire it instead" in page
    assert db.session.get(JourneyStage, paying.id) is not None


def test_the_foreign_key_refuses_the_delete_of_a_stage_named_meanwhile(
    admin, stages, make_idea, monkeypatch
):
    """An idea names the stage between the count and the delete: the foreign key (RESTRICT)
    refuses it, and the refusal reads as the count's would."""
    paying = stages["Paying"]
    idea = make_idea()
    idea.journey_stage = paying
    db.session.commit()
    monkeypatch.setattr(stage_services, "ideas_naming", lambda stage: 0)
    with pytest.raises(services.RuleViolation, match="retire it instead"):
        stage_services.delete_stage(admin, paying)
    db.session.rollback()
    assert db.session.get(JourneyStage, paying.id) is not None


def test_only_admins_keep_the_stages(make_user, stages):
    for person in (make_user(), make_user(Role.MANAGER)):
        with pytest.raises(services.RuleViolation, match="Only admins"):
            stage_services.add_stage(person, "Waiting", "They wait.")


# The idea form


def test_the_form_offers_stages_in_use_with_their_explanations_and_the_compass(
    client_as, make_user, stages
):
    page = text(client_as(make_user()).get("/ideas/new"))
    offered = re.findall(r'<option value="(\d*)"[^>]*>([^<]+)</option>', page)
    assert [
        label
        for value, label in offered
        if value == "" or int(value) in {stage.id for stage in stages.values()}
    ][:3] == ["None chosen", "Buying", "Paying"]
    assert "Leaving" not in page  # retired: not offered
    assert "<dt>Paying</dt><dd>The customer pays us, now or later.</dd>" in page
    for point in Compass:
        assert f'aria-describedby="compass-{point.value}-help"' in page
        assert point.explanation in page
    assert re.search(r'value=""[^>]*checked|checked[^>]*value=""', page)  # "Not sure"


def test_an_idea_is_submitted_with_a_stage_and_a_compass_point_or_without(
    client_as, make_user, stages
):
    client = client_as(make_user())
    paying = stages["Paying"]
    sent = client.post(
        "/ideas/new", data={**GOOD, "journey_stage": str(paying.id), "compass": "emotion"}
    )
    assert sent.status_code == 303
    client.post("/ideas/new", data={**GOOD, "title": "Without", "journey_stage": ""})
    ideas = {idea.title: idea for idea in db.session.scalars(sa.select(Idea))}
    assert (ideas[GOOD["title"]].journey_stage_id, ideas[GOOD["title"]].compass) == (
        paying.id,
        Compass.EMOTION,
    )
    assert (ideas["Without"].journey_stage_id, ideas["Without"].compass) == (None, None)
    page = text(client.get(sent.headers["Location"]))
    assert "Journey: Paying" in page and "Compass: an emotion" in page


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"journey_stage": "retired"}, "The stage Leaving has been retired"),
        ({"journey_stage": "999999"}, "There is no such stage"),
        ({"journey_stage": "two"}, "Not a valid choice"),
        ({"compass": "fear"}, "Not a valid choice"),
    ],
)
def test_a_stage_not_offered_or_a_made_up_point_is_refused_beside_the_field(
    client_as, make_user, stages, change, message
):
    if change.get("journey_stage") == "retired":
        change = {"journey_stage": str(stages["Leaving"].id)}
    client = client_as(make_user())
    sent = client.post("/ideas/new", data={**GOOD, **change}, headers={"HX-Request": "true"})
    assert sent.status_code == 422
    assert message in text(sent) and GOOD["problem"] in text(sent)
    assert db.session.scalar(sa.select(sa.func.count(Idea.id))) == 0


# Managers change an idea's stage and compass point


def side_form(idea, **data):
    return {"seen_version": str(idea.version), "journey_stage": "", "compass": "", **data}


def test_a_manager_changes_the_stage_and_compass_and_a_retired_stage_stays(
    client_as, manager, admin, make_idea, stages
):
    buying, paying = stages["Buying"], stages["Paying"]
    idea = make_idea()
    client = client_as(manager)
    sent = client.post(
        f"/ideas/{idea.id}/customer-side",
        data=side_form(idea, journey_stage=str(paying.id), compass="need"),
    )
    assert sent.status_code == 303
    assert (idea.journey_stage_id, idea.compass) == (paying.id, Compass.NEED)
    # Paying is retired since: the idea keeps it, and the form still offers it to keep.
    stage_services.retire_stage(admin, paying)
    db.session.commit()
    page = text(client.get(f"/ideas/{idea.id}"))
    assert "Journey: Paying (a retired stage)" in page
    assert f'<option value="{paying.id}" selected>Paying (retired)</option>' in page
    kept = client.post(
        f"/ideas/{idea.id}/customer-side",
        data=side_form(idea, journey_stage=str(paying.id), compass="want"),
    )
    assert kept.status_code == 303 and idea.compass is Compass.WANT
    client.post(
        f"/ideas/{idea.id}/customer-side",
        data=side_form(idea, journey_stage=str(buying.id)),
    )
    assert (idea.journey_stage_id, idea.compass) == (buying.id, None)
    # Once it has left the retired stage, it cannot go back to it.
    refused = client.post(
        f"/ideas/{idea.id}/customer-side", data=side_form(idea, journey_stage=str(paying.id))
    )
    assert refused.status_code == 422 and "has been retired" in text(refused)
    assert idea.journey_stage_id == buying.id


def test_a_change_of_the_idea_since_the_page_was_shown_wins_409(
    client_as, manager, make_idea, stages
):
    idea = make_idea()
    seen = side_form(idea, journey_stage=str(stages["Buying"].id), compass="want")
    services.change_status(manager, idea, services.Decision(Status.UNDER_REVIEW))
    db.session.commit()
    answer = client_as(manager).post(f"/ideas/{idea.id}/customer-side", data=seen)
    assert answer.status_code == 409
    page = text(answer)
    assert "Someone else changed this idea since you opened it" in page
    assert f'name="seen_version" type="hidden" value="{idea.version}"' in page  # send again
    assert (idea.journey_stage_id, idea.compass) == (None, None)
    assert client_as(manager).post(f"/ideas/{idea.id}/customer-side", data={}).status_code == 400


def test_only_managers_and_admins_change_the_customer_side(client_as, make_user, make_idea, stages):
    idea = make_idea()
    author = idea.author
    for person in (author, make_user(Role.TRAINER)):
        answer = client_as(person).post(
            f"/ideas/{idea.id}/customer-side",
            data=side_form(idea, journey_stage=str(stages["Buying"].id)),
        )
        assert answer.status_code == 403
    assert 'id="customer-side"' not in text(client_as(author).get(f"/ideas/{idea.id}"))
    with pytest.raises(services.RuleViolation, match="Only managers"):
        services.set_customer_side(author, idea, services.CustomerSide(None, Compass.NEED))
    assert idea.compass is None


# The list filters by them


def test_the_list_filters_by_stage_retired_ones_too_and_by_compass(
    client_as, make_user, make_idea, stages
):
    buying, leaving = stages["Buying"], stages["Leaving"]
    bought, left, other = make_idea(title="Bought"), make_idea(title="Left"), make_idea()
    bought.journey_stage, bought.compass = buying, Compass.NEED
    left.journey_stage, left.compass = leaving, Compass.STEREOTYPE
    db.session.commit()
    client = client_as(make_user())

    def listed(query):
        answer = client.get(f"/ideas?{query}")
        return answer.status_code, set(
            re.findall(r'<h3><a href="/ideas/\d+">([^<]+)</a></h3>', text(answer))
        )

    assert listed(f"stage={buying.id}") == (200, {"Bought"})
    assert listed(f"stage={leaving.id}") == (200, {"Left"})  # retired, still a filter
    assert listed("compass=stereotype") == (200, {"Left"})
    assert listed(f"compass=need&stage={leaving.id}") == (200, set())
    assert listed("stage=999999")[0] == 400
    assert listed("compass=fear")[0] == 400
    page = text(client.get("/ideas"))
    assert f'<option value="{leaving.id}">Leaving (retired)</option>' in page
    assert other.title in page
