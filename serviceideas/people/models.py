"""Departments and the people in them, with their roles."""

from __future__ import annotations

import enum
import secrets
from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from flask_babel import lazy_gettext
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, QueryableAttribute, mapped_column, relationship, validates

from serviceideas.database import UTCDateTime, enum_column_type, utcnow
from serviceideas.extensions import db

if TYPE_CHECKING:
    from serviceideas.extensions import Base as Model  # what db.Model is, to the type checker
else:
    Model = db.Model  # Flask-SQLAlchemy makes it at run time, out of mypy's sight

EMAIL_MAX = 254
NAME_MAX = 120
DEPARTMENT_NAME_MAX = 80


class DepartmentKind(enum.StrEnum):
    FRONT_LINE = "front_line"
    BACK_OFFICE = "back_office"

    @property
    def label(self) -> str:
        return str(KIND_LABELS[self])


KIND_LABELS = {
    DepartmentKind.FRONT_LINE: lazy_gettext("Front line"),
    DepartmentKind.BACK_OFFICE: lazy_gettext("Back office"),
}


class Role(enum.StrEnum):
    """Roles add up. Everyone is an employee; an admin holds every other power too."""

    EMPLOYEE = "employee"
    TRAINER = "trainer"
    MANAGER = "manager"
    ADMIN = "admin"

    @property
    def label(self) -> str:
        return str(ROLE_LABELS[self])


ROLE_LABELS = {
    Role.EMPLOYEE: lazy_gettext("Employee"),
    Role.TRAINER: lazy_gettext("Trainer"),
    Role.MANAGER: lazy_gettext("Manager"),
    Role.ADMIN: lazy_gettext("Admin"),
}

# Roles that are granted (employee is implicit), in the order they are shown.
GRANTABLE_ROLES = (Role.TRAINER, Role.MANAGER, Role.ADMIN)
# The column that holds each grantable role (asked on every page, so looked up, not built).
ROLE_FLAGS = {role: f"is_{role}" for role in GRANTABLE_ROLES}


class Department(Model):
    __tablename__ = "departments"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(DEPARTMENT_NAME_MAX), unique=True)
    kind: Mapped[DepartmentKind] = mapped_column(enum_column_type(DepartmentKind, "kind"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    def __repr__(self) -> str:
        return f"<Department {self.name!r} {self.kind.value}>"


class User(Model):
    __tablename__ = "users"
    __table_args__ = (
        # Emails are stored lower-cased, so the unique constraint compares them
        # case-insensitively on every database; the check keeps it that way.
        sa.CheckConstraint("email = lower(email)", name="email_lower_case"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(EMAIL_MAX), unique=True)
    name: Mapped[str] = mapped_column(sa.String(NAME_MAX))
    # None until the person sets a password through a one-time link.
    password_hash: Mapped[str | None] = mapped_column(sa.String(255))
    department_id: Mapped[int] = mapped_column(
        sa.ForeignKey("departments.id", ondelete="RESTRICT"), index=True
    )
    is_trainer: Mapped[bool] = mapped_column(default=False)
    is_manager: Mapped[bool] = mapped_column(default=False)
    is_admin: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True)
    # The company's identity provider's name for this person (the ID token's `sub`), stored at
    # their first sign-in through it: it finds them again when their e-mail changes there.
    oidc_subject: Mapped[str | None] = mapped_column(sa.String(255), unique=True, index=True)
    # The directory's own id for this person, as SCIM provisioning sends it (`externalId`):
    # kept and given back, never used to find anyone.
    scim_external_id: Mapped[str | None] = mapped_column(sa.String(255))
    # The interface language the person chose (one of the LANGUAGES setting), or None to
    # follow the company directory's, then their browser's, then the company's default
    # (docs/product.md, "Languages").
    locale: Mapped[str | None] = mapped_column(sa.String(16))
    # The language the company's identity provider (OIDC_LOCALE_CLAIM, at each sign-in) or
    # directory (SCIM's preferredLanguage) gives them, as one the app speaks ("de" for "de-AT"),
    # or None when it gives none the app speaks (i18n.supported_language).
    directory_locale: Mapped[str | None] = mapped_column(sa.String(16))
    # The language their browser asked for when they last signed in (or chose "my browser's"):
    # what e-mails and notifications are written in while they have chosen none.
    browser_locale: Mapped[str | None] = mapped_column(sa.String(16))
    # Part of the id kept in the session and remember cookie: changing it (new password,
    # deactivation) signs the person out everywhere.
    session_token: Mapped[str] = mapped_column(sa.String(64), default=lambda: secrets.token_hex(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    # Eager: a person is almost never shown without their department. "unnested": when the
    # person is itself an outer join (an idea's owner), chain a plain outer join rather than
    # a parenthesised inner one, which SQLite would materialise for every user.
    department: Mapped[Department] = relationship(
        lazy="joined",
        innerjoin="unnested",  # type: ignore[arg-type]  # documented, missing from the stubs
    )

    @validates("email")
    def _lower_email(self, _key: str, value: str) -> str:
        return normalise_email(value)

    # Flask-Login's interface
    @property
    def is_authenticated(self) -> bool:
        return True

    @hybrid_property
    def is_active(self) -> bool:
        """*Active staff*, the one definition (docs/product.md, "Active staff"): a person whose
        account is active. Every headcount, per-100-staff figure, participation share and
        coverage counts only them; Flask-Login refuses to sign in anyone else. In a query,
        `User.is_active` is the same rule as SQL."""
        return self.active

    @is_active.inplace.expression
    @classmethod
    def _is_active_sql(cls) -> sa.ColumnElement[bool]:
        return cls.active.is_(True)

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return f"{self.id}:{self.session_token}"

    def renew_session_token(self) -> None:
        self.session_token = secrets.token_hex(16)

    # Roles
    @property
    def granted_roles(self) -> frozenset[Role]:
        """The roles given on top of employee."""
        return frozenset(role for role in GRANTABLE_ROLES if getattr(self, ROLE_FLAGS[role]))

    @property
    def roles(self) -> tuple[Role, ...]:
        """Every role this person holds, employee first, in the usual order."""
        held = (role for role in GRANTABLE_ROLES if getattr(self, ROLE_FLAGS[role]))
        return (Role.EMPLOYEE, *held)

    def has_role(self, role: Role) -> bool:
        """Whether this person holds the powers of `role`: admins hold every role's powers."""
        return role is Role.EMPLOYEE or self.is_admin or getattr(self, ROLE_FLAGS[role])

    def set_roles(self, roles: set[Role]) -> None:
        self.is_trainer = Role.TRAINER in roles
        self.is_manager = Role.MANAGER in roles
        self.is_admin = Role.ADMIN in roles

    def __repr__(self) -> str:
        return f"<User {self.email}>"


def normalise_email(value: str) -> str:
    return value.strip().lower()


def role_column(role: Role) -> QueryableAttribute[bool]:
    """The column that grants `role`, for filtering lists of people."""
    return {
        Role.TRAINER: User.is_trainer,
        Role.MANAGER: User.is_manager,
        Role.ADMIN: User.is_admin,
    }[role]


class RoleChangeSource(enum.StrEnum):
    """Where a role change was made."""

    ADMIN_PAGE = "admin page"
    STAFF_IMPORT = "staff import"
    COMMAND_LINE = "command line"
    IDENTITY_PROVIDER = "identity provider"  # the groups claim at sign-in (OIDC_GROUPS_CLAIM)

    @property
    def label(self) -> str:
        return str(SOURCE_LABELS[self])


SOURCE_LABELS = {
    RoleChangeSource.ADMIN_PAGE: lazy_gettext("Admin page"),
    RoleChangeSource.STAFF_IMPORT: lazy_gettext("Staff import"),
    RoleChangeSource.COMMAND_LINE: lazy_gettext("Command line"),
    RoleChangeSource.IDENTITY_PROVIDER: lazy_gettext("Identity provider"),
}


class RoleChange(Model):
    """One role given or taken away: who, whom, what, when, where (docs/product.md, "Roles").
    Admins read these; nobody edits them."""

    __tablename__ = "role_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(
        sa.ForeignKey("users.id", ondelete="RESTRICT"), index=True
    )
    # None: the command line, where nobody is signed in.
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="RESTRICT"))
    role: Mapped[Role] = mapped_column(enum_column_type(Role, "role"))
    granted: Mapped[bool]  # False: taken away
    source: Mapped[RoleChangeSource] = mapped_column(
        enum_column_type(RoleChangeSource, "role_change_source")
    )
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)

    person: Mapped[User] = relationship(foreign_keys=[person_id])
    actor: Mapped[User | None] = relationship(foreign_keys=[actor_id])


# Staff imports that run in the background (docs/architecture.md, "Staff import")


class RowOutcome(enum.StrEnum):
    """What a staff import did (or, in a preview, would do) with one row of its file."""

    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    ERROR = "error"

    @property
    def label(self) -> str:
        return str(OUTCOME_LABELS[self])


OUTCOME_LABELS = {
    RowOutcome.CREATED: lazy_gettext("Created"),
    RowOutcome.UPDATED: lazy_gettext("Updated"),
    RowOutcome.UNCHANGED: lazy_gettext("Unchanged"),
    RowOutcome.ERROR: lazy_gettext("Error"),
}


class StaffImport(Model):
    """A large staff import, run batch by batch in the background. Its file is kept only
    until it is no longer needed: cleared when the import ends, or, for a preview, when it is
    imported or a day has passed."""

    __tablename__ = "staff_imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    started_by_id: Mapped[int] = mapped_column(
        sa.ForeignKey("users.id", ondelete="RESTRICT"), index=True
    )
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    applies: Mapped[bool]  # False: a preview, which changes nothing
    file_name: Mapped[str] = mapped_column(sa.String(255), default="")
    csv_text: Mapped[str | None] = mapped_column(sa.Text())
    rows_total: Mapped[int]
    rows_done: Mapped[int] = mapped_column(default=0)
    # While it runs, the runner stamps this after each batch: a stamp older than a minute
    # means the process running it stopped (a restart), and it may be resumed.
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    failure: Mapped[str | None] = mapped_column(sa.String(500))

    started_by: Mapped[User] = relationship()

    __table_args__ = (
        sa.CheckConstraint("rows_done >= 0 AND rows_done <= rows_total", name="rows_done"),
    )


class StaffImportRow(Model):
    """The report on one row of a staff import's file."""

    __tablename__ = "staff_import_rows"

    import_id: Mapped[int] = mapped_column(
        sa.ForeignKey("staff_imports.id", ondelete="CASCADE"), primary_key=True
    )
    line: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(500))
    outcome: Mapped[RowOutcome] = mapped_column(enum_column_type(RowOutcome, "row_outcome"))
    messages: Mapped[str] = mapped_column(sa.Text(), default="")
