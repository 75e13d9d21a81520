"""A pseudo-language that shows which texts went through the catalogue.

`build(directory)` extracts every marked text, exactly as `make translations` does, and writes
a catalogue for PSEUDO in which each text is itself wrapped in ⟦ ⟧. An app that lists PSEUDO
among its LANGUAGES and reads `directory` (PSEUDO_SETTINGS) renders every translated text so
wrapped. `untranslated(html)` then finds what is left outside the brackets: interface text
that never went through gettext.

PSEUDO is Greek, so that dates and months written for the locale use no Latin letters; the
content tests create is written in Cyrillic for the same reason. What is left with a Latin
letter is therefore English interface text (or an address, which is allowed).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo

from serviceideas import catalogues

PSEUDO = "el"
OPEN, CLOSE = "⟦", "⟧"

_INNERMOST = re.compile(f"{OPEN}[^{OPEN}{CLOSE}]*{CLOSE}")
# Allowed with Latin letters: addresses, the product's name, file and format names.
_ALLOWED = re.compile(
    r"[\w.+-]+@[\w-]+(\.[\w-]+)+"  # e-mail addresses
    r"|(https?|webcal)://\S+"  # links shown as text
    r"|/[\w/.%{}?=&-]*"  # paths shown as text (/api/v1)
    r"|\bserviceideas\b"
    r"|\b(CSV|API|SCIM|OpenID Connect|OIDC|JSON|iCal|URL|Markdown|Slack|Microsoft Teams|Teams"
    r"|Bearer|Webhook|ID|IT|HTTP|HTTPS|UTC)\b",
    re.IGNORECASE,
)
_LATIN = re.compile("[A-Za-z]")

# Attributes whose values people read (or hear, with a screen reader).
_READ_ATTRIBUTES = {"title", "placeholder", "aria-label", "alt", "aria-description"}
_SKIPPED_ELEMENTS = {"script", "style", "template", "code", "pre"}


def build(directory: Path, source: Catalog | None = None) -> dict[str, Any]:
    """Write the pseudo-language's catalogue of `source` (by default every marked text,
    extracted now) under `directory`; return the app settings that add it."""
    source = source if source is not None else catalogues.extract()
    pseudo = Catalog(locale=PSEUDO, fuzzy=False)
    for message in source:
        if not message.id:
            continue
        if isinstance(message.id, tuple | list):
            wrapped: Any = tuple(f"{OPEN}{text}{CLOSE}" for text in message.id)
        else:
            wrapped = f"{OPEN}{message.id}{CLOSE}"
        pseudo.add(message.id, wrapped, context=message.context)
    target = directory / PSEUDO / "LC_MESSAGES"
    target.mkdir(parents=True, exist_ok=True)
    with open(target / "messages.mo", "wb") as out:
        write_mo(out, pseudo)
    return {
        "LANGUAGES": ("en", "de", "es", PSEUDO),
        "BABEL_TRANSLATION_DIRECTORIES": str(directory),
    }


def untranslated(page: str, content: Iterable[str] = ()) -> list[str]:
    """The pieces of an HTML page's readable text (its text and the attributes people read)
    with English left outside ⟦ ⟧. `content` lists texts people wrote (shown as they are)."""
    reader = _Reader()
    reader.feed(page)
    reader.close()
    pieces = ["\n".join(reader.text), *reader.attributes]
    return [piece for text in pieces for piece in untranslated_text(text, content)]


def untranslated_text(text: str, content: Iterable[str] = ()) -> list[str]:
    """Lines of plain text (an e-mail, a CSV header) with English left outside ⟦ ⟧."""
    for written in sorted(content, key=len, reverse=True):
        if written:
            text = text.replace(written, " ")
    previous = None
    while previous != text:
        previous, text = text, _INNERMOST.sub(" ", text)
    text = _ALLOWED.sub(" ", text)
    return [line.strip() for line in text.splitlines() if _LATIN.search(line)]


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.attributes: list[str] = []
        self._skipping: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag in _SKIPPED_ELEMENTS:
            self._skipping.append(tag)
        for name, value in attrs:
            if value and name in _READ_ATTRIBUTES:
                self.attributes.append(value)
        if tag == "input" and values.get("type") in {"submit", "button", "reset"}:
            self.attributes.append(values.get("value") or "")
        if tag == "meta" and values.get("name") == "description":
            self.attributes.append(values.get("content") or "")

    def handle_endtag(self, tag: str) -> None:
        if self._skipping and self._skipping[-1] == tag:
            self._skipping.pop()

    def handle_data(self, data: str) -> None:
        if not self._skipping and data.strip():
            self.text.append(data)
