"""Making and revoking personal access tokens (docs/product.md, "Personal access tokens").

A person makes their own tokens on their settings page: a name, scopes their roles allow, an
expiry within API_TOKEN_MAX_DAYS. The token itself is returned once, to be shown once; only
its SHA-256 is kept (api/auth.py reads it). Functions flush, never commit.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext, ngettext

from serviceideas.api.auth import TOKEN_PREFIX, token_hash
from serviceideas.api.models import TOKEN_NAME_MAX, ApiToken, Scope
from serviceideas.database import utcnow
from serviceideas.errors import RuleViolation, Taken, required_text
from serviceideas.extensions import db
from serviceideas.i18n import format_date
from serviceideas.people.models import User
from serviceideas.text import one_line

# What a token shows of itself in lists, after its name: "si_" and 7 characters, enough to
# tell a person's tokens apart and nowhere near enough to guess the other 36.
PREFIX_LENGTH = 10
# The latest day a token may last until, as its refusal writes it: "3 November 2026".
LONG_DAY = "yMMMMd"


def scopes_allowed(person: User) -> list[Scope]:
    """The scopes `person`'s roles allow today, in Scope's order: what the form offers."""
    return [scope for scope in Scope if person.has_role(scope.needs_role)]


def longest_days() -> int:
    """How many days a token may last at most (API_TOKEN_MAX_DAYS)."""
    days: int = current_app.config["API_TOKEN_MAX_DAYS"]
    return days


def end_of_day(day: date) -> datetime:
    """When a token chosen to last "until" `day` stops: the end of that day, UTC."""
    return datetime.combine(day + timedelta(days=1), time(), tzinfo=UTC)


def latest_day(now: datetime) -> date:
    """The last day a token made `now` may last until (it stops at that day's end)."""
    return (now + timedelta(days=longest_days())).date() - timedelta(days=1)


def too_long(now: datetime) -> str:
    """Why an expiry past `latest_day(now)` is refused."""
    return ngettext(
        "A token lasts at most %(num)d day: choose %(day)s or earlier.",
        "A token lasts at most %(num)d days: choose %(day)s or earlier.",
        longest_days(),
        day=format_date(latest_day(now), LONG_DAY),
    )


def create_token(
    acting: User, name: str, scopes: Iterable[str], expires_at: datetime
) -> tuple[ApiToken, str]:
    """A new token of `acting`'s, and the token itself, to be shown once and never again.

    Refused (RuleViolation beside the field): no name, or one of their live tokens' names (a
    form sent twice makes one token, not two that look alike); no scope, or one their roles
    do not allow; an expiry past, or further than API_TOKEN_MAX_DAYS away."""
    name = required_text(one_line(name), "name", gettext("the name"), TOKEN_NAME_MAX)
    chosen = _scopes(acting, scopes)
    now = utcnow()
    if expires_at <= now:
        raise RuleViolation(gettext("Choose an expiry in the future."), "expires")
    if expires_at > now + timedelta(days=longest_days()):
        raise RuleViolation(too_long(now), "expires")
    # The person's row, locked until the commit: two requests making tokens for one person
    # (a double click) take turns, so the second finds the first's name. SQLite's writers
    # already take turns; PostgreSQL's lock the row.
    db.session.execute(sa.select(User.id).where(User.id == acting.id).with_for_update())
    if _live_token_named(acting, name, now):
        raise Taken(
            gettext(
                "You already have a token named “%(name)s”: give this one another name"
                " (or revoke the other first).",
                name=name,
            ),
            "name",
        )
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user_id=acting.id,
        name=name,
        token_hash=token_hash(secret),
        prefix=secret[:PREFIX_LENGTH],
        scopes=" ".join(scope.value for scope in Scope if scope in chosen),
        created_at=now,
        expires_at=expires_at,
    )
    db.session.add(token)
    db.session.flush()
    return token, secret


def _scopes(acting: User, names: Iterable[str]) -> set[Scope]:
    chosen: set[Scope] = set()
    for name in names:
        try:
            chosen.add(Scope(name))
        except ValueError:
            raise RuleViolation(
                gettext("There is no scope “%(scope)s”.", scope=one_line(name)[:20]), "scopes"
            ) from None
    if not chosen:
        raise RuleViolation(gettext("Choose at least one scope: read, to begin with."), "scopes")
    refused = [
        scope for scope in Scope if scope in chosen and not acting.has_role(scope.needs_role)
    ]
    if refused:
        needs = ", ".join(
            gettext(
                "%(scope)s needs the %(role)s role", scope=scope.value, role=scope.needs_role.label
            )
            for scope in refused
        )
        raise RuleViolation(
            gettext("Your roles do not allow this: %(needs)s.", needs=needs), "scopes"
        )
    return chosen


def _live_token_named(acting: User, name: str, now: datetime) -> bool:
    return (
        db.session.scalar(
            sa.select(ApiToken.id)
            .where(
                ApiToken.user_id == acting.id,
                ApiToken.name == name,
                ApiToken.revoked_at.is_(None),
                ApiToken.expires_at > now,
            )
            .limit(1)
        )
        is not None
    )


def revoke_token(acting: User, token: ApiToken) -> None:
    """The token stops working at once; it stays listed as revoked. Only its own person
    revokes it (the view finds it among theirs)."""
    if token.user_id != acting.id:
        raise RuleViolation(gettext("This is not one of your tokens."))
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        db.session.flush()
