"""Owners hear of being named, and the weekly digests list what has stalled or passed its
target date: to its owner, and to the reviewers (docs/product.md, "Notifications")."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from serviceideas.database import utcnow
from serviceideas.extensions import db
from serviceideas.ideas import services as ideas
from serviceideas.ideas.models import Idea, Status
from serviceideas.notifications import services
from serviceideas.notifications.models import Category, Delivery, Notification
from serviceideas.people.models import Role
from tests.notifications.test_notifications import run


def late(idea, days=3):
    db.session.execute(
        sa.update(Idea)
        .where(Idea.id == idea.id)
        .values(target_date=utcnow().date() - timedelta(days=days))
    )


def test_the_named_owner_gets_an_email_through_the_send_log(app, smtp, make_idea, make_user):
    manager = make_user(Role.MANAGER, name="Max Manager")
    owner = make_user(email="owner@example.com")
    idea = make_idea(title="Call back")
    ideas.set_owner(manager, idea, owner)
    db.session.commit()
    run(app, "send-reminders")
    run(app, "send-reminders")
    (mail,) = smtp.to("owner@example.com")
    assert mail["Subject"] == "Max Manager made you the owner of “Call back”"


def test_an_owner_who_wants_no_email_is_told_in_the_app_only(app, smtp, make_idea, make_user):
    manager = make_user(Role.MANAGER)
    owner = make_user(email="quiet@example.com")
    services.set_preference(owner.id, Category.IDEAS, Delivery.OFF)
    ideas.set_owner(manager, make_idea(), owner)
    db.session.commit()
    run(app, "send-reminders")
    assert smtp.to("quiet@example.com") == []
    assert (
        db.session.scalar(
            sa.select(sa.func.count(Notification.id)).where(Notification.user_id == owner.id)
        )
        == 1
    )


def test_owners_weekly_digest_lists_their_stalled_and_late_ideas(app, smtp, make_idea, make_user):
    manager = make_user(Role.MANAGER, email="boss@example.com")
    owner = make_user(email="owner@example.com")
    stalled = make_idea(Status.APPROVED, title="Stalled one", now=utcnow() - timedelta(days=45))
    overdue = make_idea(Status.IN_PROGRESS, title="Late one")
    fine = make_idea(Status.IN_PROGRESS, title="On track")
    for idea in (stalled, overdue, fine):
        ideas.set_owner(manager, idea, owner)
    late(overdue)
    db.session.commit()
    run(app, "send-digests")
    run(app, "send-digests")
    (digest,) = [m for m in smtp.to("owner@example.com") if "you own" in m["Subject"]]
    assert digest["Subject"] == "This week: 2 ideas you own need a push"
    for part in ("plain", "html"):
        body = digest.get_body((part,)).get_content()
        assert "Stalled one" in body and "Late one" in body and "On track" not in body
    in_app = db.session.scalars(
        sa.select(Notification.title).where(
            Notification.user_id == owner.id, Notification.category == Category.DIGESTS
        )
    ).all()
    assert sorted(in_app) == [
        "Needs a push: “Late one”, an idea you own",
        "Needs a push: “Stalled one”, an idea you own",
    ]
    # The reviewers' digest lists the stalled idea, and the late one too.
    (boss,) = smtp.to("boss@example.com")
    body = boss.get_body(("plain",)).get_content()
    assert "Stalled one" in body and "1 idea is past the target date" in body and "Late one" in body


def test_an_owner_who_turned_digests_off_gets_no_digest_email(app, smtp, make_idea, make_user):
    manager = make_user(Role.MANAGER)
    owner = make_user(email="nodigest@example.com")
    services.set_preference(owner.id, Category.DIGESTS, Delivery.OFF)
    idea = make_idea(Status.IN_PROGRESS)
    ideas.set_owner(manager, idea, owner)
    late(idea)
    db.session.commit()
    run(app, "send-digests")
    assert not [m for m in smtp.to("nodigest@example.com") if "you own" in m["Subject"]]
