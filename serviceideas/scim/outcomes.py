"""What came of a SCIM request, kept so that the request log shows it in its reader's language
(docs/architecture.md, "SCIM provisioning"): the untranslated text (msgid) and its values,
written into a sentence when the log is read, not when the request is made (a directory's
request has no reader; its language is not the admin's)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext

# A value that is a list holds texts of their own (msgids), each translated when shown and
# joined with ", ": "Updated %(email)s: %(changes)s" with changes ["name", "department"].
Value = str | int | list[str]
VALUE_MAX = 200


def N_(text: str) -> str:
    """Mark `text` for the catalogue without translating it: it is translated when shown."""
    return text


@dataclass(frozen=True)
class Outcome:
    msgid: str
    values: dict[str, Value] = field(default_factory=dict)

    def english(self) -> str:
        """The sentence untranslated: the log's `outcome`, what a reader of the database (or of
        a release that no longer has this text) sees."""
        return _written(self.msgid, {k: _joined(v, str) for k, v in self.values.items()})

    def stored(self) -> dict[str, Any]:
        """For the log's JSON column; a value that came in the request (a department's name)
        is cut to VALUE_MAX characters."""
        values = {k: v[:VALUE_MAX] if isinstance(v, str) else v for k, v in self.values.items()}
        return {"msgid": self.msgid, "values": values}

    @classmethod
    def from_stored(cls, stored: Any) -> Outcome | None:
        """The outcome kept in a log line, or None when it holds none (lines logged before
        outcomes were kept this way) or something this release cannot read."""
        if not isinstance(stored, dict) or not isinstance(stored.get("msgid"), str):
            return None
        values = stored.get("values")
        return cls(stored["msgid"], values if isinstance(values, dict) else {})

    def shown(self) -> str:
        """The sentence in the reader's language."""
        values = {k: _joined(v, gettext) for k, v in self.values.items()}
        try:
            return gettext(self.msgid, **values) if values else gettext(self.msgid)
        except (KeyError, TypeError, ValueError):
            return self.english()  # a translation that names a value this line lacks


def _joined(value: Any, translate: Any) -> Any:
    if isinstance(value, list):
        return ", ".join(translate(str(each)) for each in value)
    return value


def _written(msgid: str, values: dict[str, Any]) -> str:
    try:
        return msgid % values if values else msgid
    except (KeyError, TypeError, ValueError):
        return msgid
