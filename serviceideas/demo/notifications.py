"""The demo's notifications, dated by their story.

The seeding writes half a year of ideas and training in a few seconds, through the features'
services, and the notifications their signals create are stamped with that moment. Each is
given the time of what it tells of instead, so the bell and the notifications page read as a
real history.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

import sqlalchemy as sa

from serviceideas.extensions import db
from serviceideas.ideas.models import Comment, StatusChange
from serviceideas.notifications.models import Notification
from serviceideas.people.models import RoleChange
from serviceideas.training.models import Enrolment, Reflection


def date_notifications(now: datetime) -> None:
    """Give every notification the time of its event (the notification keys name it, as
    serviceideas/notifications/receivers.py writes them). Flushes."""
    # The demo's people got their roles when the company began using serviceideas, a year
    # before today: earlier than any idea of the story.
    db.session.execute(sa.update(RoleChange).values(changed_at=now - timedelta(days=365)))
    when: dict[str, datetime] = {}
    for role_change_id, changed_at in db.session.execute(
        sa.select(RoleChange.id, RoleChange.changed_at)
    ):
        when[f"roles:{role_change_id}"] = changed_at
    for change_id, changed_at in db.session.execute(
        sa.select(StatusChange.id, StatusChange.changed_at)
    ):
        when[f"status:{change_id}"] = changed_at
    for comment_id, written_at in db.session.execute(sa.select(Comment.id, Comment.created_at)):
        when[f"comment:{comment_id}"] = written_at
    for enrolment_id, answered_at in db.session.execute(
        sa.select(Reflection.enrolment_id, Reflection.feedback_at)
    ):
        if answered_at is not None:  # only answered reflections were told of
            when[f"feedback:{enrolment_id}"] = answered_at
    for enrolment_id, enrolled_on in db.session.execute(
        sa.select(Enrolment.id, Enrolment.enrolled_on)
    ):
        # Told when enrolled: the morning of that day, as the demo's learners start at nine.
        morning = datetime.combine(enrolled_on, time(9), tzinfo=now.tzinfo)
        when[f"assigned:{enrolment_id}"] = min(now, morning)
    for notification in db.session.scalars(sa.select(Notification)):
        notification.created_at = when.get(notification.key, notification.created_at)
    db.session.flush()
