"""The text the API reads, checked once for every field: no NUL (PostgreSQL's text cannot hold
one; the pages refuse it at the door, security.py, which a JSON body does not pass) and nothing
that is not Unicode text — a lone surrogate, which JSON may spell ("\\ud800") but UTF-8 cannot
encode, so no database stores it. Every string field of the API's schemas is a `Text`
(tests/api/test_text.py walks them), so no field can forget the check (docs/architecture.md,
"Errors")."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask_babel import lazy_gettext

NUL_MESSAGE = lazy_gettext("No text field accepts a NUL character.")
NOT_TEXT_MESSAGE = lazy_gettext(
    "This text holds a character that is not Unicode text (a lone surrogate)."
)
REQUIRED_MESSAGE = lazy_gettext("This field is required.")


def storable(value: str) -> None:
    """Refuse what no text column can hold."""
    if "\x00" in value:
        raise ma.ValidationError(str(NUL_MESSAGE))
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ma.ValidationError(str(NOT_TEXT_MESSAGE)) from None


def not_blank(value: str) -> None:
    """Something to read, as the forms' DataRequired asks."""
    if not value.strip():
        raise ma.ValidationError(str(REQUIRED_MESSAGE))


class Text(ma.fields.String):
    """A string field whose every value read is `storable`."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        text = super()._deserialize(value, attr, data, **kwargs)
        storable(text)
        return text
