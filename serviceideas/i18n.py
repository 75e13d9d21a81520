"""Languages: which one each request speaks, and dates and numbers written the way it writes them
(docs/product.md, "Languages"; docs/architecture.md, "Translations").

Text people read is marked where it is written: `_("…")` in templates and `gettext("…")` in
code (`lazy_gettext` where a text is defined once at import, such as a form's labels), and
counted things with `ngettext`, so each language has its own plurals. `make translations`
extracts the marked texts into serviceideas/translations/messages.pot and updates each
language's .po file; `make` compiles them.

Dates and numbers go through the filters below, never `strftime` or `{:,}`: the locale's CLDR
patterns put day, month and year in its order and group digits its way.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from typing import TYPE_CHECKING, NamedTuple

from babel import Locale
from babel import dates as babel_dates
from babel import numbers as babel_numbers
from flask import Flask, current_app, has_request_context, request
from flask_babel import Babel, force_locale, get_locale
from flask_login import current_user

if TYPE_CHECKING:
    from serviceideas.people.models import User

# Each language's own name for itself, as the language setting lists it.
LANGUAGE_NAMES = {"en": "English", "de": "Deutsch", "es": "Español"}

# Formats follow the language's CLDR data, except that English writes dates day-month-year
# with a 24-hour clock ("3 Nov 2026, 14:05"), as the app always has: the company is not
# assumed to be American.
FORMAT_LOCALES = {"en": "en_GB"}

# CLDR skeletons: which parts a date shows; the locale decides their order and punctuation.
DATE = "yMMMd"  # 3 Nov 2026 · 3. Nov. 2026 · 3 nov 2026
DAY = "MMMd"  # 3 Nov
MONTH = "yMMMM"  # November 2026
SHORT_MONTH = "yMMM"  # Nov 2026
TIME = "Hm"  # 14:05
TIME_SECONDS = "Hms"  # 14:05:09


def init_app(app: Flask) -> None:
    Babel(app, locale_selector=select_locale, default_locale=app.config["DEFAULT_LOCALE"])
    # {% trans %} blocks drop their line breaks and indentation, so a message's id is its text.
    app.jinja_env.policies["ext.i18n.trimmed"] = True
    app.jinja_env.filters.update(
        date=format_date,
        datetime=format_datetime,
        number=format_number,
        percent=format_percent,
    )
    app.jinja_env.globals["language_name"] = language_name
    app.jinja_env.globals["get_locale"] = get_locale


def select_locale() -> str:
    """The signed-in person's chosen language, else the one the company's directory gives
    them, else the best of their browser's, else the company's default
    (`page_language_source`). Under the API the person is its token's, never the session's."""
    if has_request_context() and _is_api_request():
        return _api_caller_locale() or browser_language()
    return page_language_source(current_user if has_request_context() else None).language


class LanguageSource(NamedTuple):
    """A language, and where it comes from: "chosen" (the person's own choice), "directory"
    (the company's identity provider or directory), "browser" (Accept-Language) or "default"
    (the company's, SERVICEIDEAS_DEFAULT_LOCALE)."""

    language: str
    source: str


def _settled(person: object) -> LanguageSource | None:
    languages = current_app.config["LANGUAGES"]
    for language, source in (
        (getattr(person, "locale", None), "chosen"),
        (getattr(person, "directory_locale", None), "directory"),
    ):
        if language in languages:
            return LanguageSource(str(language), source)
    return None


def settled_language(person: object) -> str | None:
    """The language `person` reads the app in whatever their browser asks: the one they chose,
    else the one the company's identity provider or directory gives them (docs/product.md,
    "Languages"); None when neither is one the app speaks (or nobody is signed in)."""
    found = _settled(person)
    return None if found is None else found.language


def page_language_source(person: object) -> LanguageSource:
    """The language of `person`'s pages, and why: their choice, else the directory's, else
    the best of their browser's, else the company's default (the language setting says
    which)."""
    settled = _settled(person)
    if settled is not None:
        return settled
    asked = _browser_asks()
    if asked is not None:
        return LanguageSource(asked, "browser")
    return LanguageSource(str(current_app.config["DEFAULT_LOCALE"]), "default")


def supported_language(tag: object) -> str | None:
    """The language the app speaks that a language tag names, by its primary subtag ignoring
    case: "de-DE", "de_AT" and "DE" are "de"; None for a language the app does not speak, or
    anything that is not a language tag. What the identity provider's `locale` claim and the
    directory's `preferredLanguage` give is kept as this."""
    if not isinstance(tag, str):
        return None
    language = tag.strip().replace("_", "-").split("-")[0].lower()
    languages = current_app.config["LANGUAGES"]
    return str(language) if language in languages else None


def browser_language() -> str:
    """The first language the browser asks for that the app speaks, a regional one (de-AT,
    es-MX) as its language; else the company's default."""
    return _browser_asks() or str(current_app.config["DEFAULT_LOCALE"])


def _browser_asks() -> str | None:
    """The first language the browser asks for that the app speaks, if any.

    Werkzeug's `best_match` would take any exact match over a better-liked regional one, so
    that "de-AT, en;q=0.5" got English.
    """
    if has_request_context():
        for tag, _quality in request.accept_languages:  # most wanted first
            language = supported_language(tag)
            if language is not None:
                return language
    return None


def _is_api_request() -> bool:
    """Under /api/v1, except its documentation page (a page for people, signed in or not)."""
    from serviceideas.api import PREFIX  # the API imports the features, which import this

    return request.path.startswith(PREFIX + "/") and request.blueprint != "apidocs"


def _api_caller_locale() -> str | None:
    """The API token's person's language (`settled_language`), if the request carries a live
    token: the token looked up once per request (api/auth.py's `request_token`, which the rate
    limit and authentication share), so asking costs no query of its own."""
    from serviceideas.api import auth

    return auth.caller_locale()


def locale_for(person: User | None) -> str:
    """The language to write to `person` in, away from their requests (e-mails, digests,
    notifications): their choice, else the company directory's, else the one their browser
    asked for when they last signed in, else the company's default. Its SQL twin is
    notifications.queries.language_of_person."""
    languages = current_app.config["LANGUAGES"]
    if person is not None:
        for language in (person.locale, person.directory_locale, person.browser_locale):
            if language in languages:
                return str(language)
    return str(current_app.config["DEFAULT_LOCALE"])


@contextmanager
def speaking_to(person: User | None) -> Iterator[None]:
    """Texts written inside are in `person`'s language (see `locale_for`)."""
    with force_locale(locale_for(person)):
        yield


def language_name(code: str) -> str:
    return LANGUAGE_NAMES.get(code) or Locale.parse(code).get_display_name(code) or code


def formatting_locale() -> Locale:
    locale = get_locale() or Locale.parse(current_app.config["DEFAULT_LOCALE"])
    return Locale.parse(FORMAT_LOCALES.get(str(locale), str(locale)))


def format_date(value: date | datetime | None, skeleton: str = DATE) -> str:
    """A date (or a datetime's day) for the current locale: "3 Nov 2026", "3. Nov. 2026"."""
    if value is None:
        return ""
    return babel_dates.format_skeleton(skeleton, value, locale=formatting_locale())


def format_datetime(value: datetime | None, skeleton: str = TIME) -> str:
    """A day and a time (UTC, as stored): "3 Nov 2026, 14:05"; `skeleton` picks the time's
    parts (TIME_SECONDS for seconds)."""
    if value is None:
        return ""
    locale = formatting_locale()
    pattern = babel_dates.get_datetime_format("medium", locale=locale)
    return str(pattern).format(
        babel_dates.format_skeleton(skeleton, value, locale=locale),
        babel_dates.format_skeleton(DATE, value, locale=locale),
    )


def format_time(value: datetime | None, skeleton: str = TIME) -> str:
    if value is None:
        return ""
    return babel_dates.format_skeleton(skeleton, value, locale=formatting_locale())


def format_number(value: int | float, digits: int | None = None) -> str:
    """1,234 · 1.234 · 1234 (Spanish groups only from five digits); with `digits`, always
    that many decimals (`n|number(1)`: 12.0 · 12,0)."""
    pattern = None if digits is None else "#,##0." + "0" * digits if digits else "#,##0"
    return babel_numbers.format_decimal(value, pattern, locale=formatting_locale())


def format_percent(value: float, digits: int = 0) -> str:
    """A share (0.42) as a percentage: 42% · 42 % · 42 % (the locale's own pattern: German and
    Spanish put a no-break space before the sign)."""
    locale = formatting_locale()
    pattern = locale.percent_formats[None].pattern
    if digits:
        pattern = pattern.replace("#,##0", "#,##0." + "0" * digits, 1)
    return babel_numbers.format_percent(value, pattern, locale=locale)
