"""What the people pages ask of the database: departments, lists of people, role changes."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from serviceideas.database import contains_pattern, contains_text
from serviceideas.extensions import db
from serviceideas.people.models import Department, Role, RoleChange, User, role_column


def departments_by_name() -> list[Department]:
    """Every department, by name."""
    return list(db.session.scalars(sa.select(Department).order_by(Department.name)))


def departments_with_headcount() -> list[tuple[Department, int]]:
    """Every department, by name, with its number of active staff (docs/product.md, "Active
    staff"), in one query."""
    rows = db.session.execute(_with_headcount())
    return [(department, count) for department, count in rows]


def departments_page(*, after: str | None, limit: int) -> list[tuple[Department, int]]:
    """Up to `limit` departments by name, after the one named `after` (names are unique), each
    with its number of active staff: a keyset page, for the API (one query)."""
    statement = _with_headcount()
    if after is not None:
        statement = statement.where(Department.name > after)
    return [(department, count) for department, count in db.session.execute(statement.limit(limit))]


def headcount_of(department: Department) -> int:
    """The department's number of active staff (docs/product.md, "Active staff")."""
    return (
        db.session.scalar(
            sa.select(sa.func.count(User.id)).where(
                User.department_id == department.id, User.is_active
            )
        )
        or 0
    )


def _with_headcount() -> sa.Select[Department, int]:
    headcount = (
        sa.select(sa.func.count(User.id))
        .where(User.department_id == Department.id, User.is_active)
        .scalar_subquery()
    )
    return sa.select(Department, headcount).order_by(Department.name)


def people_page(
    *,
    text: str | None = None,
    department_id: int | None = None,
    role: Role | None = None,
    active: bool | None = True,
    after: tuple[str, int] | None,
    limit: int,
) -> list[User]:
    """Up to `limit` of `people_matching`'s people (by name, then id) after the person `after`
    (name, id): a keyset page, for the API (one query)."""
    statement = people_matching(text=text, department_id=department_id, role=role, active=active)
    if after is not None:
        name, last_id = after
        statement = statement.where(
            sa.or_(User.name > name, sa.and_(User.name == name, User.id > last_id))
        )
    return list(db.session.scalars(statement.limit(limit)))


def people_matching(
    *,
    text: str | None = None,
    department_id: int | None = None,
    role: Role | None = None,
    active: bool | None = True,
) -> sa.Select[User]:
    """People by name whose name or email contains `text`, in the department, holding the role
    (granted, not implied), and active or deactivated (`None`: either): a statement, so the
    list can be paged."""
    query = sa.select(User).order_by(User.name, User.id)
    if text:
        pattern = contains_pattern(text)
        query = query.where(
            sa.or_(contains_text(User.name, pattern), User.email.like(pattern, escape="\\"))
        )
    if department_id is not None:
        query = query.where(User.department_id == department_id)
    if role is not None:
        query = query.where(role_column(role).is_(True))
    if active is not None:
        query = query.where(User.is_active if active else sa.not_(User.is_active))
    return query


def role_changes_newest_first() -> sa.Select[RoleChange]:
    """Every role given or taken away, newest first, with whom and by whom: a statement, so
    the list can be paged (docs/product.md, "Roles")."""
    return (
        sa.select(RoleChange)
        .options(joinedload(RoleChange.person), joinedload(RoleChange.actor))
        .order_by(RoleChange.changed_at.desc(), RoleChange.id.desc())
    )
