"""One way for a view to finish a write: commit what a service did, or roll it back and say why.

Services flush and never commit (docs/architecture.md, "Where each kind of rule lives"); the
view that called one ends the transaction here, so every page treats a refusal the same way:
nothing the service wrote is kept, and the person reads the reason beside the field it names
(or, for a plain button, as a flashed message on the next page).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from flask import flash
from flask_wtf import FlaskForm

from serviceideas.errors import Refusals, RuleViolation
from serviceideas.extensions import db

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Outcome(Generic[T]):
    """What became of a write: `value` is the service's answer when it was kept; `refusal` is
    the business rule that refused it. True when the write was committed."""

    value: T | None = None
    refusal: RuleViolation | None = None

    def __bool__(self) -> bool:
        return self.refusal is None

    @property
    def kept(self) -> T:
        """The service's answer; only to be read after the outcome was found true."""
        if self.refusal is not None:
            raise RuntimeError("the write was refused; there is no value")  # a bug in the view
        return self.value  # type: ignore[return-value]  # T may itself be None (a procedure)


def commit_or_refuse(
    action: Callable[[], T],
    *,
    form: FlaskForm | None = None,
    field: str | None = None,
    flash_refusal: bool = True,
) -> Outcome[T]:
    """Run `action` (one service call) and end the request's transaction.

    - It succeeds: commit, and return its value.
    - A business rule refuses it (`RuleViolation`): roll back everything it wrote, then put
      the refusal beside `form`'s field the rule names (else `field`), or, without a form,
      flash it (unless `flash_refusal` is off because the view shows it itself).

    Anything else propagates: errors.py rolls back and answers 4xx/5xx.
    """
    try:
        value = action()
    except RuleViolation as error:
        db.session.rollback()
        if form is not None:
            show_refusal(form, error, field)
        elif flash_refusal:
            flash(error.message, "error")
        return Outcome(refusal=error)
    db.session.commit()
    return Outcome(value=value)


def show_refusal(form: FlaskForm, error: RuleViolation, default_field: str | None) -> None:
    """Put a business rule's refusal beside the field it names (or `default_field`); several
    refusals at once (`Refusals`), each beside its own."""
    if isinstance(error, Refusals):
        for each in error.each:
            show_refusal(form, each, default_field)
        return
    name = error.field if error.field and hasattr(form, error.field) else default_field
    if name is None or not hasattr(form, name):
        raise LookupError(f"{type(form).__name__} has no field for the refusal {error.message!r}")
    getattr(form, name).errors.append(error.message)
