"""Forms shared by every feature."""

from flask_wtf import FlaskForm

# A choice of a select field, with its label (WTForms 3.3); types-WTForms does not know it yet.
from wtforms.fields import SelectChoice  # type: ignore[attr-defined]

__all__ = ["EmptyForm", "SelectChoice", "stripped"]


def stripped(value: object) -> object:
    """A field filter: surrounding whitespace is not part of a choice (" 3" and "\r" are not
    ids); without it, Optional() lets whitespace through to the code that reads the value."""
    return value.strip() if isinstance(value, str) else value


class EmptyForm(FlaskForm):
    """No fields: a plain POST button that still carries its CSRF token."""
