"""How training reacts to other features: new joiners are enrolled, ideas are linked back."""

from __future__ import annotations

import re
from typing import Any

from serviceideas.ideas.signals import idea_submitted
from serviceideas.people.signals import joined_department
from serviceideas.training import services


def enrol_joiner(user: Any, department: Any, **_: Any) -> None:
    services.enrol_new_member(user, department)


def link_idea_to_module(idea: Any, origin: str | None = None, **_: Any) -> None:
    found = re.fullmatch(r"module:([0-9]{1,9})", origin or "")
    if found:
        services.record_idea_from_module(idea.author, int(found.group(1)), idea.id)


def connect() -> None:
    """Subscribe (idempotent: blinker keeps one connection per receiver)."""
    joined_department.connect(enrol_joiner)
    idea_submitted.connect(link_idea_to_module)
