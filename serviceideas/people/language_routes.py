"""The language setting of a signed-in person's settings (docs/product.md, "Languages")."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext, refresh
from flask_login import current_user

from serviceideas import refusals
from serviceideas.i18n import (
    LanguageSource,
    browser_language,
    language_name,
    page_language_source,
)
from serviceideas.people import services
from serviceideas.people.forms import LanguageForm
from serviceideas.people.models import User
from serviceideas.people.policies import signed_in
from serviceideas.writes import commit_or_refuse

bp = Blueprint("language", __name__, url_prefix="/settings/language")


@bp.route("", methods=["GET", "POST"])
@signed_in
def edit() -> ResponseReturnValue:
    """GET: the languages, the person's choice marked, and where the language in use comes
    from when they have chosen none. POST: keep the one chosen, then say so in it."""
    languages = current_app.config["LANGUAGES"]
    browser = browser_language()
    form = LanguageForm()
    form.offer(_automatic(current_user), languages)
    page = url_for("language.edit")
    if request.method == "POST":
        if form.validate_on_submit() and commit_or_refuse(
            lambda: services.choose_language(
                current_user, form.language.data or None, languages, browser
            ),
            form=form,
            field="language",
        ):
            refresh()  # this request's texts from here on are in the language just chosen
            flash(_saved(page_language_source(current_user)), "success")
            return redirect(page, code=303)
        return refusals.refuse(form, page)
    if not refusals.restore(form):
        form.language.data = current_user.locale if current_user.locale in languages else ""
    return render_template(
        "people/language.html", form=form, in_use=page_language_source(current_user)
    )


def _automatic(person: User) -> LanguageSource:
    """The language `person` reads when they choose none, and where it comes from: the
    company directory's, else the browser's, else the company's default (what
    `page_language_source` gives someone with no choice)."""
    directory = person.directory_locale
    if directory in current_app.config["LANGUAGES"]:
        return LanguageSource(str(directory), "directory")
    return page_language_source(None)  # nobody's: the browser's, else the default


def _saved(in_use: LanguageSource) -> str:
    """What saving says: the language now read, and why."""
    language = language_name(in_use.language)
    if in_use.source == "chosen":
        return gettext("Saved: you now read serviceideas in %(language)s.", language=language)
    if in_use.source == "directory":
        return gettext(
            "Saved: you now read serviceideas in the language your company directory "
            "gives (now %(language)s).",
            language=language,
        )
    if in_use.source == "browser":
        return gettext(
            "Saved: you now read serviceideas in your browser's language (now %(language)s).",
            language=language,
        )
    return gettext(
        "Saved: you now read serviceideas in the company's default language (now %(language)s).",
        language=language,
    )
