"""Demo stories: ideas people started from their own training, some of them put into practice,
and an owner for every idea put into practice, so "What changed" and "Ideas born from
training" have something true to show. Runs after the demo's ideas and training."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from serviceideas.extensions import db
from serviceideas.ideas import services
from serviceideas.ideas.models import Idea, Lens, Status
from serviceideas.people.models import Department, User
from serviceideas.training.models import Assignment, Enrolment, Module

L, C, T, G = Lens.LEARN, Lens.CARE, Lens.TEACH, Lens.REMOVE_GO_AWAY

# (module, the author's department if someone there did it, title, problem, proposal, lens,
#  beneficiary department or None for external customers, what changed — None: not yet)
FROM_TRAINING = [
    (
        "Who is your internal customer?",
        "Logistics",
        "Send Field Service the parts list from the morning plan",
        "Field Service gets tomorrow's parts list in the afternoon, too late to load the vans, "
        "so engineers arrive at customers without the part.",
        "Send the list from the morning plan instead of the afternoon one. Nobody had ever "
        "asked us; it costs us nothing.",
        L,
        "Field Service",
        "Vans are loaded the evening before. Field Service says fewer second visits are needed "
        "for a missing part, and nobody waits at the depot in the morning.",
    ),
    (
        "Be a customer of our own product",
        "IT",
        "Return an item with a code at the door instead of a printed label",
        "Returning an item online takes four screens and a printer many customers do not have.",
        "Show a code on the phone that the courier scans at the door; no label to print.",
        G,
        None,
        "Live for every order. A return takes one screen, and calls asking us to post a label "
        "have stopped.",
    ),
    (
        "Four ways to answer a customer",
        "Customer Service",
        "Stay on the line until the right colleague answers",
        "We transfer callers to another department and they start their story again from the "
        "beginning — or give up.",
        "Introduce the caller and their question to the colleague who can help, and only then "
        "leave the call.",
        C,
        None,
        "Every agent now hands callers over in person. Customers no longer repeat themselves, "
        "and calls back about the same question fell by half in the first month.",
    ),
    (
        "Call a customer who left us",
        "Sales",
        "Ring the customer when a part is on order",
        "A customer left us because nobody called back about a broken part. She was not "
        "angry, just tired of waiting without news.",
        "When a part is ordered, ring the customer with the date, and again if it slips.",
        C,
        None,
        None,
    ),
    (
        "Needs, wants and feelings",
        "Stores",
        "Somewhere to sit while we fetch a collection order",
        "Parents with small children stand at the counter while we look for their order.",
        "Put two chairs and a box of toys by the collection desk.",
        C,
        None,
        None,
    ),
]


def seed_stories(now: datetime) -> None:
    """Add the ideas started from training and name an owner for each idea put into practice.
    Expects the demo's people, ideas and training."""
    managers = [
        p for p in db.session.scalars(sa.select(User).where(User.is_active)) if p.is_manager
    ]
    departments = {d.name: d for d in db.session.scalars(sa.select(Department))}
    used: set[int] = set()
    for module_title, home, title, problem, proposal, lens, benefits, evidence in FROM_TRAINING:
        done = _completed_by(module_title, home, used)
        if done is None:
            continue
        author, completed_at = done
        used.add(author.id)
        module_id = db.session.scalar(sa.select(Module.id).where(Module.title == module_title))
        draft = services.IdeaDraft(
            title,
            problem,
            proposal,
            lens,
            departments[benefits] if benefits else None,
            origin=f"module:{module_id}",  # as "Turn this into a service idea" sends it
        )
        submitted = min(completed_at + timedelta(days=1), now - timedelta(days=2))
        idea = services.submit_idea(author, draft, now=submitted)
        steps = [Status.UNDER_REVIEW, Status.APPROVED, Status.IN_PROGRESS]
        if evidence is not None:
            steps.append(Status.IMPLEMENTED)
        span = min(timedelta(days=12), now - submitted - timedelta(hours=1))
        for number, step in enumerate(steps, start=1):
            moment = submitted + span * number / len(steps)
            decision = services.Decision(step, note="Picked up.")
            if step is Status.IMPLEMENTED and evidence is not None:
                decision = services.Decision(step, note=evidence, implemented_on=moment.date())
            services.change_status(managers[0], idea, decision, now=moment)
    _name_owners(managers[0])
    db.session.flush()


def _completed_by(module_title: str, home: str, used: set[int]) -> tuple[User, datetime] | None:
    """Someone who finished the module, from `home` if anyone there did, most recently first."""
    rows = db.session.execute(
        sa.select(User, Enrolment.completed_at)
        .join(Enrolment, Enrolment.user_id == User.id)
        .join(Assignment, Assignment.id == Enrolment.assignment_id)
        .join(Module, Module.id == Assignment.module_id)
        .join(Department, Department.id == User.department_id)
        .where(Module.title == module_title, Enrolment.completed_at.is_not(None))
        .order_by((Department.name == home).desc(), Enrolment.completed_at.desc(), User.id)
    ).all()
    for person, completed_at in rows:
        if person.id not in used and person.is_active and completed_at is not None:
            return person, completed_at
    return None


def _name_owners(manager: User) -> None:
    """Whoever made each idea put into practice happen: someone in the team it was for, or a
    colleague of its author."""
    people = list(db.session.scalars(sa.select(User).where(User.is_active).order_by(User.id)))
    ideas = db.session.scalars(
        sa.select(Idea).where(Idea.status == Status.IMPLEMENTED, Idea.owner_id.is_(None))
    )
    for idea in ideas.all():
        team = idea.beneficiary_department_id or idea.author_department_id
        candidates = [p for p in people if p.department_id == team and p.id != idea.author_id]
        if candidates:
            services.set_owner(manager, idea, candidates[idea.id % len(candidates)])
