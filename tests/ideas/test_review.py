"""The review panel: where a decision can go, and what a manager sees when another manager
decided first (docs/product.md, "The pipeline")."""

from __future__ import annotations

import html
import re

import pytest

from serviceideas.extensions import db
from serviceideas.ideas import services
from serviceideas.ideas.models import Idea, Status
from serviceideas.people.models import Role


@pytest.fixture
def max_(make_user):
    return make_user(Role.MANAGER, name="Max Manager", email="max@example.com")


@pytest.fixture
def mia(make_user):
    return make_user(Role.MANAGER, name="Mia Manager", email="mia@example.com")


def text(response) -> str:
    return response.get_data(as_text=True)


def form_fields(page: str, action: str) -> dict[str, str]:
    """What the page's form posting to `action` would send as it stands: its inputs' values,
    the selected option and the textarea's text (none of these forms has more)."""
    form = re.search(rf'<form method="post" action="{re.escape(action)}".*?</form>', page, re.S)
    assert form, f"no form for {action}"
    body = form.group(0)
    fields = {
        name: html.unescape(value)
        for name, value in re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', body)
    }
    for name, options in re.findall(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', body, re.S):
        chosen = re.search(r'<option value="([^"]*)" selected', options)
        fields[name] = chosen.group(1) if chosen else ""
    textareas = re.findall(r'<textarea[^>]*name="([^"]+)"[^>]*>(.*?)</textarea>', body, re.S)
    for name, value in textareas:
        fields[name] = html.unescape(value).strip("\r\n")
    return fields


def opened(client, idea: Idea, action: str = "status") -> dict[str, str]:
    """The review form `action` ("status" or "owner") as the idea's page shows it now."""
    return form_fields(text(client.get(f"/ideas/{idea.id}")), f"/ideas/{idea.id}/{action}")


def status_of(idea: Idea) -> Status:
    db.session.expire_all()
    return db.session.get(Idea, idea.id).status


# Where a decision can go


def option_values(page: str) -> list[str]:
    select = re.search(r'<select id="to" name="to"[^>]*>(.*?)</select>', page, re.S)
    assert select
    return re.findall(r'<option value="([^"]*)"', select.group(1))


@pytest.mark.parametrize(
    ("status", "steps"),
    [
        # Implemented before in progress: the fast track, for what is already in practice.
        (Status.SUBMITTED, ["under_review", "implemented", "declined", "merged"]),
        (Status.UNDER_REVIEW, ["approved", "implemented", "declined", "merged"]),
        (Status.APPROVED, ["in_progress", "implemented", "declined", "merged"]),
        (Status.IN_PROGRESS, ["implemented", "declined"]),
        (Status.DECLINED, ["under_review"]),
    ],
)
def test_move_to_offers_the_next_step_first_and_chooses_nothing(
    client_as, make_idea, max_, status, steps
):
    idea = make_idea(status, reviewer=max_)
    page = text(client_as(max_).get(f"/ideas/{idea.id}"))
    assert option_values(page) == ["", *steps]
    assert '<option value="">Choose…</option>' in page
    assert re.search(r'<select id="to" name="to" required', page)
    assert " selected" not in re.search(r'<select id="to".*?</select>', page, re.S).group(0)


def test_sending_the_form_as_shown_decides_nothing(client_as, make_idea, max_):
    idea = make_idea()
    client = client_as(max_)
    response = client.post(f"/ideas/{idea.id}/status", data=opened(client, idea))
    assert response.status_code == 422
    assert "Choose where the idea goes next." in text(response)
    assert status_of(idea) is Status.SUBMITTED


def test_without_javascript_each_field_says_when_it_applies(client_as, make_idea, max_):
    idea = make_idea(Status.APPROVED, reviewer=max_)
    page = text(client_as(max_).get(f"/ideas/{idea.id}"))
    assert "Put into practice on (only for Implemented)" in page
    assert "Merge into (only for Merged)" in page
    # The script shows and hides these groups by the step they serve.
    assert re.search(r'<div data-needed-for="implemented">\s*<label for="implemented_on"', page)
    assert re.search(r'<div data-needed-for="merged">\s*<label for="merge_into"', page)


def test_the_review_panel_has_no_duplicate_ids(app, client_as, make_idea, max_):
    app.config["WTF_CSRF_ENABLED"] = True
    page = text(client_as(max_).get(f"/ideas/{make_idea().id}"))
    panel = re.search(r'<article id="review".*?</article>', page, re.S).group(0)
    ids = re.findall(r'\sid="([^"]+)"', panel)
    assert len(ids) == len(set(ids)), sorted(ids)


# Another manager decided first


def test_a_decision_overtaken_by_another_shows_the_idea_now_with_the_note_kept(
    client_as, make_idea, max_, mia
):
    idea = make_idea()
    max_client, mia_client = client_as(max_), client_as(mia)
    max_form = opened(max_client, idea)
    mia_form = opened(mia_client, idea)
    mia_form.update(to="under_review", note="Looking at it this week.")
    assert mia_client.post(f"/ideas/{idea.id}/status", data=mia_form).status_code == 303

    max_form.update(to="declined", note="We tried this in 2019: customers hated it.")
    late = max_client.post(f"/ideas/{idea.id}/status", data=max_form)

    assert late.status_code == 409
    page = text(late)
    assert "Reload it" not in page
    assert "Changed while you were deciding" in page
    assert "Mia Manager</strong> moved it from <em>submitted</em> to <em>under review</em>" in page
    assert "Looking at it this week." in page
    assert "Your decision was not saved: Mia Manager changed this idea&#39;s status first" in page
    assert '<span class="status status-under_review" id="idea-status">Under review</span>' in page
    again = form_fields(page, f"/ideas/{idea.id}/status")
    assert again["to"] == "declined"  # still a step from under review: kept
    assert again["note"] == "We tried this in 2019: customers hated it."
    assert option_values(page) == ["", "approved", "implemented", "declined", "merged"]

    # One click decides again, on the idea as it is now.
    decided = max_client.post(f"/ideas/{idea.id}/status", data=again)
    assert decided.status_code == 303
    assert status_of(idea) is Status.DECLINED


def test_a_choice_no_longer_open_is_cleared_but_the_note_stays(client_as, make_idea, max_, mia):
    idea = make_idea()
    max_client = client_as(max_)
    max_form = opened(max_client, idea)
    services.change_status(mia, idea, services.Decision(Status.UNDER_REVIEW))
    db.session.commit()

    max_form.update(to="under_review", note="Worth a look.")
    late = max_client.post(f"/ideas/{idea.id}/status", data=max_form)

    assert late.status_code == 409
    page = text(late)
    assert "Under review is not a step from under review." in page
    again = form_fields(page, f"/ideas/{idea.id}/status")
    assert again["to"] == "" and again["note"] == "Worth a look."


def test_when_the_idea_became_final_the_note_is_shown_to_copy(client_as, make_idea, max_, mia):
    idea, target = make_idea(), make_idea()
    max_client = client_as(max_)
    max_form = opened(max_client, idea)
    services.change_status(mia, idea, services.Decision(Status.MERGED, merge_into=target))
    db.session.commit()

    max_form.update(to="declined", note="Out of scope for this year.")
    late = max_client.post(f"/ideas/{idea.id}/status", data=max_form)

    assert late.status_code == 409
    page = text(late)
    assert "Merged is final: there is nothing more to decide." in page
    assert '<blockquote class="prose">Out of scope for this year.</blockquote>' in page
    assert status_of(idea) is Status.MERGED


@pytest.mark.parametrize(
    "choice",
    [
        {"to": "merged", "merge_into": "999999"},  # no such idea
        {"to": "merged"},  # no target at all
        {"to": "implemented", "note": "Done."},  # not a step from either status
        {"to": "declined", "note": "n" * 2001},  # too long
    ],
)
def test_a_stale_form_is_a_409_whatever_else_is_wrong_with_it(
    client_as, make_idea, max_, mia, choice
):
    idea = make_idea()
    max_client = client_as(max_)
    max_form = opened(max_client, idea)
    services.change_status(mia, idea, services.Decision(Status.UNDER_REVIEW))
    db.session.commit()

    late = max_client.post(f"/ideas/{idea.id}/status", data={**max_form, **choice})

    assert late.status_code == 409
    assert "Changed while you were deciding" in text(late)
    assert status_of(idea) is Status.UNDER_REVIEW


# The owner and the status are separate decisions


def test_choosing_an_owner_does_not_conflict_with_a_status_decision(
    client_as, make_idea, make_user, max_, mia
):
    idea = make_idea()
    olive = make_user(email="olive@example.com", name="Olive Owner")
    max_client = client_as(max_)
    owner_form = opened(max_client, idea, "owner")
    services.change_status(mia, idea, services.Decision(Status.UNDER_REVIEW))
    db.session.commit()

    chosen = max_client.post(f"/ideas/{idea.id}/owner", data={**owner_form, "owner": olive.email})
    assert chosen.status_code == 303

    # And the other way round: an owner chosen since does not stop a decision.
    mia_client = client_as(mia)
    mia_status = opened(mia_client, idea, "status")
    services.set_owner(max_, db.session.get(Idea, idea.id), None)
    db.session.commit()
    decided = mia_client.post(f"/ideas/{idea.id}/status", data={**mia_status, "to": "approved"})
    assert decided.status_code == 303
    db.session.expire_all()
    idea = db.session.get(Idea, idea.id)
    assert idea.status is Status.APPROVED and idea.owner_id is None


def test_an_owner_chosen_by_another_first_is_a_409_with_the_email_kept(
    client_as, make_idea, make_user, max_, mia
):
    idea = make_idea()
    make_user(email="olive@example.com", name="Olive Owner")
    pat = make_user(email="pat@example.com", name="Pat Person")
    max_client = client_as(max_)
    owner_form = opened(max_client, idea, "owner")
    services.set_owner(mia, idea, pat, seen_owner_id=None)
    db.session.commit()

    late = max_client.post(
        f"/ideas/{idea.id}/owner", data={**owner_form, "owner": "olive@example.com"}
    )

    assert late.status_code == 409
    page = text(late)
    assert "Someone else changed the owner: it is now <strong>Pat Person</strong>" in page
    again = form_fields(page, f"/ideas/{idea.id}/owner")
    assert again["owner"] == "olive@example.com"
    assert again["seen_owner"] == str(pat.id)
    assert max_client.post(f"/ideas/{idea.id}/owner", data=again).status_code == 303
    db.session.expire_all()
    assert db.session.get(Idea, idea.id).owner.name == "Olive Owner"


def test_an_owner_change_leaves_the_ideas_version_alone(make_idea, make_user, max_, mia):
    """A status decision in flight checks the version at its UPDATE: an owner chosen in the
    meantime must not move it."""
    idea = make_idea()
    loaded_version = idea.version
    services.set_owner(mia, idea, make_user(), seen_owner_id=None)
    db.session.commit()
    assert db.session.get(Idea, idea.id).version == loaded_version
    services.change_status(max_, idea, services.Decision(Status.UNDER_REVIEW))
    db.session.commit()
    assert status_of(idea) is Status.UNDER_REVIEW


def test_two_owners_chosen_from_the_same_page_cannot_both_win(make_idea, make_user, max_, mia):
    idea = make_idea()
    first, second = make_user(), make_user()
    services.set_owner(mia, idea, first, seen_owner_id=None)
    with pytest.raises(services.ChangedMeanwhile):
        services.set_owner(max_, idea, second, seen_owner_id=None)
    assert idea.owner_id == first.id


# No dead ends


@pytest.mark.parametrize(
    ("action", "typed", "kept"),
    [
        ("status", {"to": "declined", "note": "Not this year."}, {"note": "Not this year."}),
        ("owner", {"owner": "olive@example.com"}, {"owner": "olive@example.com"}),
    ],
)
def test_a_form_without_what_the_page_showed_gives_the_idea_back_with_what_was_typed(
    client_as, make_idea, make_user, max_, action, typed, kept
):
    idea = make_idea()
    make_user(email="olive@example.com")
    client = client_as(max_)
    response = client.post(f"/ideas/{idea.id}/{action}", data=typed)
    assert response.status_code == 400
    page = text(response)
    assert "Back to the start" not in page
    again = form_fields(page, f"/ideas/{idea.id}/{action}")
    assert {key: again[key] for key in kept} == kept
    assert client.post(f"/ideas/{idea.id}/{action}", data=again).status_code == 303


def test_merging_into_an_idea_merged_itself_names_where_it_went(client_as, make_idea, max_):
    kept, gone, duplicate = make_idea(), make_idea(), make_idea()
    services.change_status(max_, gone, services.Decision(Status.MERGED, merge_into=kept))
    db.session.commit()
    client = client_as(max_)
    form = {**opened(client, duplicate), "to": "merged", "merge_into": str(gone.id)}
    response = client.post(f"/ideas/{duplicate.id}/status", data=form)
    assert response.status_code == 422
    assert f"Idea #{gone.id} was itself merged into #{kept.id}: merge into that one." in text(
        response
    )
