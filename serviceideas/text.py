"""Text people type, as the pages will show it: invisible characters alone are no text.

Format characters (Unicode category Cf: zero-width spaces and joiners, the byte order mark,
the soft hyphen, direction marks, embeddings, overrides and isolates) draw nothing. A title
made only of them looks empty wherever it is listed; an override reverses the letters that
follow it, so a name or a title can be made to read as something else (SECURITY.md,
"Invisible text").
"""

from __future__ import annotations

import unicodedata

# Embeddings and overrides (U+202A–U+202E) and isolates (U+2066–U+2069): they change the
# direction of the text after them. The marks (U+200E, U+200F, U+061C) only set the
# direction of the punctuation beside them, and stay.
DIRECTION_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_WITHOUT_DIRECTION_CONTROLS = {ord(character): None for character in DIRECTION_CONTROLS}


def is_blank(text: str) -> bool:
    """True when nothing in `text` would be seen: only whitespace and format characters."""
    return all(ch.isspace() or unicodedata.category(ch) == "Cf" for ch in text)


def visible_text(value: str | None) -> str:
    """`value` without direction controls and surrounding whitespace; "" when what remains
    shows nothing. Other format characters inside visible text stay: joined emoji need the
    zero-width joiner, some words the non-joiner."""
    value = (value or "").translate(_WITHOUT_DIRECTION_CONTROLS).strip()
    return "" if is_blank(value) else value


def one_line(value: str | None) -> str:
    """`visible_text`, with every run of whitespace made one space: names and titles."""
    return " ".join(visible_text(value).split())
