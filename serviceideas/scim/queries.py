"""What the directory asks of the app's people: one person, or a page of those a filter picks."""

from __future__ import annotations

import sqlalchemy as sa

from serviceideas.extensions import db
from serviceideas.people.models import User, normalise_email
from serviceideas.scim.resources import Criteria
from serviceideas.urls import database_id


def person(person_id: str) -> User | None:
    """The person a SCIM id names (the app's own id, as digits), or None."""
    row_id = database_id(person_id)
    return db.session.get(User, row_id) if row_id is not None else None


def _conditions(criteria: Criteria) -> list[sa.ColumnExpressionArgument[bool]]:
    if criteria.impossible:
        return [sa.false()]
    conditions: list[sa.ColumnExpressionArgument[bool]] = []
    if criteria.email is not None:
        # E-mails are stored lower-cased: userName compares ignoring case (RFC 7643 4.1.1).
        conditions.append(User.email == normalise_email(criteria.email))
    if criteria.external_id is not None:
        conditions.append(User.scim_external_id == criteria.external_id)
    if criteria.person_id is not None:
        conditions.append(User.id == criteria.person_id)
    if criteria.active is not None:
        conditions.append(User.is_active if criteria.active else sa.not_(User.is_active))
    return conditions


def people_matching(criteria: Criteria, *, offset: int, limit: int) -> tuple[int, list[User]]:
    """How many people match, and the page of them from `offset` (by id, so pages are
    stable): two statements whatever the number of people (each with their department,
    joined)."""
    conditions = _conditions(criteria)
    total = db.session.scalar(sa.select(sa.func.count(User.id)).where(*conditions)) or 0
    if limit <= 0 or offset >= total:
        return total, []
    page = db.session.scalars(
        sa.select(User).where(*conditions).order_by(User.id).offset(offset).limit(limit)
    )
    return total, list(page.unique())
