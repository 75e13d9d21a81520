"""Personal access tokens: how a person's scripts and other tools use the API as them."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from serviceideas.database import UTCDateTime, utcnow
from serviceideas.extensions import db
from serviceideas.people.models import Role, User

if TYPE_CHECKING:
    from serviceideas.extensions import Base as Model  # what db.Model is, to the type checker
else:
    Model = db.Model  # Flask-SQLAlchemy makes it at run time, out of mypy's sight

TOKEN_NAME_MAX = 80
SCOPES_MAX = 40


class Scope(enum.StrEnum):
    """What a token may do (docs/product.md, "The API"), each capped by its person's roles."""

    READ = "read"  # read what the person may read
    WRITE = "write"  # submit, vote, comment, do training; trainers: modules and assignments
    REVIEW = "review"  # managers: statuses and owners
    ADMIN = "admin"  # admins: people and departments

    @property
    def needs_role(self) -> Role:
        return SCOPE_ROLES[self]


SCOPE_ROLES = {
    Scope.READ: Role.EMPLOYEE,
    Scope.WRITE: Role.EMPLOYEE,
    Scope.REVIEW: Role.MANAGER,
    Scope.ADMIN: Role.ADMIN,
}


class ApiToken(Model):
    """A personal access token. The token itself is shown once, when it is made; only its
    SHA-256 is kept. It acts as its person, within its scopes, until it expires or is revoked,
    and never once its person is deactivated."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    name: Mapped[str] = mapped_column(sa.String(TOKEN_NAME_MAX))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    # The token's first characters, shown beside its name so a person can tell tokens apart.
    prefix: Mapped[str] = mapped_column(sa.String(16))
    # Space-separated Scope values, in Scope's order: "read write".
    scopes: Mapped[str] = mapped_column(sa.String(SCOPES_MAX))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship()

    @property
    def scope_set(self) -> frozenset[Scope]:
        return frozenset(Scope(name) for name in self.scopes.split())

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    def __repr__(self) -> str:
        return f"<ApiToken {self.prefix}… of user {self.user_id}>"
