"""The bearer tokens a directory provisions with, and the log of every request it made."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from serviceideas.database import UTCDateTime, utcnow
from serviceideas.extensions import db
from serviceideas.people.models import User
from serviceideas.scim.outcomes import Outcome

if TYPE_CHECKING:
    from serviceideas.extensions import Base as Model  # what db.Model is, to the type checker
else:
    Model = db.Model  # Flask-SQLAlchemy makes it at run time, out of mypy's sight

TOKEN_NAME_MAX = 80
PATH_MAX = 500
OUTCOME_MAX = 500


class ScimToken(Model):
    """A bearer token an admin made for one directory (its name says which). The token itself
    is shown once, when it is made; only its SHA-256 is kept, so a copy of the database signs
    nobody in. Revoked tokens stay, so the log can still name them."""

    __tablename__ = "scim_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(TOKEN_NAME_MAX))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    # The token's first characters, shown beside its name so an admin can tell tokens apart.
    prefix: Mapped[str] = mapped_column(sa.String(16))
    created_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="RESTRICT"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="RESTRICT")
    )

    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])
    revoked_by: Mapped[User | None] = relationship(foreign_keys=[revoked_by_id])

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None


class ScimRequest(Model):
    """One request to /scim/v2/: which token (None: no valid token), what it asked, what came
    of it. Admins read these; nobody edits them."""

    __tablename__ = "scim_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    token_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("scim_tokens.id", ondelete="RESTRICT"), index=True
    )
    method: Mapped[str] = mapped_column(sa.String(10))
    path: Mapped[str] = mapped_column(sa.String(PATH_MAX))  # with its query string
    status: Mapped[int]
    # The person the request was about, when there was one.
    person_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="RESTRICT"), index=True
    )
    # What came of it, in English words: "Created jane@example.com", or the error's detail as
    # the directory was told it. Shown as it is when `outcome_message` holds nothing.
    outcome: Mapped[str] = mapped_column(sa.String(OUTCOME_MAX), default="")
    # The same, untranslated, for showing in the reader's language: {"msgid": "Created
    # %(email)s", "values": {"email": "jane@example.com"}} (scim/outcomes.py). None for lines
    # logged before it was kept, and for what has no text of the app's own (a library's detail).
    outcome_message: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON(none_as_null=True))

    token: Mapped[ScimToken | None] = relationship()
    person: Mapped[User | None] = relationship()

    @property
    def outcome_shown(self) -> str:
        """What came of it, in the reader's language when the line keeps its message."""
        message = Outcome.from_stored(self.outcome_message)
        return message.shown() if message is not None else self.outcome
