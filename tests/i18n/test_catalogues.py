"""The German and Spanish catalogues are complete: every marked text is translated, none is
fuzzy or left over, each keeps its placeholders, and the app serves what the .po files say.

`make translations` adds new texts to the .po files empty and marks changed ones fuzzy; these
tests fail until a translator has filled and confirmed them (docs/architecture.md,
"Translations").
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

from serviceideas import catalogues

LANGUAGES = ("de", "es")

_PLACEHOLDER = re.compile(r"%\((\w+)\)[#0 +-]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa]")


def po_file(directory: Path, language: str) -> Path:
    return directory / language / "LC_MESSAGES" / "messages.po"


def read_catalogue(directory: Path, language: str) -> Catalog:
    with open(po_file(directory, language), "rb") as po:
        return read_po(po, locale=language)


def placeholders(text: str) -> set[str]:
    return set(_PLACEHOLDER.findall(text))


class _AnyValue(dict[str, Any]):
    def __missing__(self, key: str) -> int:
        return 1


def _formats(text: str) -> bool:
    """Whether `text % {…}` works, as gettext with named values (and Jinja's `_()`) runs it."""
    try:
        text % _AnyValue()  # only whether it raises
    except (ValueError, TypeError, KeyError):
        return False
    return True


def _name(message: Message) -> str:
    text = message.id[0] if isinstance(message.id, tuple | list) else message.id
    return f"{message.context}\u0004{text}" if message.context else str(text)


def problems(source: Catalog, catalogue: Catalog, language: str) -> list[str]:
    """What keeps `catalogue` (a language's .po file, read) from being complete for the texts
    of `source` (as extracted): each problem names its message."""
    found: list[str] = []
    expected_plurals = Catalog(locale=language).plural_forms
    if catalogue.plural_forms != expected_plurals:
        found.append(
            f"Plural-Forms is {catalogue.plural_forms!r}, {language} has {expected_plurals!r}"
        )
    for message in source:
        if not message.id:
            continue
        name = _name(message)
        entry = catalogue.get(message.id, context=message.context)
        if entry is None:
            found.append(f"missing: {name!r}")
            continue
        if entry.fuzzy:
            found.append(f"fuzzy: {name!r}")
        plural = isinstance(message.id, tuple | list)
        if plural != isinstance(entry.id, tuple | list):
            found.append(f"singular and plural mixed up: {name!r}")
            continue
        forms = list(entry.string) if isinstance(entry.string, tuple | list) else [entry.string]
        if plural and len(forms) != catalogue.num_plurals:
            found.append(
                f"{len(forms)} plural forms, {language} has {catalogue.num_plurals}: {name!r}"
            )
        written = [form for form in forms if form]
        if len(written) < len(forms):
            found.append(f"not translated: {name!r}")
            continue
        found.extend(_placeholder_problems(message, written, name))
    for message in catalogue.obsolete.values():
        found.append(f"obsolete (no longer in the code): {_name(message)!r}")
    return found


def _placeholder_problems(message: Message, forms: list[str], name: str) -> Iterable[str]:
    ids = list(message.id) if isinstance(message.id, tuple | list) else [message.id]
    wanted = set().union(*(placeholders(text) for text in ids))
    for form in forms:
        if extra := placeholders(form) - wanted:
            yield f"placeholders {sorted(extra)} not in the original: {name!r}"
    # The singular (or the general plural form, the last) keeps every placeholder; a plural's
    # "one" form may say the number in words.
    if missing := placeholders(ids[-1]) - placeholders(forms[-1]):
        yield f"placeholders {sorted(missing)} dropped: {name!r}"
    if _formats(ids[0]) and not all(_formats(form) for form in forms):
        yield f"a stray % (write %%): {name!r}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_marked_text_is_translated(extracted: Catalog, language: str) -> None:
    found = problems(extracted, read_catalogue(catalogues.TRANSLATIONS, language), language)
    shown = "\n".join(found[:60]) + (f"\n… and {len(found) - 60} more" if len(found) > 60 else "")
    assert not found, (
        f"{po_file(catalogues.TRANSLATIONS, language)}: {len(found)} problems "
        f"(`make translations` brings it in line with the code; then translate):\n{shown}"
    )


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_compiled_catalogue_is_the_po_file(language: str) -> None:
    """The .mo the app reads is `make`'s compilation of the .po file as it is now."""
    po = po_file(catalogues.TRANSLATIONS, language)
    mo = po.with_suffix(".mo")
    assert mo.exists(), f"{mo} is missing: run make"
    compiled = io.BytesIO()
    write_mo(compiled, read_catalogue(catalogues.TRANSLATIONS, language))
    assert mo.read_bytes() == compiled.getvalue(), f"{mo} is older than {po.name}: run make"


# The app with the real catalogues (not the pseudo-language's) for the page test below.
@pytest.fixture
def app_settings() -> dict[str, Any]:
    return {}


def translation(language: str, text: str) -> str:
    entry = read_catalogue(catalogues.TRANSLATIONS, language).get(text)
    assert entry is not None and entry.string, f"{text!r} has no {language} translation"
    return str(entry.string)


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_browser_asking_for_the_language_gets_its_sign_in_page(
    client: Any, language: str
) -> None:
    response = client.get("/login", headers={"Accept-Language": f"{language},en;q=0.5"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert re.search(rf'<html[^>]*\blang="{language}"', page)
    sign_in = translation(language, "Sign in")
    assert sign_in != "Sign in"
    assert sign_in in page
    assert translation(language, "Password") in page


# The check itself, on catalogues made here: it passes a complete one and names each fault.


def _translated(text: str) -> str:
    return f"Ü {text}"  # keeps every placeholder and %%


def write_catalogue(
    directory: Path,
    language: str,
    source: Catalog,
    change: Callable[[Catalog], None] = lambda catalogue: None,
) -> Catalog:
    """`source` translated into `language` (a made-up translation of each text), changed as
    `change` says, written as the language's .po file under `directory` and read back."""
    catalogue = Catalog(locale=language, fuzzy=False)
    for message in source:
        if not message.id:
            continue
        if isinstance(message.id, tuple | list):
            string: Any = tuple(
                _translated(message.id[min(i, 1)]) for i in range(catalogue.num_plurals)
            )
        else:
            string = _translated(message.id)
        catalogue.add(message.id, string, context=message.context)
    change(catalogue)
    po = po_file(directory, language)
    po.parent.mkdir(parents=True, exist_ok=True)
    with open(po, "wb") as out:
        write_po(out, catalogue)
    return read_catalogue(directory, language)


SOURCE: list[tuple[str | tuple[str, str], str | None]] = [
    ("Sign in", None),
    ("Due %(date)s", None),
    (("%(num)d idea", "%(num)d ideas"), None),
    ("Open", "idea status"),
    ("50%% done", None),
]


@pytest.fixture
def source() -> Catalog:
    catalogue = Catalog(fuzzy=False)
    for text, context in SOURCE:
        catalogue.add(text, None, context=context)
    return catalogue


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_check_passes_a_complete_catalogue(
    tmp_path: Path, source: Catalog, extracted: Catalog, language: str
) -> None:
    assert problems(source, write_catalogue(tmp_path, language, source), language) == []
    everything = write_catalogue(tmp_path, language, extracted)
    assert problems(extracted, everything, language) == []


def _spoil(catalogue: Catalog) -> None:
    del catalogue["Sign in"]
    catalogue["Due %(date)s"].string = "Fällig"  # placeholder dropped
    catalogue["Due %(date)s"].flags.add("fuzzy")
    catalogue[("%(num)d idea", "%(num)d ideas")].string = ("%(num)d Idee", "")
    open_ = catalogue.get("Open", context="idea status")
    assert open_ is not None
    open_.string = "%(name)s offen"
    catalogue["50%% done"].string = "50% fertig"
    catalogue.add("Gone", "Weg")
    catalogue.obsolete["Gone"] = catalogue["Gone"]
    del catalogue["Gone"]


def test_the_check_names_each_fault(tmp_path: Path, source: Catalog) -> None:
    found = problems(source, write_catalogue(tmp_path, "de", source, _spoil), "de")
    assert found == [
        "missing: 'Sign in'",
        "fuzzy: 'Due %(date)s'",
        "placeholders ['date'] dropped: 'Due %(date)s'",
        "not translated: '%(num)d idea'",
        "placeholders ['name'] not in the original: 'idea status\\x04Open'",
        "a stray % (write %%): '50%% done'",
        "obsolete (no longer in the code): 'Gone'",
    ]


def test_the_check_knows_each_languages_plurals(tmp_path: Path, source: Catalog) -> None:
    german = write_catalogue(tmp_path, "de", source)
    assert problems(source, german, "de") == []
    # Spanish has a third form (CLDR's "many": un millón de ideas).
    assert problems(source, german, "es") == [
        "Plural-Forms is 'nplurals=2; plural=(n != 1);', es has "
        "'nplurals=3; plural=(n == 1 ? 0 : n != 0 && n % 1000000 == 0 ? 1 : 2);'",
    ]
    spanish = write_catalogue(tmp_path, "es", source)
    assert problems(source, spanish, "es") == []
