"""SCIM bearer tokens: kept only as hashes, refused once revoked, owned by the company rather
than by the admin who made them (SECURITY.md, "SCIM tokens")."""

from __future__ import annotations

import hashlib

import pytest
import sqlalchemy as sa
from flask import request

from serviceideas.errors import RuleViolation
from serviceideas.extensions import db
from serviceideas.people.models import Role
from serviceideas.scim import tokens
from serviceideas.scim.models import ScimRequest


@pytest.fixture
def admin(make_user):
    return make_user(Role.ADMIN, name="Ada Admin")


def made(admin, name="Okta"):
    token, secret = tokens.create_token(admin, name)
    db.session.commit()
    return token, secret


def presented(app, authorization):
    """The token a SCIM request with this Authorization header is let in with."""
    with app.test_request_context("/scim/v2/Users", headers={"Authorization": authorization}):
        return tokens.token_from_header(request)


def test_a_token_is_kept_only_as_its_hash(admin):
    token, secret = made(admin, "  Microsoft \n Entra ID ")
    _, other_secret = made(admin)
    assert token.name == "Microsoft Entra ID"
    assert secret.startswith("scim_") and len(secret) >= 40 and secret != other_secret
    assert token.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert token.prefix == secret[: len(token.prefix)] and len(token.prefix) <= 12
    assert (token.created_by, token.last_used_at, token.revoked_at) == (admin, None, None)


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "Name the token after the directory that will use it."),
        ("\u200b \u2060", "Name the token after the directory that will use it."),
        ("x" * 81, "Keep the name to 80 characters."),
    ],
)
def test_a_token_needs_a_name(admin, name, message):
    with pytest.raises(RuleViolation) as refused:
        tokens.create_token(admin, name)
    assert (refused.value.message, refused.value.field) == (message, "name")


def test_only_the_token_itself_lets_a_request_in(app, admin):
    token, secret = made(admin)
    assert presented(app, f"Bearer {secret}") == token
    assert presented(app, f"bearer   {secret} ") == token  # the scheme is case-insensitive
    _, someone_elses = tokens.create_token(admin, "Other")
    db.session.rollback()  # never stored: a well-formed token that is not ours
    for refused in (
        "",
        secret,
        f"Basic {secret}",
        f"Bearer {secret[:-1]}",
        f"Bearer {secret}x",
        f"Bearer {someone_elses}",
        f"Bearer {token.token_hash}",  # the hash is not the token
        "Bearer scim_" + "a" * 200,
    ):
        assert presented(app, refused) is None, refused


def test_a_revoked_token_is_refused_and_its_requests_are_logged_against_it(app, admin):
    token, secret = made(admin)
    tokens.revoke_token(admin, token)
    db.session.commit()
    with app.test_request_context(
        "/scim/v2/Users", method="POST", headers={"Authorization": f"Bearer {secret}"}
    ):
        assert tokens.token_from_header(request) is None
        tokens.record_request(request, 401)
    line = db.session.scalar(sa.select(ScimRequest))
    assert (line.token_id, line.method, line.path, line.status) == (
        token.id,
        "POST",
        "/scim/v2/Users",
        401,
    )
    db.session.refresh(token)
    assert token.last_used_at is None  # a refused request is no use of the token


def test_revoking_twice_keeps_the_first_revocation(admin, make_user):
    token, _ = made(admin)
    tokens.revoke_token(admin, token)
    db.session.commit()
    first = token.revoked_at
    tokens.revoke_token(make_user(Role.ADMIN), token)
    db.session.commit()
    assert (token.revoked_at, token.revoked_by) == (first, admin)


def test_a_token_outlives_its_maker_s_admin_role_and_the_page_says_so(
    app, admin, make_user, client_as
):
    """The token belongs to the company's directory: deactivating its maker (which the
    directory itself may do) must not stop provisioning for everyone else."""
    token, secret = made(admin)
    admin.active = False
    admin.set_roles(set())
    db.session.commit()
    assert presented(app, f"Bearer {secret}") == token
    page = client_as(make_user(Role.ADMIN)).get("/admin/scim/tokens").get_data(as_text=True)
    assert "Ada Admin is no longer an admin: the token still works." in page
