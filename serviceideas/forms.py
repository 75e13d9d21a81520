"""Forms shared by every feature."""

from flask_wtf import FlaskForm


def stripped(value: object) -> object:
    """A field filter: surrounding whitespace is not part of a choice (" 3" and "\r" are not
    ids); without it, Optional() lets whitespace through to the code that reads the value."""
    return value.strip() if isinstance(value, str) else value


class EmptyForm(FlaskForm):  # type: ignore[misc]  # Flask-WTF ships no types: FlaskForm is Any
    """No fields: a plain POST button that still carries its CSRF token."""
