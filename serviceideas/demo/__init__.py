"""The demo company that `flask seed-demo` (and so `make run`) puts into an empty database.

Not part of the product: no feature imports it. It writes through the features' own
service functions, so the demo obeys every rule real data does.
"""

from __future__ import annotations

from datetime import datetime

from serviceideas.database import utcnow
from serviceideas.demo.ideas import seed_ideas
from serviceideas.demo.journey import seed_stages
from serviceideas.demo.notifications import date_notifications
from serviceideas.demo.people import DEMO_PASSWORD, seed_people
from serviceideas.demo.stories import seed_stories
from serviceideas.demo.training import seed_training
from serviceideas.people.models import User

__all__ = ["DEMO_PASSWORD", "seed"]


def seed(now: datetime | None = None) -> dict[str, User]:
    """Add the departments, people, ideas and training of the demo company, flushed, not
    committed. Expects an empty database. Returns the five sign-ins by e-mail."""
    now = now or utcnow()
    sign_ins = seed_people()
    seed_stages()
    seed_ideas(now)
    seed_training(now)
    seed_stories(now)
    date_notifications(now)
    return sign_ins
