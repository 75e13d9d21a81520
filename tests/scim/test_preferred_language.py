"""A person's language from the directory: the core User's `preferredLanguage`, kept as the
language the app speaks ("es" for "es-MX") or as none, never refused (docs/product.md,
"Languages")."""

from __future__ import annotations

import sqlalchemy as sa

from serviceideas.extensions import db
from serviceideas.i18n import locale_for
from serviceideas.notifications.queries import languages_of
from serviceideas.people.models import Role, User
from tests.scim.conftest import (
    ENTERPRISE,
    PATCH_OP,
    USER_SCHEMA,
    body,
    log,
    new_user,
    scim_error,
)


def stored(user_id: str) -> User:
    db.session.expire_all()
    return db.session.get(User, int(user_id))


def written_in(user_id: str) -> tuple[str, list[str]]:
    """The language e-mails and notifications are written to them in, in Python and in SQL."""
    person = stored(user_id)
    return locale_for(person), languages_of(sa.select(User.id).where(User.id == person.id))


def patch(*operations: dict) -> dict:
    return {"schemas": [PATCH_OP], "Operations": list(operations)}


def test_a_person_created_with_a_regional_language_is_written_to_in_it(app, directory, sales):
    app.config["DEFAULT_LOCALE"] = "de"
    created = directory.post("/Users", {**new_user(), "preferredLanguage": "es-MX"})

    assert created.status_code == 201, body(created)
    user_id = body(created)["id"]
    assert body(created)["preferredLanguage"] == "es"  # only the language is kept
    assert stored(user_id).directory_locale == "es"
    assert written_in(user_id) == ("es", ["es"])
    listed = body(
        directory.get("/Users", query_string={"filter": 'userName eq "jane.doe@example.com"'})
    )
    assert listed["Resources"][0]["preferredLanguage"] == "es"

    person = stored(user_id)
    person.locale = "en"  # their own choice still wins
    db.session.commit()
    assert written_in(user_id) == ("en", ["en"])


def test_entra_and_okta_change_and_remove_it_in_their_spellings(app, directory, sales):
    user_id = body(directory.post("/Users", new_user()))["id"]
    assert stored(user_id).directory_locale is None

    steps = [
        # Entra ID: capitalised ops, a bare path; its remove names the attribute.
        ({"op": "Replace", "path": "preferredLanguage", "value": "de-DE"}, "de"),
        ({"op": "Remove", "path": "preferredLanguage"}, None),
        ({"op": "Add", "path": f"{USER_SCHEMA}:preferredLanguage", "value": "ES"}, "es"),
        # Okta: a replace without a path, its value an object.
        ({"op": "replace", "value": {"preferredLanguage": "de_AT"}}, "de"),
        ({"op": "remove", "path": "preferredLanguage"}, None),
    ]
    for operation, language in steps:
        answer = directory.patch(f"/Users/{user_id}", patch(operation))
        assert answer.status_code == 200, (operation, body(answer))
        assert stored(user_id).directory_locale == language, operation
        assert body(directory.get(f"/Users/{user_id}")).get("preferredLanguage") == language


def test_a_language_the_app_does_not_speak_or_junk_is_kept_as_none(app, directory, sales):
    created = directory.post("/Users", {**new_user(), "preferredLanguage": "fr-FR"})
    assert created.status_code == 201, body(created)
    user_id = body(created)["id"]
    assert stored(user_id).directory_locale is None
    assert "preferredLanguage" not in body(directory.get(f"/Users/{user_id}"))

    for junk in ("!!", "", "   ", "x" * 300, "es-" * 50):
        answer = directory.patch(
            f"/Users/{user_id}",
            patch({"op": "Replace", "path": "preferredLanguage", "value": "es"}),
        )
        assert answer.status_code == 200
        answer = directory.patch(
            f"/Users/{user_id}",
            patch({"op": "Replace", "path": "preferredLanguage", "value": junk}),
        )
        assert answer.status_code == 200, (junk, body(answer))
        assert stored(user_id).directory_locale == ("es" if junk.startswith("es-") else None)


def test_a_put_without_it_keeps_none_as_for_every_optional_attribute(app, directory, sales):
    user = {**new_user(), "preferredLanguage": "de"}
    user_id = body(directory.post("/Users", user))["id"]
    assert stored(user_id).directory_locale == "de"

    again = {key: value for key, value in user.items() if key != "preferredLanguage"}
    answer = directory.put(f"/Users/{user_id}", again)

    assert answer.status_code == 200, body(answer)
    assert stored(user_id).directory_locale is None  # RFC 7644's replace: absent is none
    assert stored(user_id).scim_external_id == "b1c2d3"
    assert ENTERPRISE in body(answer)


def test_a_break_glass_admins_language_is_out_of_the_directorys_reach(
    app, directory, sales, make_user
):
    """The directory cannot touch a break-glass admin, their language included: the
    preferredLanguage it sends (or leaves out) is not applied, and the rest of the request is
    judged as before."""
    app.config["PASSWORD_SIGN_IN_ADMINS"] = ["boss@example.com"]
    boss = make_user(Role.ADMIN, email="boss@example.com", name="Bo Boss", department=sales)
    boss.directory_locale = "de"  # from a company sign-in's locale claim
    db.session.commit()
    path = f"/Users/{boss.id}"
    profile = {
        key: value
        for key, value in new_user("boss@example.com", given="Bo", family="Boss").items()
        if key != "externalId"
    }

    okta_push = directory.put(path, profile)  # a profile push, without preferredLanguage
    assert okta_push.status_code == 200, body(okta_push)
    assert log()[-1].outcome == "Updated boss@example.com: nothing changed"
    entra_sync = directory.patch(
        path, patch({"op": "Replace", "path": "preferredLanguage", "value": "es-ES"})
    )
    assert entra_sync.status_code == 200, body(entra_sync)
    assert directory.put(path, {**profile, "preferredLanguage": "es"}).status_code == 200
    assert stored(str(boss.id)).directory_locale == "de"
    assert log()[-1].outcome == "Updated boss@example.com: nothing changed"

    renamed = patch(
        {"op": "Replace", "path": "preferredLanguage", "value": "es"},
        {"op": "Replace", "path": "displayName", "value": "Someone Else"},
    )
    scim_error(directory.patch(path, renamed), 400, "mutability")
    assert (stored(str(boss.id)).name, stored(str(boss.id)).directory_locale) == ("Bo Boss", "de")


def test_only_a_request_that_carries_it_changes_the_language(app, directory, sales):
    user_id = body(directory.post("/Users", {**new_user(), "preferredLanguage": "de"}))["id"]
    person = stored(user_id)
    person.directory_locale = "fr"  # kept when the app spoke French; LANGUAGES changed since
    db.session.commit()

    renamed = patch({"op": "Replace", "path": "displayName", "value": "Jane Q. Doe"})
    answer = directory.patch(f"/Users/{user_id}", renamed)
    assert answer.status_code == 200, body(answer)
    assert stored(user_id).directory_locale == "fr"
    assert log()[-1].outcome == "Updated jane.doe@example.com: name"

    removed = patch({"op": "Remove", "path": "preferredLanguage"})
    assert directory.patch(f"/Users/{user_id}", removed).status_code == 200
    assert stored(user_id).directory_locale is None
    assert log()[-1].outcome == "Updated jane.doe@example.com: language"
