"""SERVICEIDEAS_PASSWORD_SIGN_IN=off: everyone signs in with the identity provider, except the
break-glass admins named in SERVICEIDEAS_BREAK_GLASS_ADMINS, who alone may use a password and
be given a password-set link (docs/product.md, "Password sign-in and break-glass admins").

Nobody follows the provider's button here, so the issuer is an address nothing answers at.
With password sign-in on (the default) nothing changes: the other tests in tests/people."""

from __future__ import annotations

import re

import pytest

from serviceideas import create_app
from serviceideas.config import ConfigurationError
from serviceideas.extensions import db
from serviceideas.people import services
from serviceideas.people.models import Role
from tests.conftest import PASSWORD

GLASS = "glass@example.com"
PROVIDER = "Contoso"
REFUSAL = (
    "That e-mail address and password do not match the account of a named administrator: "
    f"password sign-in is for them only. Sign in with {PROVIDER}."
)
ADMIN_SIGN_IN = "Administrator sign-in with a password"


@pytest.fixture
def app_settings():
    return {
        "PASSWORD_SIGN_IN": False,
        "PASSWORD_SIGN_IN_ADMINS": [GLASS, "listed-employee@example.com"],
        "OIDC_ISSUER": "http://127.0.0.1:9/",
        "OIDC_CLIENT_ID": "serviceideas",
        "OIDC_CLIENT_SECRET": "not-a-secret",
        "OIDC_PROVIDER_NAME": PROVIDER,
    }


@pytest.fixture
def glass_admin(make_user):
    return make_user(Role.ADMIN, email=GLASS, name="Gail Glass")


def without_csrf_token(page: str) -> str:
    """The page with its CSRF token blanked: in the form's field and in htmx's headers."""
    page = re.sub(r'name="csrf_token"[^>]*>', "", page)
    return re.sub(r'("X-CSRFToken": )"[^"]+"', r'\1"…"', page)


def text(response):
    return response.get_data(as_text=True)


def sign_in(client, email, password=PASSWORD):
    return client.post("/login", data={"email": email, "password": password})


def signed_in(client):
    return client.get("/").status_code == 200


# Signing in


def test_the_sign_in_page_has_no_password_form_but_a_link_for_break_glass_admins(client):
    page = text(client.get("/login?next=/ideas"))
    assert 'name="password"' not in page
    assert "Ask an administrator for a password-set link" not in page
    assert f'<a href="/login?with=password&amp;next=/ideas">{ADMIN_SIGN_IN}</a>' in page

    admins = text(client.get("/login?with=password&next=/ideas"))
    assert 'name="password"' in admins and 'value="/ideas"' in admins
    assert f'<h2 id="password-sign-in">{ADMIN_SIGN_IN}</h2>' in admins


@pytest.mark.parametrize(
    "who",
    ["employee", "unknown", "listed employee", "admin not listed", "listed admin deactivated"],
)
def test_anyone_but_a_break_glass_admin_is_refused_even_with_the_right_password(
    client, make_user, who
):
    email = {
        "employee": lambda: make_user().email,
        "unknown": lambda: "nobody@example.com",
        "listed employee": lambda: make_user(email="listed-employee@example.com").email,
        "admin not listed": lambda: make_user(Role.ADMIN).email,
        "listed admin deactivated": lambda: make_user(Role.ADMIN, email=GLASS, active=False).email,
    }[who]()
    response = sign_in(client, email)
    page = text(response)
    assert response.status_code == 403
    assert REFUSAL in page  # the same words whether the account exists or not
    assert f'value="{email}"' in page and 'name="password"' in page  # the form, as typed
    assert not signed_in(client)


def test_a_break_glass_admin_signs_in_with_their_password(client, glass_admin):
    response = sign_in(client, GLASS.upper())
    assert response.status_code == 303
    assert signed_in(client)


def test_a_wrong_password_and_someone_not_listed_get_the_same_answer(
    client, glass_admin, make_user
):
    """Status, words and form alike: the answer does not tell which addresses are the
    break-glass admins'."""
    wrong = sign_in(client, GLASS, "not the password")
    unlisted = sign_in(client, make_user(Role.ADMIN, email="unlisted@example.com").email)

    assert wrong.status_code == unlisted.status_code == 403
    pages = [  # the address typed, and the CSRF token (signed with the time) wherever it is
        without_csrf_token(text(response).replace(email, "…"))
        for response, email in ((wrong, GLASS), (unlisted, "unlisted@example.com"))
    ]
    assert pages[0] == pages[1]
    assert REFUSAL in pages[1]
    assert not signed_in(client)


@pytest.mark.parametrize(
    "who",
    ["unknown", "not listed", "listed, not an admin", "listed, deactivated", "wrong password"],
)
def test_every_refusal_compares_the_password_once(client, make_user, monkeypatch, who):
    """Each refusal costs one password hash, as a break-glass admin's wrong password does:
    the time taken does not tell them apart either."""
    email, password = {
        "unknown": lambda: ("nobody@example.com", PASSWORD),
        "not listed": lambda: (make_user(Role.ADMIN).email, PASSWORD),
        "listed, not an admin": lambda: (make_user(email=GLASS).email, PASSWORD),
        "listed, deactivated": lambda: (
            make_user(Role.ADMIN, email=GLASS, active=False).email,
            PASSWORD,
        ),
        "wrong password": lambda: (make_user(Role.ADMIN, email=GLASS).email, "not the password"),
    }[who]()
    compared = []
    check = services.check_password_hash
    monkeypatch.setattr(
        services, "check_password_hash", lambda *args: compared.append(1) or check(*args)
    )
    response = sign_in(client, email, password)
    assert response.status_code == 403 and REFUSAL in text(response)
    assert compared == [1]


def test_a_listed_person_who_is_no_longer_an_admin_is_refused(client, glass_admin):
    glass_admin.set_roles(set())
    db.session.commit()
    response = sign_in(client, GLASS)
    assert response.status_code == 403 and REFUSAL in text(response)
    assert not signed_in(client)


def test_refusals_count_towards_the_sign_in_rate_limit(client, make_user):
    email = make_user().email
    assert [sign_in(client, email).status_code for _ in range(5)] == [403] * 5
    assert sign_in(client, email).status_code == 429  # 5 a minute per account (config.py)


# Password-set links


def test_the_admin_page_offers_and_makes_links_only_for_break_glass_admins(
    client_as, glass_admin, make_user
):
    admin = client_as(glass_admin)
    person = make_user(name="Pat Person")

    page = text(admin.get(f"/admin/users/{person.id}"))
    assert "Create a password-set link" not in page
    assert f"They sign in with {PROVIDER}" in page

    refused = admin.post(f"/admin/users/{person.id}/password-link")
    assert refused.status_code == 303
    page = text(admin.get(refused.headers["Location"]))
    assert "only for the break-glass administrators" in page
    assert "Pat Person signs in with Contoso." in page

    assert "Create a password-set link" in text(admin.get(f"/admin/users/{glass_admin.id}"))
    made = text(admin.post(f"/admin/users/{glass_admin.id}/password-link"))
    assert 'id="password-link"' in made and "/password/" in made


def test_a_person_added_by_an_admin_is_told_to_use_the_provider(client_as, glass_admin):
    added = client_as(glass_admin).post(
        "/admin/users/new",
        data={
            "email": "new@example.com",
            "name": "Nia New",
            "department": glass_admin.department_id,
        },
        follow_redirects=True,
    )
    assert f"Nia New added. They sign in with {PROVIDER}." in text(added)


def test_an_old_link_for_anyone_else_is_dead(client, glass_admin, make_user):
    person = make_user()
    link = f"/password/{services.password_set_token(person)}"
    opened = client.get(link)
    assert opened.status_code == 404 and "This link no longer works" in text(opened)
    assert f"Sign in with {PROVIDER}." in text(opened)
    sent = client.post(
        link, data={"password": "a good new password", "confirm": "a good new password"}
    )
    assert sent.status_code == 404
    assert services.authenticate(person.email, PASSWORD) is not None  # unchanged

    assert client.get(f"/password/{services.password_set_token(glass_admin)}").status_code == 200


def run(app, *args, input=None):
    return app.test_cli_runner().invoke(args=list(args), input=input)


def test_the_command_line_makes_links_only_for_break_glass_admins(app, glass_admin, make_user):
    person = make_user()
    refused = run(app, "password-link", person.email)
    assert refused.exit_code == 2
    assert "only for the break-glass administrators" in refused.output
    assert f"{person.email} is not one" in refused.output

    made = run(app, "password-link", GLASS)
    assert made.exit_code == 0, made.output
    link = made.output.split()[-1]
    assert link.startswith(app.config["BASE_URL"] + "/password/")
    assert app.test_client().get(link.removeprefix(app.config["BASE_URL"])).status_code == 200


@pytest.mark.parametrize("app_settings", [{}])  # password sign-in on, no provider
def test_with_passwords_on_the_command_line_makes_a_link_for_anyone_active(app, make_user):
    assert run(app, "password-link", "nobody@example.com").exit_code == 2
    assert "No active person" in run(app, "password-link", make_user(active=False).email).output

    person = make_user(password=None)
    made = run(app, "password-link", person.email.upper())
    assert made.exit_code == 0, made.output
    assert "working once for 72 hours" in made.output
    path = made.output.split()[-1].removeprefix(app.config["BASE_URL"])
    new = {"password": "a good new password", "confirm": "a good new password"}
    assert app.test_client().post(path, data=new).status_code == 303
    assert services.authenticate(person.email, "a good new password") is not None


def test_the_command_line_gives_passwords_only_to_break_glass_admins(app, make_department):
    department = make_department("IT").name
    employee = run(
        app, "create-user", "e@example.com", "--name", "Em", "--department", department,
        "--password-stdin", input="a long enough password\n",
    )  # fmt: skip
    assert employee.exit_code == 2 and "only for the break-glass administrators" in employee.output
    assert services.find_user("e@example.com") is None

    admin = run(
        app, "create-user", GLASS, "--name", "Gail", "--department", department, "--role", "admin",
        "--password-stdin", input="a long enough password\n",
    )  # fmt: skip
    assert admin.exit_code == 0, admin.output
    assert services.authenticate(GLASS, "a long enough password") is not None


# Start-up checks


def test_password_sign_in_off_without_a_provider_refuses_to_start(monkeypatch):
    monkeypatch.delenv("OIDC_ISSUER", raising=False)
    monkeypatch.setenv("SERVICEIDEAS_PASSWORD_SIGN_IN", "off")
    with pytest.raises(ConfigurationError, match="OIDC_ISSUER"):
        create_app()


def test_a_password_switch_neither_on_nor_off_refuses_to_start(monkeypatch):
    monkeypatch.setenv("SERVICEIDEAS_PASSWORD_SIGN_IN", "maybe")
    with pytest.raises(ConfigurationError, match=r"SERVICEIDEAS_PASSWORD_SIGN_IN: .*on or off"):
        create_app()
