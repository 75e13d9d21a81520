"""A person who chose Deutsch meets no English: they switch the language on a phone in the dark
theme, submit an idea and read it, every page in German with German dates.

"English" here is any text of the catalogue whose German differs from it, at least two words
long (one word, such as "Dashboard", is often the same in German); the German expected is read
from the catalogue, never written here, so the test holds whatever the translators chose.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from babel.dates import format_skeleton
from babel.messages.pofile import read_po
from playwright.sync_api import Page, expect

from serviceideas import catalogues
from serviceideas.database import utcnow
from serviceideas.extensions import db
from serviceideas.people.models import DepartmentKind
from serviceideas.people.services import create_department, create_user
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser

# Outside a text's own words: its placeholders, and the markup of a sentence with a link.
_NOT_WORDS = re.compile(r"%\(\w+\)[#0 +-]*\d*(?:\.\d+)?[a-zA-Z]|%%|<[^>]*>|&\w+;")

# What the person writes: content, shown as written.
TITLE = "Kundschaft zurückrufen statt warten lassen"
PROBLEM = "Mittags wartet die Kundschaft zwanzig Minuten in der Leitung."
PROPOSAL = "Einen Rückruf zur Wunschzeit anbieten."
NAME = "Jana Schmidt"
DEPARTMENT = "Kundenservice"


def german_catalogue(directory: Path = catalogues.TRANSLATIONS) -> dict[str, str]:
    """Each English text of the catalogue under `directory` (a plural's two) and its German."""
    with open(directory / "de" / "LC_MESSAGES" / "messages.po", "rb") as po:
        catalogue = read_po(po, locale="de")
    texts: dict[str, str] = {}
    for message in catalogue:
        if not message.id or not message.string:
            continue
        if isinstance(message.id, tuple | list):
            pairs = zip(message.id, (message.string[0], message.string[-1]), strict=True)
            texts.update(pairs)
        else:
            texts[message.id] = str(message.string)
    return texts


@cache
def english_phrases(directory: Path = catalogues.TRANSLATIONS) -> frozenset[str]:
    """The pieces of English a German page must not show: each catalogued text whose German
    differs, cut at its placeholders and markup, where at least two words long."""
    phrases = set()
    for english, german in german_catalogue(directory).items():
        if english == german:
            continue
        for piece in _NOT_WORDS.split(english):
            words = re.findall(r"[A-Za-z][\w'’-]*", piece)
            if len(words) >= 2:
                phrases.add(" ".join(piece.split()).strip(" .,:;!?“”\"'()…·—-"))
    return frozenset(phrase for phrase in phrases if phrase)


def english_on(page: Page, content: tuple[str, ...]) -> list[str]:
    """The English phrases in the page's visible text, apart from `content`."""
    text = " ".join(page.inner_text("body").split())
    for written in content:
        text = text.replace(written, " ")
    return sorted(
        phrase
        for phrase in english_phrases()
        if re.search(rf"(?<![\w-]){re.escape(phrase)}(?![\w-])", text)
    )


def german(english: str) -> str:
    text = german_catalogue().get(english)
    assert text, f"{english!r} has no German translation"
    return text


@pytest.fixture
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    # A phone in the dark theme; the browser asks for English.
    return {
        **browser_context_args,
        "viewport": {"width": 375, "height": 812},
        "color_scheme": "dark",
        "locale": "en-GB",
    }


@pytest.fixture
def person(app: Any) -> str:
    department = create_department(DEPARTMENT, DepartmentKind.FRONT_LINE)
    user = create_user(
        email="jana@example.com", name=NAME, department=department, password=PASSWORD
    )
    db.session.commit()
    return user.email


def test_a_person_who_chose_deutsch_submits_an_idea_in_german(
    page: Page, live_server: Any, person: str
) -> None:
    assert len(english_phrases()) > 100, "the German catalogue is (nearly) empty"
    base = live_server.url
    content = (TITLE, PROBLEM, PROPOSAL, NAME, DEPARTMENT, person)
    page.goto(f"{base}/login")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.get_by_label("Email").fill(person)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Hello")

    # The language setting, in English until saved.
    page.goto(f"{base}/settings/language")
    page.get_by_label("Deutsch", exact=True).check()
    page.get_by_role("button", name="Save language").click()
    seen = {}

    def in_german(where: str) -> None:
        expect(page.locator("html")).to_have_attribute("lang", "de")
        seen[where] = english_on(page, content)

    expect(page.get_by_label("Deutsch", exact=True)).to_be_checked()
    in_german("the language setting, saved")

    page.goto(f"{base}/ideas")
    in_german("the ideas")
    page.goto(f"{base}/ideas/new")
    in_german("the idea form")
    # A look-up made while typing fails: what the page's script says is German too.
    failing = "**/ideas/similar*"
    page.route(failing, lambda route: route.fulfill(status=500, body="broken"))
    page.locator("[name=title]").fill("Kundschaft")
    failed = german("That did not work (error %(status)s). Reload the page and try again.")
    expect(page.locator("#request-error")).to_have_text(failed.replace("%(status)s", "500"))
    page.unroute(failing)
    page.route(failing, lambda route: route.abort())
    page.locator("[name=title]").fill("Kundschaft zurück")
    unreachable = german("The server could not be reached. Check your connection and try again.")
    expect(page.locator("#request-error")).to_have_text(unreachable)
    page.unroute(failing)
    page.locator("[name=title]").fill(TITLE)
    page.locator("[name=problem]").fill(PROBLEM)
    page.locator("[name=proposal]").fill(PROPOSAL)
    page.locator("[name=lens][value=care]").check()
    page.locator("[name=beneficiary]").select_option(index=1)  # external customers
    page.get_by_role("button", name=german("Submit idea")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(TITLE)
    in_german("the idea")
    # Today as German writes it ("30. Nov. 2026"), not as English does ("30 Nov 2026").
    today = format_skeleton("yMMMd", utcnow().date(), locale="de")
    expect(page.locator("main")).to_contain_text(today)

    page.goto(f"{base}/ideas/mine")
    in_german("my ideas")
    assert seen == {where: [] for where in seen}, f"English on German pages: {seen}"
