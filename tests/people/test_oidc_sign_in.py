"""Company sign-in (docs/product.md, "Who may sign in, and how"), against a real OpenID provider
on loopback (tests/identity_provider): who is matched, refused or created, roles from groups,
where people land, signing out at the provider too, and a provider that is down or not
configured. Bad ID tokens are tests/people/test_oidc_tokens.py's."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa

from serviceideas.config import environment_overrides
from serviceideas.extensions import db
from serviceideas.notifications.models import Notification
from serviceideas.people.models import Role, RoleChange, RoleChangeSource, User
from tests.conftest import PASSWORD, TEST_BASE_URL, app_for, settings_for_tests
from tests.identity_provider import free_port, path_and_query

CALLBACK = f"{TEST_BASE_URL}/login/oidc/callback"


@pytest.fixture
def app_settings(identity_provider):
    return identity_provider.settings()


def start(client, next_url=None):
    response = client.get("/login/oidc", query_string={"next": next_url} if next_url else None)
    assert response.status_code == 302, response.get_data(as_text=True)
    return response.location


def sign_in(client, oidc, sub):
    """Through the provider and back to the app: the callback's answer and its URL."""
    back = oidc.sign_in(start(client), sub)
    assert back.startswith(CALLBACK + "?"), back
    return client.get(path_and_query(back)), back


def stored(person):
    db.session.expire_all()
    return db.session.get(User, person.id)


def text(response):
    return response.get_data(as_text=True)


def assert_refused(client, response, status, words):
    assert response.status_code == status, text(response)
    assert words in text(response)
    assert "Sign in with Test IdP" in text(response)  # start again from there
    assert client.get("/").status_code == 302  # nobody is signed in


# Who comes in


def test_a_known_person_signs_in_by_verified_email_which_stores_their_subject(
    client, oidc, make_user
):
    person = make_user(email="jane.doe@example.com", name="Jane Doe")
    oidc.add_account(sub="jane-1", email="Jane.Doe@Example.com", name="J. D.")

    landed = client.get(path_and_query(oidc.sign_in(start(client, "/ideas?mine=1"), "jane-1")))

    assert landed.status_code == 303
    assert landed.location == "/ideas?mine=1"  # where they were going
    assert client.get("/").status_code == 200
    assert stored(person).oidc_subject == "jane-1"
    assert stored(person).name == "Jane Doe"  # the app's name stays


def test_later_the_subject_finds_them_and_a_new_verified_email_follows(client, oidc, make_user):
    person = make_user(email="jane.doe@example.com")
    person.oidc_subject = "jane-1"
    taken = make_user(email="taken@example.com")
    db.session.commit()
    oidc.add_account(sub="jane-1", email="jane.smith@example.com")

    response, _ = sign_in(client, oidc, "jane-1")

    assert response.status_code == 303
    assert stored(person).email == "jane.smith@example.com"
    # An address someone here already has is not taken from them; the person still gets in.
    client.post("/logout")
    oidc.add_account(sub="jane-1", email="taken@example.com")
    response, _ = sign_in(client, oidc, "jane-1")
    assert response.status_code == 303
    assert stored(person).email == "jane.smith@example.com"
    assert stored(taken).oidc_subject is None


def test_an_email_the_provider_has_not_verified_matches_nobody(app, client, oidc, make_user):
    person = make_user(email="jane@example.com")
    oidc.add_account(sub="jane-1", email="jane@example.com", email_verified=False)

    response, _ = sign_in(client, oidc, "jane-1")

    assert_refused(client, response, 403, "has not confirmed that jane@example.com")
    assert stored(person).oidc_subject is None


def test_oidc_trust_email_takes_an_email_sent_without_email_verified(app, client, oidc, make_user):
    """Entra ID sends no email_verified at all (config.py, OIDC_TRUST_EMAIL)."""
    person = make_user(email="jane@example.com")
    oidc.set_accounts([{"sub": "jane-1", "email": "jane@example.com"}])
    response, _ = sign_in(client, oidc, "jane-1")
    assert_refused(client, response, 403, "has not confirmed")

    app.config["OIDC_TRUST_EMAIL"] = True
    response, _ = sign_in(client, oidc, "jane-1")

    assert response.status_code == 303
    assert stored(person).oidc_subject == "jane-1"


def test_email_verified_is_taken_only_beside_the_email_it_is_about(client, oidc, make_user):
    """The userinfo endpoint's email_verified does not vouch for the ID token's email: it may
    be about another address. Each is read with the email it came with."""
    person = make_user(email="jane@example.com")
    other = make_user(email="jane.other@example.com")
    oidc.set_accounts(
        [{"sub": "jane-1", "email": "jane@example.com", "userinfo": {"email_verified": True}}]
    )
    response, _ = sign_in(client, oidc, "jane-1")
    assert_refused(client, response, 403, "has not confirmed that jane@example.com")

    # No email in the ID token: the userinfo's email and its email_verified, together.
    oidc.set_accounts(
        [
            {
                "sub": "jane-1",
                "email_verified": False,
                "userinfo": {"email": "jane.other@example.com", "email_verified": True},
            }
        ]
    )
    response, _ = sign_in(client, oidc, "jane-1")
    assert response.status_code == 303, text(response)
    assert (stored(person).oidc_subject, stored(other).oidc_subject) == (None, "jane-1")


def test_an_email_whose_account_belongs_to_another_subject_is_refused(client, oidc, make_user):
    """The address was given to someone new at the provider: the old holder's account stays
    closed to them."""
    person = make_user(email="jane@example.com")
    person.oidc_subject = "jane-the-first"
    db.session.commit()
    oidc.add_account(sub="jane-the-second", email="jane@example.com")

    response, _ = sign_in(client, oidc, "jane-the-second")

    assert_refused(client, response, 403, "belongs to another Test IdP account")
    assert stored(person).oidc_subject == "jane-the-first"


@pytest.mark.parametrize("linked", [False, True], ids=["by e-mail", "by subject"])
def test_a_deactivated_person_is_refused_whatever_the_provider_says(
    client, oidc, make_user, linked
):
    person = make_user(email="jane@example.com", active=False)
    person.oidc_subject = "jane-1" if linked else None
    db.session.commit()
    oidc.add_account(sub="jane-1", email="jane@example.com")

    response, _ = sign_in(client, oidc, "jane-1")

    assert_refused(client, response, 403, "deactivated")
    assert stored(person).oidc_subject == ("jane-1" if linked else None)


def test_someone_unknown_is_refused_unless_people_are_created(client, oidc):
    oidc.add_account(sub="new-1", email="newcomer@example.com", department="Kitchen")

    response, _ = sign_in(client, oidc, "new-1")

    assert_refused(client, response, 403, "no account here for newcomer@example.com")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0


# People made at their first sign-in (OIDC_CREATE_PEOPLE)


@pytest.mark.parametrize(
    ("claimed", "default", "lands_in"),
    [
        ("kitchen", None, "Kitchen"),  # the claim, matched by name ignoring case
        ("Somewhere unknown", "Front desk", "Front desk"),  # else DEFAULT_DEPARTMENT
        (None, "front DESK", "Front desk"),
    ],
)
def test_a_newcomer_is_created_in_the_claimed_or_default_department(
    app, client, oidc, make_department, claimed, default, lands_in
):
    make_department("Kitchen")
    make_department("Front desk")
    app.config.update(OIDC_CREATE_PEOPLE=True, DEFAULT_DEPARTMENT=default)
    claims = {"department": claimed} if claimed else {}
    oidc.add_account(
        sub="new-1", email="Newcomer@Example.com", given_name="Nia", family_name="Newton", **claims
    )

    response, _ = sign_in(client, oidc, "new-1")

    assert response.status_code == 303, text(response)
    person = db.session.scalar(sa.select(User).where(User.email == "newcomer@example.com"))
    assert (person.name, person.department.name, person.oidc_subject) == (
        "Nia Newton",
        lands_in,
        "new-1",
    )
    assert person.granted_roles == frozenset()
    assert "Hello, Nia" in text(client.get("/"))


def test_control_characters_in_the_claims_are_dropped_or_refused(
    app, client, oidc, make_department
):
    """NUL and other control characters (which PostgreSQL cannot store, or no page shows) are
    dropped from a name and a department; an e-mail or a subject with them is no address and
    no identifier: refused, never a 500."""
    make_department("Kitchen")
    app.config.update(OIDC_CREATE_PEOPLE=True, DEFAULT_DEPARTMENT=None)
    oidc.add_account(
        sub="new-1",
        email="newcomer@example.com",
        name="Nia\x00 New\x07ton",
        department="Kit\x00chen",
    )
    response, _ = sign_in(client, oidc, "new-1")
    assert response.status_code == 303, text(response)
    person = db.session.scalar(sa.select(User).where(User.oidc_subject == "new-1"))
    assert (person.name, person.department.name) == ("Nia Newton", "Kitchen")

    client.post("/logout")
    oidc.reset()  # the provider forgets who signed in there too
    oidc.add_account(sub="new-2", email="other\x00@example.com", name="Olly Other")
    response, _ = sign_in(client, oidc, "new-2")
    assert_refused(client, response, 403, "did not share your e-mail address")

    oidc.reset()
    oidc.add_account(sub="new\x003", email="third@example.com", department="Kitchen")
    response, _ = sign_in(client, oidc, "new\x003")
    assert_refused(client, response, 403, "an identifier this app cannot store")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 1


def html_lang(response):
    return re.search(r'<html lang="([^"]*)"', text(response)).group(1)


def test_a_newcomer_meets_the_app_in_the_language_the_provider_gives(
    app, client, oidc, make_department
):
    """The `locale` claim (OIDC_LOCALE_CLAIM), as a language the app speaks; the person's own
    choice still wins, and a language the app does not speak leaves it automatic."""
    make_department("Kitchen")
    app.config.update(OIDC_CREATE_PEOPLE=True)
    oidc.add_account(sub="new-1", email="nia@example.com", department="Kitchen", locale="de-DE")

    response, _ = sign_in(client, oidc, "new-1")

    assert response.status_code == 303, text(response)
    assert html_lang(client.get(response.location)) == "de"  # the first page
    person = db.session.scalar(sa.select(User).where(User.oidc_subject == "new-1"))
    assert person.directory_locale == "de"
    client.post("/settings/language", data={"language": "es"})
    assert html_lang(client.get("/")) == "es"  # their own choice

    client.post("/logout")
    oidc.reset()
    oidc.add_account(sub="new-1", email="nia@example.com", locale="fr-FR")
    response, _ = sign_in(client, oidc, "new-1")
    assert response.status_code == 303, text(response)
    assert stored(person).directory_locale is None  # a language the app does not speak
    assert html_lang(client.get("/")) == "es"  # the choice stays
    client.post("/settings/language", data={"language": ""})
    assert html_lang(client.get("/")) == "en"  # automatic: nobody gives one, the default


def test_a_sign_in_without_the_claim_or_with_it_off_keeps_the_language(
    app, client, oidc, make_user
):
    person = make_user(email="jane@example.com")
    person.directory_locale = "es"
    db.session.commit()
    oidc.add_account(sub="jane-1", email="jane@example.com")
    response, _ = sign_in(client, oidc, "jane-1")
    assert response.status_code == 303, text(response)
    assert stored(person).directory_locale == "es"  # no claim: as it was

    client.post("/logout")
    oidc.reset()
    app.config["OIDC_LOCALE_CLAIM"] = ""  # off
    oidc.add_account(sub="jane-1", email="jane@example.com", locale="de")
    response, _ = sign_in(client, oidc, "jane-1")
    assert response.status_code == 303, text(response)
    assert stored(person).directory_locale == "es"


def test_oidc_locale_claim_is_read_from_the_environment_and_empty_turns_it_off():
    assert environment_overrides({"OIDC_LOCALE_CLAIM": "lang"}) == {"OIDC_LOCALE_CLAIM": "lang"}
    assert environment_overrides({"OIDC_LOCALE_CLAIM": ""}) == {"OIDC_LOCALE_CLAIM": ""}
    assert environment_overrides({}) == {}


def test_a_logout_token_for_a_subject_with_nul_ends_nothing(client, oidc, make_user):
    """Nobody here has such a subject (never stored): a 200 that changes nothing, not a 500."""
    response = client.post(
        "/login/oidc/backchannel-logout", data={"logout_token": oidc.logout_token(sub="jane\x00")}
    )
    assert response.status_code == 200, text(response)


def test_a_newcomer_without_a_known_or_default_department_is_refused(app, client, oidc):
    app.config.update(OIDC_CREATE_PEOPLE=True, DEFAULT_DEPARTMENT=None)
    oidc.add_account(sub="new-1", email="newcomer@example.com", department="Nowhere")

    response, _ = sign_in(client, oidc, "new-1")

    assert_refused(client, response, 403, "no default department is set")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0


# Roles from the provider's groups (OIDC_GROUPS_CLAIM): the provider wins


def test_each_sign_in_sets_roles_from_the_groups_claim_and_records_the_changes(
    app, client, oidc, make_user
):
    app.config.update(
        OIDC_GROUPS_CLAIM="groups",
        OIDC_ROLE_GROUPS={"manager": "Service Managers", "admin": "Ideas Admins"},
    )
    person = make_user(Role.TRAINER, email="jane@example.com")
    oidc.add_account(sub="jane-1", email="jane@example.com", groups=["service managers", "All"])

    response, _ = sign_in(client, oidc, "jane-1")

    assert response.status_code == 303
    assert stored(person).granted_roles == {Role.MANAGER}
    changes = db.session.scalars(
        sa.select(RoleChange).where(RoleChange.person_id == person.id).order_by(RoleChange.id)
    ).all()
    assert [(c.role, c.granted, c.source, c.actor_id) for c in changes] == [
        (Role.MANAGER, True, RoleChangeSource.IDENTITY_PROVIDER, None),
        (Role.TRAINER, False, RoleChangeSource.IDENTITY_PROVIDER, None),
    ]
    told = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Notification)
        .where(Notification.user_id == person.id)
    )
    assert told == 1  # as for any role change

    # Out of every group: back to employee at the next sign-in.
    client.post("/logout")
    oidc.add_account(sub="jane-1", email="jane@example.com", groups=[])
    sign_in(client, oidc, "jane-1")
    assert stored(person).granted_roles == frozenset()


def test_without_a_groups_claim_setting_roles_stay_as_the_app_has_them(client, oidc, make_user):
    person = make_user(Role.MANAGER, email="jane@example.com")
    oidc.add_account(sub="jane-1", email="jane@example.com", groups=["Ideas Admins"])

    sign_in(client, oidc, "jane-1")

    assert stored(person).granted_roles == {Role.MANAGER}


# The way in and out


def test_a_callback_used_twice_is_refused(app, client, oidc, make_user):
    make_user(email="jane@example.com")
    oidc.add_account(sub="jane-1", email="jane@example.com")
    response, back = sign_in(client, oidc, "jane-1")
    assert response.status_code == 303

    for replaying in (client, app.test_client()):
        replayed = replaying.get(path_and_query(back))
        assert replayed.status_code == 400
        assert "expired or was already used" in text(replayed)
    assert app.test_client().get("/").status_code == 302


def test_an_unsafe_next_is_ignored(client, oidc, make_user):
    make_user(email="jane@example.com")
    oidc.add_account(sub="jane-1", email="jane@example.com")

    location = start(client, "//evil.example/steal")
    response = client.get(path_and_query(oidc.sign_in(location, "jane-1")))

    assert response.status_code == 303
    assert response.location == "/"


def test_the_way_to_the_provider_is_exact_and_keeps_the_session_cookie_small(client, oidc):
    for _ in range(6):  # six tabs started signing in
        location = start(client)

    query = parse_qs(urlsplit(location).query)
    assert query["redirect_uri"] == [CALLBACK]
    assert query["code_challenge_method"] == ["S256"]
    assert query["scope"] == ["openid email profile"]
    assert query["state"][0] and query["nonce"][0]
    assert len(client.get_cookie("session").value) < 1500


def test_signing_out_signs_out_at_the_provider_too(client, oidc, make_user):
    make_user(email="jane@example.com")
    oidc.add_account(sub="jane-1", email="jane@example.com")
    sign_in(client, oidc, "jane-1")

    response = client.post("/logout")

    assert response.status_code == 303
    assert response.location.startswith(oidc.metadata()["end_session_endpoint"] + "?")
    query = parse_qs(urlsplit(response.location).query)
    assert query["post_logout_redirect_uri"] == [f"{TEST_BASE_URL}/login"]
    assert query["id_token_hint"][0].count(".") == 2
    assert client.get("/").status_code == 302  # signed out of the app at once
    assert oidc.sign_out(response.location).startswith(f"{TEST_BASE_URL}/login")
    assert "You are signed out" in text(client.get("/login"))


def test_someone_who_signed_in_with_a_password_signs_out_here_only(client, oidc, make_user):
    person = make_user()
    assert (
        client.post("/login", data={"email": person.email, "password": PASSWORD}).status_code == 303
    )

    response = client.post("/logout")

    assert (response.status_code, response.location) == (303, "/login")


def test_the_limit_on_failed_sign_ins_per_address_covers_the_callback(app, client, oidc):
    app.config["LOGIN_RATE_LIMIT"] = "2 per minute"
    for _ in range(2):
        assert client.get("/login/oidc/callback?code=x&state=forged").status_code == 400
    assert client.get("/login/oidc/callback?code=x&state=forged").status_code == 429


# The sign-in page


def test_the_sign_in_page_offers_the_provider_first_carrying_next(client, oidc):
    page = text(client.get("/login?next=/ideas"))

    button = page.index("Sign in with Test IdP")
    assert 'href="/login/oidc?next=/ideas"' in page
    assert button < page.index('type="password"')


def test_a_provider_that_does_not_answer_gets_a_clear_page(database_url, client):
    down = app_for(
        settings_for_tests(
            database_url,
            OIDC_ISSUER=f"http://127.0.0.1:{free_port()}",
            OIDC_CLIENT_ID="serviceideas",
            OIDC_CLIENT_SECRET="secret",
            OIDC_PROVIDER_NAME="Contoso",
        )
    )  # it starts: nothing is asked of the provider until someone signs in
    browser = down.test_client()

    response = browser.get("/login/oidc")

    assert response.status_code == 503
    assert "Contoso does not answer just now" in text(response)
    assert "Sign in with Contoso" in text(response)
    callback = browser.get("/login/oidc/callback?code=x&state=y")
    assert callback.status_code == 503


def test_without_oidc_issuer_there_is_no_company_sign_in(database_url, client):
    plain = app_for(settings_for_tests(database_url)).test_client()

    assert plain.get("/login/oidc").status_code == 404
    assert plain.get("/login/oidc/callback?code=x&state=y").status_code == 404
    page = text(plain.get("/login"))
    assert "Sign in with" not in page and "/login/oidc" not in page


def test_the_person_page_says_when_roles_come_from_the_provider(app, client_as, make_user):
    person = make_user(email="jane@example.com")
    person.oidc_subject = "jane-1"
    db.session.commit()
    as_admin = client_as(make_user(Role.ADMIN))
    page = text(as_admin.get(f"/admin/users/{person.id}"))
    assert "Linked to their Test IdP account" in page
    assert "Roles come from their groups" not in page

    app.config.update(OIDC_GROUPS_CLAIM="groups", OIDC_ROLE_GROUPS={"admin": "Admins"})

    assert "Roles come from their groups at Test IdP" in text(
        as_admin.get(f"/admin/users/{person.id}")
    )


def test_oidc_trust_email_is_read_from_the_environment():
    assert environment_overrides({"OIDC_TRUST_EMAIL": "yes"}) == {"OIDC_TRUST_EMAIL": True}
    assert environment_overrides({"OIDC_TRUST_EMAIL": "no"}) == {"OIDC_TRUST_EMAIL": False}
