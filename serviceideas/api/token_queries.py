"""What the API tokens page reads: a person's own tokens, and no one else's."""

from __future__ import annotations

import sqlalchemy as sa

from serviceideas.api.models import ApiToken
from serviceideas.extensions import db
from serviceideas.people.models import User


def tokens_of(person: User) -> list[ApiToken]:
    """Every token `person` has made, live, expired or revoked, newest first."""
    return list(
        db.session.scalars(
            sa.select(ApiToken)
            .where(ApiToken.user_id == person.id)
            .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
        )
    )


def token_of(person: User, token_id: int) -> ApiToken | None:
    """`person`'s token with this id; None when there is none, or it is someone else's."""
    return db.session.scalar(
        sa.select(ApiToken).where(ApiToken.id == token_id, ApiToken.user_id == person.id)
    )
