"""Who is calling the API: the personal access token in `Authorization: Bearer …`, and what it
may do (docs/product.md, "The API"). The session cookie is never read here: a browser's cookie
cannot make a request in someone's name, so the API needs no CSRF token (SECURITY.md, "The
API").
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import logging
from collections.abc import Callable
from datetime import timedelta
from http import HTTPStatus
from typing import Any, TypeVar, cast

import sqlalchemy as sa
from flask import Request, Response, after_this_request, g, request
from flask_babel import gettext
from flask_smorest import Blueprint

from serviceideas.api.models import ApiToken, Scope
from serviceideas.api.problems import problem
from serviceideas.database import utcnow, writing
from serviceideas.errors import abandon_transaction
from serviceideas.extensions import db
from serviceideas.i18n import settled_language
from serviceideas.people.models import User

TOKEN_PREFIX = "si_"  # noqa: S105 - what every token starts with, not a token
SECRET_MAX = 100
# The OpenAPI security scheme's name (api/__init__.py declares it).
SECURITY_SCHEME = "token"
# A token's last use is written at most this often: a script's every request would otherwise
# be a write, and the settings page shows it to the minute.
LAST_USE_EVERY = timedelta(minutes=1)

log = logging.getLogger(__name__)

View = TypeVar("View", bound=Callable[..., Any])


def token_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def bearer_secret(incoming: Request) -> str | None:
    """The token the request carries, if it looks like one of ours."""
    scheme, _, secret = incoming.headers.get("Authorization", "").partition(" ")
    secret = secret.strip()
    if scheme.lower() != "bearer" or not secret.startswith(TOKEN_PREFIX):
        return None
    if len(secret) > SECRET_MAX:
        return None
    return secret


def live_token(secret: str) -> ApiToken | None:
    """The token, if it works now: not revoked, not expired, and its person active."""
    hashed = token_hash(secret)
    token = db.session.scalar(sa.select(ApiToken).where(ApiToken.token_hash == hashed))
    # Looked up by hash, then compared in constant time, so timing tells nothing of the hash.
    if token is None or not hmac.compare_digest(token.token_hash, hashed):
        return None
    if token.is_revoked or token.expires_at <= utcnow() or not token.user.is_active:
        return None
    return token


def request_token() -> ApiToken | None:
    """The request's live token, looked up once per request: the rate limit asks first (its
    key runs in the app's before_request, before the blueprint's `authenticate`), then
    `authenticate` reads the same answer from `g`."""
    if "api_token_found" not in g:
        secret = bearer_secret(request)
        g.api_token_found = live_token(secret) if secret else None
        # The person's language, read while their row is loaded (`caller_locale`).
        found_token = g.api_token_found
        g.api_caller_locale = settled_language(found_token.user) if found_token else None
    found: ApiToken | None = g.api_token_found
    return found


def caller_locale() -> str | None:
    """The language the request's live token's person chose, else the one the company's
    directory gives them (i18n.settled_language), if any: i18n.select_locale asks, for the
    API's texts, then reads the Accept-Language header. Kept from the token's look-up rather
    than read from the token: by the time a text is translated the session may have been
    rolled back (the rate limit's counter does so on SQLite), and reading an expired row would
    be a query, which on a POST takes the write lock the counter then waits for."""
    request_token()
    chosen: str | None = g.api_caller_locale
    return chosen


def allowed_scopes(token: ApiToken) -> frozenset[Scope]:
    """The token's scopes that its person's roles allow today: a manager who is no longer one
    keeps their token, but it no longer reviews."""
    return frozenset(scope for scope in token.scope_set if token.user.has_role(scope.needs_role))


def unauthorized(detail: str) -> Any:
    return problem(
        HTTPStatus.UNAUTHORIZED,
        detail,
        headers={"WWW-Authenticate": 'Bearer realm="serviceideas API"'},
    )


def authenticate() -> Any:
    """Every API request's first step (each resource blueprint's before_request): 401 unless
    it carries a live token; else the token and its person are `g.api_token`, `g.api_user`."""
    token = request_token()
    if token is None:
        return unauthorized(
            gettext(
                "Send a live personal access token: Authorization: Bearer si_… "
                "(make one on your settings page)."
            )
        )
    g.api_token = token
    g.api_user = token.user
    if token.last_used_at is None or token.last_used_at <= utcnow() - LAST_USE_EVERY:
        token_id = token.id

        @after_this_request
        def stamp(response: Response) -> Response:
            record_use(token_id)
            return response

    return None


def record_use(token_id: int) -> None:
    """Stamp the token's last use, in a transaction of its own after the request's own has
    ended (committed or refused by now): a GET, which never writes (docs/architecture.md,
    "Requests and transactions"), writes only this, once its reads are over.

    One of the few writes that commit themselves: the stamp is not the request's work but a
    record of it. Conditional, so requests at the same moment (several workers) write it once
    a minute at most; a stamp that cannot be written (the database busy) is not worth failing
    the request that was answered, so it is logged and dropped."""
    now = utcnow()
    db.session.rollback()
    # A GET's reads ran without a transaction on PostgreSQL: not this write, which needs one.
    g.pop("reads_without_transaction", None)
    try:
        with writing():
            db.session.execute(
                sa.update(ApiToken)
                .where(
                    ApiToken.id == token_id,
                    sa.or_(
                        ApiToken.last_used_at.is_(None),
                        ApiToken.last_used_at <= now - LAST_USE_EVERY,
                    ),
                )
                .values(last_used_at=now)
                .execution_options(synchronize_session=False)
            )
            db.session.commit()
    except sa.exc.SQLAlchemyError:
        log.warning("The last use of API token %s was not written", token_id, exc_info=True)
        abandon_transaction()


def acting_user() -> User:
    """The person the request's token acts for."""
    user: User = g.api_user
    return user


def requires(scope: Scope) -> Callable[[View], View]:
    """A view that needs `scope`: 403 when the token lacks it (or its person's roles no longer
    allow it). The OpenAPI document lists the scope under the operation's security."""

    def decorate(view: View) -> View:
        @functools.wraps(view)
        def checked(*args: Any, **kwargs: Any) -> Any:
            if scope not in allowed_scopes(g.api_token):
                if scope is Scope.READ:
                    lacking = gettext("This token lacks the '%(scope)s' scope.", scope=scope)
                else:
                    lacking = gettext(
                        "This token lacks the '%(scope)s' scope, or its person the role it needs.",
                        scope=scope,
                    )
                return problem(HTTPStatus.FORBIDDEN, lacking)
            return view(*args, **kwargs)

        return Blueprint.doc(security=[{SECURITY_SCHEME: [scope.value]}])(cast(View, checked))

    return decorate
