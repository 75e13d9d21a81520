"""Directory sync, for admins: SCIM tokens made on a page (shown once, stored hashed,
revoked at once) and the log of every SCIM request (SECURITY.md, "SCIM tokens")."""

from __future__ import annotations

import hashlib
import re

import pytest
import sqlalchemy as sa

from serviceideas.extensions import db
from serviceideas.people.models import Role
from serviceideas.scim.models import ScimRequest, ScimToken
from tests.conftest import count_queries, table_rows
from tests.people.conftest import refused, text

TOKENS = "/admin/scim/tokens"
LOG = "/admin/scim/requests"
# A SCIM endpoint every directory asks first; any endpoint of the service would do.
PROBE = "/scim/v2/ServiceProviderConfig"


@pytest.fixture
def admin(make_user):
    return make_user(Role.ADMIN, name="Ada Admin")


@pytest.fixture
def as_admin(client_as, admin):
    return client_as(admin)


def make_token(client, name="Microsoft Entra ID"):
    """Create a token through the page; answer the page that shows it, and the token."""
    response = client.post(TOKENS, data={"name": name})
    assert response.status_code == 303 and response.headers["Location"] == TOKENS
    shown = client.get(TOKENS)
    found = re.search(r'id="new-token-value"[^>]* value="(scim_[\w-]+)"', text(shown))
    assert found, "the new token is shown"
    assert found.group(1) not in text(response)  # shown by the GET only, never the POST
    return shown, found.group(1)


def scim(client, secret):
    return client.get(PROBE, headers={"Authorization": f"Bearer {secret}"})


def stored_cells():
    """Every value of every row of scim_tokens, as text."""
    return [str(cell) for row in db.session.execute(sa.select(ScimToken.__table__)) for cell in row]


def test_only_admins_reach_directory_sync(client_as, make_user, app):
    token = ScimToken(name="Okta", token_hash="0" * 64, prefix="scim_abc", created_by=make_user())
    db.session.add(token)
    db.session.commit()
    pages = [TOKENS, LOG, f"{TOKENS}/{token.id}/revoke"]
    for role in (None, Role.TRAINER, Role.MANAGER):
        client = client_as(make_user(role))
        assert [client.get(page).status_code for page in pages] == [403] * 3, role
        assert client.post(TOKENS, data={"name": "Mine"}).status_code == 403
        assert (
            client.post(f"{TOKENS}/{token.id}/revoke", data={"confirmed": "yes"}).status_code == 403
        )
        assert TOKENS not in text(client.get("/"))  # not offered in their navigation
    assert f'href="{TOKENS}"' in text(client_as(make_user(Role.ADMIN)).get("/"))
    signed_out = client_as(None).get(TOKENS)
    assert signed_out.status_code == 302 and "/login" in signed_out.headers["Location"]
    assert db.session.scalar(sa.select(sa.func.count(ScimToken.id))) == 1
    assert db.session.get(ScimToken, token.id).revoked_at is None


def test_a_new_token_is_shown_once_and_only_its_hash_is_kept(as_admin, app):
    shown, secret = make_token(as_admin)
    page = text(shown)
    assert "it will not be shown again" in page
    assert shown.headers["Cache-Control"] == "no-store"
    # The address to enter at the directory, from BASE_URL.
    assert f'value="{app.config["BASE_URL"]}/scim/v2"' in page

    again = as_admin.get(TOKENS)
    assert secret not in text(again) and "not be shown again" not in text(again)
    assert again.headers["Cache-Control"] == "no-store"

    (token,) = db.session.scalars(sa.select(ScimToken))
    assert token.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert not any(secret in cell for cell in stored_cells())
    assert secret.startswith(token.prefix) and len(token.prefix) < 16
    row = [r for r in table_rows(text(again)) if "Microsoft Entra ID" in r[0]]
    assert row == [
        [
            "Microsoft Entra ID",
            f"{token.prefix}…",
            f"{token.created_at:%-d %b %Y, %H:%M} by Ada Admin",
            "Never",
            "In use",
            "Revoke Microsoft Entra ID",
        ]
    ]


def test_the_new_token_works_until_it_is_revoked_and_the_log_says_so(as_admin, client_as):
    _, secret = make_token(as_admin, "Okta")
    directory = client_as(None)
    assert scim(directory, secret).status_code == 200
    token = db.session.scalar(sa.select(ScimToken))
    assert token.last_used_at is not None
    assert "Never" not in table_rows(text(as_admin.get(TOKENS)))[1]

    confirmation = as_admin.get(f"{TOKENS}/{token.id}/revoke")
    assert confirmation.status_code == 200
    assert "Every request with it is refused at once" in text(confirmation)
    assert scim(directory, secret).status_code == 200  # seeing the page revokes nothing

    revoked = as_admin.post(f"{TOKENS}/{token.id}/revoke", data={"confirmed": "yes"})
    assert revoked.status_code == 303 and revoked.headers["Location"] == TOKENS
    refused_now = scim(directory, secret)
    assert refused_now.status_code == 401
    assert refused_now.headers["WWW-Authenticate"].startswith("Bearer")

    db.session.refresh(token)
    assert token.revoked_at is not None and token.revoked_by.name == "Ada Admin"
    assert "Revoked" in table_rows(text(as_admin.get(TOKENS)))[1][4]

    # The log, newest first: the refusal names the revoked token the directory still sends.
    rows = table_rows(text(as_admin.get(LOG)))[1:]
    assert [(r[1], r[2], r[3]) for r in rows] == [
        (f"Okta {token.prefix}…, revoked", f"GET {PROBE}", "401"),
        (f"Okta {token.prefix}…, revoked", f"GET {PROBE}", "200"),
        (f"Okta {token.prefix}…, revoked", f"GET {PROBE}", "200"),
    ]


def test_a_token_is_revoked_only_from_the_confirmation_page(as_admin, client_as):
    _, secret = make_token(as_admin)
    token = db.session.scalar(sa.select(ScimToken))
    response = as_admin.post(f"{TOKENS}/{token.id}/revoke")  # made by hand: not confirmed
    assert response.status_code == 422  # the confirmation again, whose button revokes
    assert "Nothing was done: the request was not sent from this confirmation page." in text(
        response
    )
    assert f'action="{TOKENS}/{token.id}/revoke"' in text(response)
    assert scim(client_as(None), secret).status_code == 200
    assert as_admin.get(f"{TOKENS}/9999/revoke").status_code == 404


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "This field is required."),
        ("   ", "This field is required."),
        ("E" * 81, "Field cannot be longer than 80 characters."),
        ("\u200b\u200b", "Name the token after the directory that will use it."),
    ],
)
def test_a_bad_name_is_refused_beside_the_field_and_kept(as_admin, name, message):
    page = text(refused(as_admin, as_admin.post(TOKENS, data={"name": name})))
    assert f'<small id="name-error" class="field-error">{message}</small>' in page
    if name.strip():
        assert f'value="{name}"' in page  # what was typed is there to correct
    assert "new-token-value" not in page
    assert db.session.scalar(sa.select(sa.func.count(ScimToken.id))) == 0


def test_the_log_names_the_person_and_filters_by_token_and_errors(as_admin, make_user):
    jane = make_user(name="Jane Doe")
    entra = ScimToken(name="Entra", token_hash="1" * 64, prefix="scim_entra", created_by=jane)
    okta = ScimToken(name="Okta", token_hash="2" * 64, prefix="scim_okta", created_by=jane)
    db.session.add_all([entra, okta])
    db.session.flush()
    db.session.add_all(
        [
            ScimRequest(
                token=entra,
                method="POST",
                path="/scim/v2/Users",
                status=201,
                person=jane,
                outcome="Created jane@example.com",
            ),
            ScimRequest(
                token=okta,
                method="GET",
                path="/scim/v2/Users?filter=x",
                status=400,
                outcome="The filter is not valid.",
            ),
            ScimRequest(
                token=None,
                method="GET",
                path="/scim/v2/Users",
                status=401,
                outcome="A valid bearer token is required.",
            ),
        ]
    )
    db.session.commit()

    def lines(query=""):
        response = as_admin.get(LOG + query)
        assert response.status_code == 200
        return [(r[1].split()[0], r[3], r[4], r[5]) for r in table_rows(text(response))[1:]]

    assert lines() == [
        ("no", "401", "", "A valid bearer token is required."),
        ("Okta", "400", "", "The filter is not valid."),
        ("Entra", "201", "Jane Doe", "Created jane@example.com"),
    ]
    assert f'href="/admin/users/{jane.id}">Jane Doe</a>' in text(as_admin.get(LOG))
    assert [line[0] for line in lines(f"?token={entra.id}")] == ["Entra"]
    assert [line[0] for line in lines("?token=none")] == ["no"]
    assert [line[0] for line in lines("?errors_only=y")] == ["no", "Okta"]
    assert [line[0] for line in lines(f"?token={okta.id}&errors_only=y")] == ["Okta"]
    assert as_admin.get(LOG + "?token=12345").status_code == 400  # not a token of ours
    assert as_admin.get(LOG + "?token=abc").status_code == 400


def test_the_log_is_read_in_the_same_number_of_queries_however_long(as_admin, make_user, app):
    person = make_user()

    def log(count):
        token = ScimToken(
            name=f"Token {count}", token_hash=f"{count:064d}", prefix="scim_x", created_by=person
        )
        db.session.add(token)
        db.session.add_all(
            ScimRequest(
                token=token,
                method="PATCH",
                path=f"/scim/v2/Users/{n}",
                status=200,
                person=make_user() if n % 2 else person,
                outcome="Updated",
            )
            for n in range(count)
        )
        db.session.commit()

    def queries_for_log():
        with count_queries() as queries:
            assert as_admin.get(LOG).status_code == 200
        return queries.count

    log(3)
    few = queries_for_log()
    log(app.config["PAGE_SIZE"] * 2)
    assert queries_for_log() == few
    assert "Page 1 of 3" in text(as_admin.get(LOG))


def test_the_log_shows_outcomes_in_the_readers_language_and_older_lines_as_stored(
    client_as, admin, make_user
):
    """A line keeps its outcome untranslated (outcome_message) and the page writes it in the
    admin's language; a line logged before that was kept shows its English sentence."""
    entra = ScimToken(name="Entra", token_hash="1" * 64, prefix="scim_entra", created_by=admin)
    db.session.add(entra)
    db.session.flush()
    message = {"msgid": "Someone with this email address already exists.", "values": {}}
    db.session.add_all(
        [
            ScimRequest(
                token=entra,
                method="POST",
                path="/scim/v2/Users",
                status=409,
                outcome="Someone with this email address already exists.",
            ),
            ScimRequest(
                token=entra,
                method="POST",
                path="/scim/v2/Users",
                status=409,
                outcome="Someone with this email address already exists.",
                outcome_message=message,
            ),
        ]
    )
    admin.locale = "de"
    db.session.commit()
    page = text(client_as(admin).get(LOG))
    assert [row[5] for row in table_rows(page)[1:]] == [
        "Es gibt schon jemanden mit dieser E-Mail-Adresse.",
        "Someone with this email address already exists.",
    ]
