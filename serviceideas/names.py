"""Names people give the things they keep (departments, journey stages), and what must stay
one of a kind: a name, an email address."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Protocol, TypeVar

from flask_babel import gettext, lazy_gettext
from sqlalchemy.exc import IntegrityError

from serviceideas.database import violates_unique
from serviceideas.errors import RuleViolation, Taken
from serviceideas.extensions import db
from serviceideas.text import one_line


class Named(Protocol):
    @property
    def name(self) -> str: ...


N = TypeVar("N", bound=Named)

# Whole sentences for each `noun`, so that each language words them its own way.
_UNNAMED = {
    "department": lazy_gettext("Give the department a name."),
    "stage": lazy_gettext("Give the stage a name."),
}
_TAKEN = {
    "department": lazy_gettext("There is already a department called %(name)s."),
    "stage": lazy_gettext("There is already a stage called %(name)s."),
}


def unique_name(
    name: str, *, noun: str, max_length: int, named: Callable[[str], N | None], current: N | None
) -> str:
    """A name for a `noun` as typed, made `one_line` (nothing invisible, no direction
    overrides: SECURITY.md), or refused beside the `name` field: empty, too long, or already
    another one's. `named` finds one by name as the database compares names; `current` is
    the one being renamed, if any."""
    name = one_line(name)
    if not name:
        raise RuleViolation(str(_UNNAMED[noun]), "name")
    if len(name) > max_length:
        raise RuleViolation(
            gettext("Keep the name to %(maximum)d characters.", maximum=max_length), "name"
        )
    existing = named(name)
    if existing is not None and existing is not current:
        raise RuleViolation(str(_TAKEN[noun]) % {"name": existing.name}, "name")
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
