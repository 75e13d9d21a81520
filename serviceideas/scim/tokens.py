"""Bearer tokens for SCIM, and the log of what each request did (docs/architecture.md, "SCIM
provisioning"). Functions flush, never commit, except `record_request`, which finishes a
request on its own."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

import sqlalchemy as sa
from flask import Request, current_app, g
from flask_babel import gettext

from serviceideas.database import utcnow, writing
from serviceideas.errors import RuleViolation
from serviceideas.extensions import db
from serviceideas.people.models import User
from serviceideas.scim.models import OUTCOME_MAX, PATH_MAX, TOKEN_NAME_MAX, ScimRequest, ScimToken
from serviceideas.scim.outcomes import Outcome
from serviceideas.text import one_line

TOKEN_PREFIX = "scim_"  # noqa: S105 - what every token starts with, not a token


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(acting: User, name: str) -> tuple[ScimToken, str]:
    """A new token for one directory, and the token itself, to be shown once and never again:
    only its hash is kept."""
    name = one_line(name)
    if not name:
        raise RuleViolation(gettext("Name the token after the directory that will use it."), "name")
    if len(name) > TOKEN_NAME_MAX:
        raise RuleViolation(
            gettext("Keep the name to %(maximum)d characters.", maximum=TOKEN_NAME_MAX), "name"
        )
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ScimToken(
        name=name, token_hash=_hash(secret), prefix=secret[:12], created_by_id=acting.id
    )
    db.session.add(token)
    db.session.flush()
    return token, secret


def revoke_token(acting: User, token: ScimToken) -> None:
    """The token stops working at once; it stays listed, and in the log, as revoked."""
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        token.revoked_by_id = acting.id
        db.session.flush()


def token_from_header(request: Request) -> ScimToken | None:
    """The live token the request's `Authorization: Bearer …` carries, or None.

    A revoked token is refused at once, and so is everything else not made here. Who made the
    token does not matter: it belongs to the company's directory, not to the admin who made
    it, so it keeps working when they leave or lose the admin role (SECURITY.md, "SCIM
    tokens"): otherwise the directory deactivating its maker would stop the very requests
    that deactivate everyone else. The tokens page points such tokens out instead."""
    scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
    secret = secret.strip()
    if scheme.lower() != "bearer" or not secret.startswith(TOKEN_PREFIX) or len(secret) > 100:
        return None
    token = db.session.scalar(sa.select(ScimToken).where(ScimToken.token_hash == _hash(secret)))
    # Looked up by hash, then compared in constant time, so timing tells nothing of the hash.
    if token is None or not hmac.compare_digest(token.token_hash, _hash(secret)):
        return None
    if token.is_revoked:
        # Logged against the revoked token, so the log says which directory still sends it.
        g.scim_revoked_token_id = token.id
        return None
    return token


def request_token(request: Request) -> ScimToken | None:
    """`token_from_header`, looked up once per request: the rate limit asks first (a request
    with a live token is never limited), then the blueprint's `require_token`.

    Without a live token, the transaction the look-up began ends here: the rate limit then
    counts the request on a connection of its own, which on SQLite would otherwise wait for
    the write lock a writing request's transaction takes up front."""
    if "scim_token_found" not in g:
        g.scim_token_found = token_from_header(request)
        if g.scim_token_found is None:
            db.session.rollback()
    found: ScimToken | None = g.scim_token_found
    return found


def note_outcome(outcome: Outcome | str, person: User | None = None) -> None:
    """What this request did, for its line in the log: an Outcome ("Created %(email)s"), shown
    in each reader's language; or a text that is not the app's own (a library's error detail),
    shown as it is."""
    g.scim_outcome = outcome
    if person is not None:
        g.scim_person_id = person.id


def record_request(request: Request, status: int) -> None:
    """Log the request (which token, what, the result) and stamp the token's last use, in a
    transaction of its own after the request's own has ended: a refused write is logged too,
    and a GET, which otherwise never writes, writes only this.

    The one function here that commits: the log line is not the request's work but a record
    of it, kept whatever became of that work (rolled back, refused, or a GET's reads). A GET
    reads without a transaction on PostgreSQL (docs/architecture.md, "Requests and
    transactions"), so that mark is dropped once the request's connection is given back:
    these writes run in a transaction, together or not at all."""
    token: ScimToken | None = g.get("scim_token")
    token_id = token.id if token is not None else g.get("scim_revoked_token_id")
    path = _without_nul(request.full_path.rstrip("?"))
    outcome: Outcome | str = g.get("scim_outcome", "")
    message = outcome.stored() if isinstance(outcome, Outcome) else None
    text = outcome.english() if isinstance(outcome, Outcome) else outcome
    db.session.rollback()  # the request's own work is committed or refused by now
    g.pop("reads_without_transaction", None)  # before the next connection is taken
    with writing():
        db.session.add(
            ScimRequest(
                token_id=token_id,
                method=request.method[:10],
                path=path[:PATH_MAX],
                status=status,
                person_id=g.get("scim_person_id"),
                outcome=_without_nul(text)[:OUTCOME_MAX],
                outcome_message=message,
            )
        )
        if token is not None:
            # Not synchronised with the session: the token it holds is expired by the
            # rollback, and reloading it would read the token a second time.
            db.session.execute(
                sa.update(ScimToken)
                .where(ScimToken.id == token_id)
                .values(last_used_at=utcnow())
                .execution_options(synchronize_session=False)
            )
        _forget_old_requests()
        db.session.commit()


def _without_nul(text: str) -> str:
    """NUL written as \\0: a path may hold one (`/Users/%00`), and PostgreSQL's text cannot."""
    return text.replace("\x00", "\\0")


def _forget_old_requests() -> None:
    """The log keeps SCIM_LOG_DAYS days: a directory of thousands makes thousands of requests
    a cycle, and an unbounded log would grow for ever. Deleted a few at a time, as each new
    line is written (through the index on `at`: nothing to read when nothing is old)."""
    kept_since = utcnow() - timedelta(days=current_app.config["SCIM_LOG_DAYS"])
    db.session.execute(sa.delete(ScimRequest).where(ScimRequest.at < kept_since))
