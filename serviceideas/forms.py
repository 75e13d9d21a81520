"""Forms shared by every feature."""

from flask_wtf import FlaskForm

from serviceideas.errors import RuleViolation


class EmptyForm(FlaskForm):
    """No fields: a plain POST button that still carries its CSRF token."""


def show_refusal(form: FlaskForm, error: RuleViolation, default_field: str) -> None:
    """Put a business rule's refusal beside the field it names (or `default_field`)."""
    field = getattr(form, error.field or default_field, None) or getattr(form, default_field)
    field.errors.append(error.message)
