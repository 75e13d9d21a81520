"""How training reacts to other features: new joiners are enrolled, people who moved
department leave what no longer covers them, ideas are linked back."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from serviceideas.ideas.signals import idea_submitted, origin_asked
from serviceideas.people.signals import joined_department
from serviceideas.training import queries, services

if TYPE_CHECKING:
    from serviceideas.ideas.models import Idea
    from serviceideas.people.models import User


def enrol_joiners(people: tuple[User, ...], **_: object) -> None:
    """In the transaction that created, moved or reactivated them (docs/product.md,
    "Assignments")."""
    services.withdraw_uncovered(people)
    services.enrol_new_members(people)


def link_idea_to_module(idea: Idea, *, origin: str | None = None, **_: object) -> None:
    found = re.fullmatch(r"module:([0-9]{1,9})", origin or "")
    if found:
        services.record_idea_from_module(idea.author, int(found.group(1)), idea.id)


def module_of_idea(idea: Idea, **_: object) -> str | None:
    """The idea page says which module it was started in: the title only, never the
    reflection (docs/product.md, "Privacy of reflections")."""
    return queries.module_title_of_idea(idea.id)


def connect() -> None:
    """Subscribe (idempotent: blinker keeps one connection per receiver)."""
    joined_department.connect(enrol_joiners)
    idea_submitted.connect(link_idea_to_module)
    origin_asked.connect(module_of_idea)
