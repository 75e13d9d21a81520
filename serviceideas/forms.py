"""Forms shared by every feature."""

from flask_wtf import FlaskForm


class EmptyForm(FlaskForm):
    """No fields: a plain POST button that still carries its CSRF token."""
