"""The idea page's forms after a refusal: only the form that was sent is filled from the
request, the others show what the page shows anyway; and the evidence an implemented idea
needs is asked for all at once, each piece beside its field (docs/product.md, "The
pipeline")."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest

from serviceideas.database import utcnow
from serviceideas.errors import RuleViolation
from serviceideas.extensions import db
from serviceideas.ideas import services
from serviceideas.ideas.models import Idea, Status
from serviceideas.people.models import Role

FUTURE = (utcnow().date() + timedelta(days=30)).isoformat()
PAST = (utcnow().date() - timedelta(days=30)).isoformat()
NOTE_NEEDED = "Say what changed and what value it added."
DATE_NEEDED = "Give the date it was put into practice."
IN_FUTURE = "The implementation date cannot be in the future."


@pytest.fixture
def max_(make_user):
    return make_user(Role.MANAGER, name="Max Manager", email="max@example.com")


def textarea(page: str, field_id: str) -> str:
    """The text the page puts in the textarea whose id is `field_id`."""
    found = re.search(rf'<textarea[^>]*\bid="{field_id}"[^>]*>(.*?)</textarea>', page, re.S)
    assert found, f"no textarea #{field_id}"
    return html.unescape(found.group(1)).strip("\r\n")


def input_value(page: str, field_id: str) -> str:
    found = re.search(rf'<input[^>]*\bid="{field_id}"[^>]*>', page)
    assert found, f"no input #{field_id}"
    value = re.search(r'\bvalue="([^"]*)"', found.group(0))
    return html.unescape(value.group(1)) if value else ""


def error_beside(page: str, field_id: str) -> str:
    found = re.search(rf'<small id="{field_id}-error" class="field-error">(.*?)</small>', page)
    return html.unescape(found.group(1)) if found else ""


def seen_change(client, idea: Idea) -> str:
    page = client.get(f"/ideas/{idea.id}").get_data(as_text=True)
    found = re.search(r'name="seen_change" type="hidden" value="([0-9]+)"', page)
    assert found
    return found.group(1)


# Only the form that was sent is filled from the request


def test_a_refused_decision_leaves_the_progress_box_empty(client_as, make_idea, max_):
    idea = make_idea(Status.IN_PROGRESS, reviewer=max_)
    client = client_as(max_)
    sent = {
        "to": "implemented",
        "note": "The desk now calls back within the hour.",
        "implemented_on": FUTURE,
        "seen_change": seen_change(client, idea),
    }

    refused = client.post(f"/ideas/{idea.id}/status", data=sent)

    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert textarea(page, "note") == "The desk now calls back within the hour."
    assert textarea(page, "progress-note") == ""


def test_a_decision_overtaken_leaves_the_progress_box_empty(client_as, make_idea, make_user, max_):
    mia = make_user(Role.MANAGER, name="Mia Manager", email="mia@example.com")
    idea = make_idea(Status.APPROVED, reviewer=max_)
    client = client_as(max_)
    seen = seen_change(client, idea)
    services.change_status(mia, idea, services.Decision(Status.IN_PROGRESS))
    db.session.commit()

    late = client.post(
        f"/ideas/{idea.id}/status",
        data={"to": "declined", "note": "Too costly for now.", "seen_change": seen},
    )

    assert late.status_code == 409
    page = late.get_data(as_text=True)
    assert textarea(page, "note") == "Too costly for now."
    assert textarea(page, "progress-note") == ""


def test_refused_progress_leaves_the_review_note_empty(client_as, make_idea, max_):
    idea = make_idea(Status.IN_PROGRESS, reviewer=max_)

    refused = client_as(max_).post(
        f"/ideas/{idea.id}/progress",
        data={"next_step": "Pilot it", "target_date": PAST, "note": "Met IT today."},
    )

    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert textarea(page, "progress-note") == "Met IT today."
    assert input_value(page, "progress-next-step") == "Pilot it"
    assert textarea(page, "note") == ""


def test_a_refused_owner_leaves_both_notes_as_the_page_shows_them(client_as, make_idea, max_):
    idea = make_idea(Status.IN_PROGRESS, reviewer=max_)
    client = client_as(max_)
    services.record_progress(
        max_, idea, services.Progress(next_step="Train the desk", target_date=None)
    )
    db.session.commit()

    refused = client.post(
        f"/ideas/{idea.id}/owner",
        data={"owner": "Nobody By This Name", "seen_owner": "nobody", "note": "Stray text."},
    )

    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert input_value(page, "owner") == "Nobody By This Name"
    assert textarea(page, "note") == ""
    assert textarea(page, "progress-note") == ""
    assert input_value(page, "progress-next-step") == "Train the desk"


# The evidence of an implemented idea, asked for all at once


@pytest.mark.parametrize(
    ("typed", "note_error", "date_error"),
    [
        ({}, NOTE_NEEDED, DATE_NEEDED),
        (
            {"implemented_on": FUTURE},
            NOTE_NEEDED,
            "The implementation date cannot be in the future.",
        ),
        ({"note": "Calls back within the hour."}, "", DATE_NEEDED),
    ],
)
def test_every_missing_piece_of_evidence_is_shown_beside_its_field(
    client_as, make_idea, max_, typed, note_error, date_error
):
    idea = make_idea(Status.IN_PROGRESS, reviewer=max_)
    client = client_as(max_)
    sent = {"to": "implemented", "note": "", "implemented_on": "", **typed}

    refused = client.post(
        f"/ideas/{idea.id}/status", data={**sent, "seen_change": seen_change(client, idea)}
    )

    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert error_beside(page, "note") == note_error
    assert error_beside(page, "implemented_on") == date_error
    assert textarea(page, "note") == sent["note"]
    assert input_value(page, "implemented_on") == sent["implemented_on"]
    db.session.expire_all()
    assert db.session.get(Idea, idea.id).status is Status.IN_PROGRESS


def test_the_service_refuses_missing_evidence_on_its_own(make_idea, max_):
    idea = make_idea(Status.IN_PROGRESS, reviewer=max_)

    with pytest.raises(RuleViolation) as refused:
        services.change_status(max_, idea, services.Decision(Status.IMPLEMENTED))

    assert refused.value.message == NOTE_NEEDED
    assert refused.value.field == "note"
    assert isinstance(refused.value, services.Refusals)
    assert [(each.field, each.message) for each in refused.value.each] == [
        ("note", NOTE_NEEDED),
        ("implemented_on", DATE_NEEDED),
    ]
