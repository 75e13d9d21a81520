"""The demo company's customer journey: seven stages, and the stage and compass point of
most demo ideas, spread so the dashboard shows where attention goes and where none does
(the first stage, finding us, has no idea at all: that is the point of the table)."""

from __future__ import annotations

import sqlalchemy as sa

from serviceideas.extensions import db
from serviceideas.ideas import stage_services
from serviceideas.ideas.models import Compass
from serviceideas.ideas.stage_queries import stage_named
from serviceideas.people.models import Role, User

FINDING, BUYING, WAITING, USING, HELP, PAYING, LEAVING = (
    "Finding us",
    "Buying",
    "Waiting for delivery",
    "Using it",
    "Getting help",
    "Paying",
    "Leaving",
)

STAGES = [
    (FINDING, "Someone hears of us, searches, compares, and decides whether we are worth a look."),
    (BUYING, "They choose what they want and order it, in a store, online or on the phone."),
    (WAITING, "Between the order and the doorbell: dates, windows, delays and what we tell them."),
    (USING, "The product is theirs: setting it up, using it day to day, keeping it working."),
    (HELP, "Something is wrong or unclear, and they call, write or walk in to have it put right."),
    (PAYING, "Invoices, payment dates, refunds: anything where money moves between us."),
    (LEAVING, "They cancel, move away or stop coming back, and what we learn as they go."),
]

N, W, E, S = Compass.NEED, Compass.WANT, Compass.EMOTION, Compass.STEREOTYPE

# Demo idea title → (stage, compass point or None). Ideas about the company's own work
# (expenses, laptops, pallets) name no stage: they serve colleagues first.
CUSTOMER_SIDE: dict[str, tuple[str, Compass | None]] = {
    "Call back customers who cancelled, every month, with no script": (LEAVING, None),
    "Give stores a live view of deliveries that are running late": (WAITING, N),
    "Reset a password without calling the help desk": (HELP, N),
    "A real person answers the store phone before the fourth ring": (HELP, E),
    "Explain a cancelled delivery in plain words": (WAITING, E),
    "Short video on resetting the boiler display": (USING, N),
    "Stop asking customers for the same details twice": (HELP, S),
    "One screen for the contact centre instead of four": (HELP, None),
    "Tell customers the delivery window the evening before": (WAITING, N),
    "Let agents refund up to 50 without approval": (HELP, E),
    "Invoices a customer can read": (PAYING, N),
    "Be a customer of our own online shop once a month": (BUYING, W),
    "Engineers carry the five most needed parts": (USING, N),
    "Returns picked up when we deliver the replacement": (USING, W),
    "Customer maths at the start of every sales meeting": (BUYING, None),
    "Warn customers before a known delay, not after": (WAITING, S),
    "Quiet hour for customers who find busy stores hard": (BUYING, E),
    "Tablets for engineers to show customers the fix": (USING, W),
    "Shared list of answers agents found helpful": (HELP, None),
    "Text the customer when the engineer is 30 minutes away": (HELP, W),
    "Stop the follow-up calls customers never asked for": (USING, S),
    "Let staff fix a customer's problem on the spot up to a set amount": (HELP, E),
    "Call loyal customers to learn what to keep doing": (LEAVING, E),
    "Photos of the delivered item at the door": (WAITING, N),
    "Photo guide for first-time setup": (USING, N),
    "Return calls promised within the hour, or say when": (HELP, S),
    "Quotes in plain language": (BUYING, N),
    "Let customers choose their payment date": (PAYING, W),
    "Text the customer when a click-and-collect order is really ready": (WAITING, N),
}


def seed_stages() -> None:
    """The seven stages, in order, kept by the demo's admin."""
    people = db.session.scalars(sa.select(User).where(User.is_active)).all()
    keeper = next(person for person in people if person.has_role(Role.ADMIN))
    for name, explanation in STAGES:
        stage_services.add_stage(keeper, name, explanation)


def customer_side(title: str) -> tuple[int | None, Compass | None]:
    """The stage (its id) and compass point of the demo idea called `title`: none for an idea
    with no entry."""
    if title not in CUSTOMER_SIDE:
        return None, None
    stage_name, compass = CUSTOMER_SIDE[title]
    stage = stage_named(stage_name)
    return (stage.id if stage else None), compass
