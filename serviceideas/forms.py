"""Forms shared by every feature."""

from flask_wtf import FlaskForm

from serviceideas.errors import RuleViolation


def stripped(value: object) -> object:
    """A field filter: surrounding whitespace is not part of a choice (" 3" and "\r" are not
    ids); without it, Optional() lets whitespace through to the code that reads the value."""
    return value.strip() if isinstance(value, str) else value


class EmptyForm(FlaskForm):
    """No fields: a plain POST button that still carries its CSRF token."""


def show_refusal(form: FlaskForm, error: RuleViolation, default_field: str) -> None:
    """Put a business rule's refusal beside the field it names (or `default_field`)."""
    field = getattr(form, error.field or default_field, None) or getattr(form, default_field)
    field.errors.append(error.message)
