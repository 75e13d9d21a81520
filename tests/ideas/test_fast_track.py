"""The fast track: an idea already in practice is recorded as implemented straight from
submitted, under review or approved, with the same evidence as any implementation, in one
step of its history (docs/product.md, "The pipeline")."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from serviceideas.database import utcnow
from serviceideas.errors import RuleViolation
from serviceideas.extensions import db
from serviceideas.ideas import services
from serviceideas.ideas.models import Idea, Status, StatusChange
from serviceideas.notifications.models import Notification
from serviceideas.people.models import Role
from tests.ideas.test_routes import review, text
from tests.test_migrations import empty_database_url  # noqa: F401  # a fixture used below

FAST_TRACK_FROM = (Status.SUBMITTED, Status.UNDER_REVIEW, Status.APPROVED)

# Every step the history may hold: the pipeline as it was, and the fast track's three.
LEGAL = {
    (Status.SUBMITTED, Status.UNDER_REVIEW),
    (Status.SUBMITTED, Status.DECLINED),
    (Status.SUBMITTED, Status.MERGED),
    (Status.UNDER_REVIEW, Status.APPROVED),
    (Status.UNDER_REVIEW, Status.DECLINED),
    (Status.UNDER_REVIEW, Status.MERGED),
    (Status.APPROVED, Status.IN_PROGRESS),
    (Status.APPROVED, Status.DECLINED),
    (Status.APPROVED, Status.MERGED),
    (Status.IN_PROGRESS, Status.IMPLEMENTED),
    (Status.IN_PROGRESS, Status.DECLINED),
    (Status.DECLINED, Status.UNDER_REVIEW),
    (Status.SUBMITTED, Status.IMPLEMENTED),
    (Status.UNDER_REVIEW, Status.IMPLEMENTED),
    (Status.APPROVED, Status.IMPLEMENTED),
}


@pytest.fixture
def manager(make_user):
    return make_user(Role.MANAGER, name="Max Manager")


@pytest.mark.parametrize("status", FAST_TRACK_FROM)
def test_an_idea_already_in_practice_is_implemented_in_one_step(make_idea, manager, status):
    idea = make_idea(status, reviewer=manager)
    steps_before = len(idea_steps(idea))
    today = utcnow().date()
    services.change_status(
        manager,
        idea,
        services.Decision(Status.IMPLEMENTED, note="Mia already calls back.", implemented_on=today),
    )
    db.session.commit()
    steps = idea_steps(idea)
    assert len(steps) == steps_before + 1
    assert (steps[-1].from_status, steps[-1].to_status) == (status, Status.IMPLEMENTED)
    assert steps[-1].is_fast_track
    assert (idea.status, idea.implemented_on, idea.implementation_note) == (
        Status.IMPLEMENTED,
        today,
        "Mia already calls back.",
    )
    # The author is thanked as for any implementation.
    told = db.session.scalars(
        sa.select(Notification.title).where(Notification.user_id == idea.author_id)
    ).all()
    assert any("has been put into practice" in title for title in told)


@pytest.mark.parametrize(
    ("decision", "field_message"),
    [
        ({"implemented_on": "today"}, "Say what changed and what value it added."),
        ({"note": "It works."}, "Give the date it was put into practice."),
    ],
)
def test_the_fast_track_needs_the_same_evidence(make_idea, manager, decision, field_message):
    idea = make_idea()
    with pytest.raises(RuleViolation, match=field_message):
        services.change_status(
            manager,
            idea,
            services.Decision(
                Status.IMPLEMENTED,
                note=decision.get("note", ""),
                implemented_on=utcnow().date() if "implemented_on" in decision else None,
            ),
        )
    db.session.rollback()
    assert db.session.get(Idea, idea.id).status is Status.SUBMITTED


def test_the_database_allows_exactly_the_legal_steps(make_idea):
    idea = make_idea()
    accepted = set()
    for source, target in itertools.product(Status, Status):
        try:
            with db.session.begin_nested():
                db.session.add(
                    StatusChange(
                        idea_id=idea.id,
                        actor_id=idea.author_id,
                        from_status=source,
                        to_status=target,
                    )
                )
                db.session.flush()
            accepted.add((source, target))
        except IntegrityError:
            pass
    db.session.rollback()
    assert accepted == LEGAL


def test_the_review_panel_offers_the_fast_track_only_before_in_progress(
    client_as, make_idea, manager
):
    client = client_as(manager)
    submitted = text(client.get(f"/ideas/{make_idea().id}"))
    assert (
        '<option value="implemented">Put into practice (it already happened)</option>' in submitted
    )
    in_progress = text(client.get(f"/ideas/{make_idea(Status.IN_PROGRESS).id}"))
    assert '<option value="implemented">Implemented</option>' in in_progress
    assert "it already happened" not in in_progress


def test_a_manager_fast_tracks_from_the_page_and_the_history_says_so(client_as, make_idea, manager):
    idea = make_idea(Status.UNDER_REVIEW, reviewer=manager)
    client = client_as(manager)
    refused = review(client, idea, "status", to="implemented", note="Done already.")
    assert refused.status_code == 422 and "Give the date it was put into practice." in text(refused)
    today = utcnow().date().isoformat()
    sent = review(
        client, idea, "status", to="implemented", note="Done already.", implemented_on=today
    )
    assert sent.status_code == 303
    page = text(client.get(f"/ideas/{idea.id}"))
    assert "put it into practice directly (it was under review)" in page
    assert "Put into practice on" in page
    assert "moved it from <em>under review</em> to <em>implemented</em>" not in page


def test_an_implementation_date_in_the_future_is_refused_on_the_fast_track(make_idea, manager):
    idea = make_idea()
    with pytest.raises(RuleViolation, match="cannot be in the future"):
        services.change_status(
            manager,
            idea,
            services.Decision(
                Status.IMPLEMENTED, note="Soon.", implemented_on=utcnow().date() + timedelta(days=3)
            ),
        )
    db.session.rollback()


def idea_steps(idea):
    return db.session.scalars(
        sa.select(StatusChange).where(StatusChange.idea_id == idea.id).order_by(StatusChange.id)
    ).all()


def test_downgrading_writes_a_fast_track_out_as_the_old_pipelines_steps(
    empty_database_url,  # noqa: F811  # the fixture imported above
):
    """The migration's downgrade keeps the history legal for the old CHECK: the one step
    becomes the steps the old pipeline needed, the evidence's note on the last."""
    from flask_migrate import downgrade, upgrade

    from serviceideas import create_app
    from serviceideas.ideas.models import Lens
    from serviceideas.people.models import Department, DepartmentKind, User
    from tests.conftest import settings_for_tests

    app = create_app(settings_for_tests(empty_database_url))
    with app.app_context():
        upgrade()
        team = Department(name="Stores", kind=DepartmentKind.FRONT_LINE)
        author = User(email="a@example.com", name="Ann Author", department=team)
        boss = User(email="b@example.com", name="Bob Boss", department=team, is_manager=True)
        db.session.add_all([team, author, boss])
        db.session.flush()
        draft = services.IdeaDraft("Done already", "Long waits.", "Call back.", Lens.CARE, None)
        idea = services.submit_idea(author, draft)
        services.change_status(boss, idea, services.Decision(Status.UNDER_REVIEW))
        services.change_status(
            boss,
            idea,
            services.Decision(Status.IMPLEMENTED, note="Live.", implemented_on=utcnow().date()),
        )
        db.session.commit()
        downgrade(revision="f1b85c4d2e96")
        with db.engine.connect() as connection:
            steps = connection.execute(
                sa.text("SELECT from_status, to_status, note FROM status_changes ORDER BY id")
            ).all()
        assert [tuple(step) for step in steps] == [
            (None, "submitted", ""),
            ("submitted", "under_review", ""),
            ("under_review", "approved", ""),
            ("approved", "in_progress", ""),
            ("in_progress", "implemented", "Live."),
        ]
        upgrade()
        db.session.remove()
        db.engine.dispose()
