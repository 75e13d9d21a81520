"""What the directory-sync admin pages read: the SCIM tokens and the log of requests."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from serviceideas.extensions import db
from serviceideas.scim.models import ScimRequest, ScimToken


def tokens_newest_first() -> list[ScimToken]:
    """Every token, live or revoked, with who made and who revoked it: one statement."""
    return list(
        db.session.scalars(
            sa.select(ScimToken)
            # Eager: each row names its maker and, once revoked, who revoked it.
            .options(joinedload(ScimToken.created_by), joinedload(ScimToken.revoked_by))
            .order_by(ScimToken.created_at.desc(), ScimToken.id.desc())
        )
    )


def requests_newest_first(
    *, token_id: int | None = None, without_token: bool = False, errors_only: bool = False
) -> sa.Select[ScimRequest]:
    """The log, newest first (the order requests were recorded in), with each request's token
    and person: a statement, so the page can be paged. `token_id`: that token's requests only;
    `without_token`: only those that carried no valid token; `errors_only`: status 400 and up."""
    query = (
        sa.select(ScimRequest)
        # Eager: each line names its token and links to its person.
        .options(joinedload(ScimRequest.token), joinedload(ScimRequest.person))
        .order_by(ScimRequest.id.desc())
    )
    if token_id is not None:
        query = query.where(ScimRequest.token_id == token_id)
    elif without_token:
        query = query.where(ScimRequest.token_id.is_(None))
    if errors_only:
        query = query.where(ScimRequest.status >= 400)
    return query
