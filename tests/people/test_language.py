"""The language setting: a person's choice, else the company directory's, else their browser's,
else the company's default (docs/product.md, "Languages")."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from serviceideas import create_app
from serviceideas.config import ConfigurationError
from serviceideas.errors import RuleViolation
from serviceideas.extensions import db
from serviceideas.people import services
from serviceideas.people.models import User

GERMAN = {"Accept-Language": "de-DE,de;q=0.9,en;q=0.5"}


def html_lang(response) -> str:
    found = re.search(r'<html lang="([^"]*)"', response.get_data(as_text=True))
    assert found, "the page names its language"
    return found.group(1)


def checked(page: str) -> list[str]:
    """The values of the radio buttons checked on the page."""
    inputs = re.findall(r"<input [^>]*>", page)
    return [re.search(r'value="([^"]*)"', tag).group(1) for tag in inputs if " checked" in tag]


def choose(client, language: str):
    return client.post("/settings/language", data={"language": language}, headers=GERMAN)


def test_a_choice_beats_the_browser_which_beats_the_company_default(app, client_as, make_user):
    app.config["DEFAULT_LOCALE"] = "es"
    person = make_user()
    client = client_as(person)
    assert html_lang(client.get("/")) == "es"  # no browser language: the company's
    assert html_lang(client.get("/", headers=GERMAN)) == "de"  # the browser's

    saved = choose(client, "en")
    assert saved.status_code == 303 and saved.headers["Location"] == "/settings/language"
    assert db.session.get(User, person.id).locale == "en"
    page = client.get("/", headers=GERMAN)
    assert html_lang(page) == "en"  # the choice, whatever the browser asks for
    assert "Saved: you now read serviceideas in English." in page.get_data(as_text=True)

    assert choose(client, "").status_code == 303  # back to the browser's
    assert db.session.get(User, person.id).locale is None
    assert html_lang(client.get("/", headers=GERMAN)) == "de"


def test_the_page_offers_the_browsers_language_and_each_by_its_own_name(client_as, make_user):
    person = make_user()
    person.locale = "es"
    db.session.commit()
    response = client_as(person).get("/settings/language", headers=GERMAN)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert html_lang(response) == "es"
    assert "<legend>" in page  # a labelled group of radio buttons (its text is translated)
    for code, name in (("en", "English"), ("de", "Deutsch"), ("es", "Español")):
        assert f'value="{code}"' in page and name in page
    assert checked(page) == ["es"]  # the person's choice
    assert 'href="/settings/language" aria-current="page"' in page  # in the main menu


def test_the_browsers_language_is_named_as_it_is_now(client_as, make_user):
    page = client_as(make_user()).get("/settings/language", headers=GERMAN).get_data(as_text=True)
    # The page is in German (the browser's), so only the name is asserted.
    assert "Deutsch)" in page and checked(page) == [""]
    client = client_as(make_user())
    page = client.get("/settings/language", headers={"Accept-Language": "en-GB"})
    page = page.get_data(as_text=True)
    assert "Your browser&#39;s language (now: English)" in page
    assert '<a href="/settings/language" aria-current="page">Language</a>' in page
    assert "From your browser: English" in page  # where the language in use comes from


def test_the_directorys_language_comes_between_a_choice_and_the_browser(app, client_as, make_user):
    app.config["DEFAULT_LOCALE"] = "es"
    person = make_user()
    person.directory_locale = "en"  # as the identity provider or SCIM keeps it
    db.session.commit()
    client = client_as(person)
    response = client.get("/settings/language", headers=GERMAN)
    page = response.get_data(as_text=True)
    assert html_lang(response) == "en"  # the directory's, over the browser's
    assert "From your company directory: English" in page
    assert "Your company directory&#39;s language (now: English)" in page
    assert checked(page) == [""]

    assert choose(client, "es").status_code == 303  # a choice wins over the directory
    response = client.get("/settings/language", headers=GERMAN)
    assert html_lang(response) == "es" and 'id="language-in-use"' not in response.get_data(
        as_text=True
    )

    assert choose(client, "").status_code == 303  # automatic again: the directory's
    page = client.get("/", headers=GERMAN)
    assert html_lang(page) == "en"
    assert (
        "Saved: you now read serviceideas in the language your company directory gives (now "
        "English)." in page.get_data(as_text=True)
    )


@pytest.mark.parametrize(
    ("tag", "kept"),
    [
        ("de-DE", "de"),
        ("de_AT", "de"),
        ("ES", "es"),
        (" es-419 ", "es"),
        ("en", "en"),
        ("fr-FR", None),
        ("!!", None),
        ("", None),
        (None, None),
        (["de"], None),
    ],
)
def test_a_language_tag_is_kept_as_the_language_the_app_speaks(app, tag, kept):
    from serviceideas.i18n import supported_language

    assert supported_language(tag) == kept


def test_an_api_tokens_person_is_answered_in_the_directorys_language(app, client, make_user):
    from datetime import timedelta

    from serviceideas.api import tokens
    from serviceideas.database import utcnow

    person = make_user()
    person.directory_locale = "es"
    db.session.commit()
    _token, secret = tokens.create_token(person, "Script", ["read"], utcnow() + timedelta(days=3))
    db.session.commit()
    response = client.get(
        "/api/v1/ideas/999999", headers={"Authorization": f"Bearer {secret}", **GERMAN}
    )
    assert response.status_code == 404
    assert response.headers["Content-Language"] == "es"


@pytest.mark.parametrize("language", ["fr", "xx-evil", "EN", "en " * 10])
def test_a_language_not_offered_is_refused_beside_the_field_and_nothing_saved(
    client_as, make_user, language
):
    person = make_user()
    client = client_as(person)
    refused = client.post("/settings/language", data={"language": language})
    assert refused.status_code == 303  # to the form's page, which shows why (refusals.py)
    shown = client.get(refused.headers["Location"])
    assert shown.status_code == 422
    page = shown.get_data(as_text=True)
    assert 'aria-invalid="true"' in page
    assert 'id="language-error" class="field-error">Choose one of the languages listed.' in page
    assert db.session.get(User, person.id).locale is None


def test_signed_out_pages_follow_the_browser(client):
    response = client.get("/login", headers={"Accept-Language": "es-ES,es;q=0.9"})
    assert response.status_code == 200 and html_lang(response) == "es"
    assert html_lang(client.get("/login")) == "en"
    assert html_lang(client.get("/no-such-page", headers=GERMAN)) == "de"  # error pages too


@pytest.mark.parametrize(
    ("asked", "spoken"),
    [
        ("de-AT,en;q=0.5", "de"),  # a regional language, over a less wanted exact one
        ("es-MX,es;q=0.9,en;q=0.8", "es"),
        ("fr-FR,fr;q=0.9,de;q=0.7,en;q=0.5", "de"),  # the first the app speaks
        ("fr-FR,fr;q=0.9", "en"),  # none: the company's default
        ("en-US,de;q=0.5", "en"),
    ],
)
def test_the_browsers_languages_are_taken_in_its_order_regions_as_their_language(
    client, asked, spoken
):
    assert html_lang(client.get("/login", headers={"Accept-Language": asked})) == spoken


def test_only_signed_in_people_reach_the_setting(client, client_as, make_user):
    for response in (client.get("/settings/language"), choose(client, "de")):
        assert response.status_code == 302 and "/login" in response.headers["Location"]
    gone = make_user(active=False)
    response = choose(client_as(gone), "de")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert db.session.get(User, gone.id).locale is None


def test_a_company_default_outside_the_languages_refuses_to_start():
    with pytest.raises(ConfigurationError, match="SERVICEIDEAS_DEFAULT_LOCALE"):
        create_app({"DEFAULT_LOCALE": "fr"})


@pytest.mark.parametrize(("language", "explained"), [("en", True), ("de", False)])
def test_a_refused_address_is_explained_in_english_only_to_english_readers(
    app, language, explained
):
    # email_validator's reasons are English: another language gets the sentence without one.
    asking = app.test_request_context("/", headers={"Accept-Language": language})
    with asking, pytest.raises(RuleViolation) as refused:
        services.check_email("nope")
    assert ("@-sign" in refused.value.message) is explained


def test_what_is_written_to_someone_who_never_chose_follows_the_browser_they_signed_in_with(
    app, client, make_user
):
    from serviceideas.i18n import locale_for
    from serviceideas.notifications.queries import languages_of
    from tests.conftest import PASSWORD

    person = make_user(email="ines@example.com")
    assert locale_for(person) == "en"  # never signed in: the company's default
    client.post(
        "/login",
        data={"email": "ines@example.com", "password": PASSWORD},
        headers={"Accept-Language": "es-ES,es;q=0.9"},
    )
    db.session.refresh(person)
    assert person.locale is None and person.browser_locale == "es"
    just_them = sa.select(User.id).where(User.id == person.id)
    assert locale_for(person) == "es" and languages_of(just_them) == ["es"]  # the SQL twin agrees
    person.directory_locale = "en"  # the directory's beats the browser, in Python and in SQL
    db.session.commit()
    assert locale_for(person) == "en" and languages_of(just_them) == ["en"]
    person.locale = "de"  # a choice beats both
    db.session.commit()
    assert locale_for(person) == "de" and languages_of(just_them) == ["de"]


def test_the_company_default_has_its_own_option_and_confirmation(client_as, make_user):
    # No language the app speaks from the browser, none from the directory: the default's.
    client = client_as(make_user())
    page = client.get("/settings/language", headers={"Accept-Language": "fr"}).get_data(
        as_text=True
    )
    assert "The company's default: English" in page
    assert "The company&#39;s default language (now: English)" in page
    assert "browser&#39;s language" not in page
    saved = client.post("/settings/language", data={"language": ""})
    assert saved.status_code == 303
    page = client.get("/settings/language").get_data(as_text=True)
    assert (
        "Saved: you now read serviceideas in the company&#39;s default language (now English)."
        in page
    )


def test_a_stored_language_the_app_does_not_speak_is_passed_over_in_python_and_sql(app, make_user):
    from serviceideas.i18n import locale_for
    from serviceideas.notifications.queries import languages_of

    person = make_user()
    person.locale = "fr"  # kept when the app spoke French: LANGUAGES changed since
    person.directory_locale = "fr"
    person.browser_locale = "es"
    db.session.commit()
    just_them = sa.select(User.id).where(User.id == person.id)
    assert locale_for(person) == "es" and languages_of(just_them) == ["es"]
    person.browser_locale = "xx"
    db.session.commit()
    assert locale_for(person) == "en" and languages_of(just_them) == ["en"]
