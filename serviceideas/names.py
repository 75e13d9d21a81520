"""Names people give the things they keep (departments, journey stages), and what must stay
one of a kind: a name, an email address."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Protocol, TypeVar

from sqlalchemy.exc import IntegrityError

from serviceideas.database import violates_unique
from serviceideas.errors import RuleViolation, Taken
from serviceideas.extensions import db
from serviceideas.text import one_line


class Named(Protocol):
    @property
    def name(self) -> str: ...


N = TypeVar("N", bound=Named)


def unique_name(
    name: str, *, noun: str, max_length: int, named: Callable[[str], N | None], current: N | None
) -> str:
    """A name for a `noun` as typed, made `one_line` (nothing invisible, no direction
    overrides: SECURITY.md), or refused beside the `name` field: empty, too long, or already
    another one's. `named` finds one by name as the database compares names; `current` is
    the one being renamed, if any."""
    name = one_line(name)
    if not name:
        raise RuleViolation(f"Give the {noun} a name.", "name")
    if len(name) > max_length:
        raise RuleViolation(f"Keep the name to {max_length} characters.", "name")
    existing = named(name)
    if existing is not None and existing is not current:
        raise RuleViolation(f"There is already a {noun} called {existing.name}.", "name")
    return name


@contextmanager
def refused_if_taken(message: str, field: str) -> Iterator[None]:
    """The block's writes in a savepoint; if a unique constraint refuses them (the same name
    or email, added by someone else since it was checked), only they are undone, and the
    refusal names the field, as a rule checked beforehand would."""
    try:
        with db.session.begin_nested():
            yield
    except IntegrityError as error:
        if not violates_unique(error):
            raise  # a foreign key or a CHECK: a bug, not a name someone else took
        raise Taken(message, field) from None
