"""What can be done with departments and people. Functions flush, never commit."""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from email_validator import EmailNotValidError, validate_email
from flask import current_app, g, has_request_context, request
from flask_babel import get_locale, gettext
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy.orm import lazyload
from werkzeug.security import check_password_hash, generate_password_hash

from serviceideas.database import READING_METHODS
from serviceideas.errors import RuleViolation, Taken
from serviceideas.extensions import db
from serviceideas.names import refused_if_taken, unique_name
from serviceideas.people.models import (
    DEPARTMENT_NAME_MAX,
    GRANTABLE_ROLES,
    NAME_MAX,
    Department,
    DepartmentKind,
    Role,
    RoleChange,
    RoleChangeSource,
    User,
    normalise_email,
)
from serviceideas.people.signals import joined_department, roles_changed
from serviceideas.text import one_line


@cache
def _unknown_user_hash(method: str) -> str:
    """Compared against when the email is unknown, with the method real hashes use, so a
    wrong email costs as much time as a wrong password: sign-in does not reveal who has an
    account."""
    return generate_password_hash("not a real password", method=method)


# Departments


def find_department(name: str) -> Department | None:
    """The department with this name, compared case-insensitively."""
    return db.session.scalar(
        sa.select(Department).where(sa.func.lower(Department.name) == name.strip().lower())
    )


def department_or_default(name: str | None) -> Department | None:
    """The department `name` names (ignoring case), else the default department
    (SERVICEIDEAS_DEFAULT_DEPARTMENT) for people the identity provider or the directory brings;
    None when neither exists."""
    department = find_department(name) if name else None
    default = current_app.config.get("DEFAULT_DEPARTMENT")
    if department is None and default:
        department = find_department(default)
    return department


def _check_department_name(name: str, department: Department | None = None) -> str:
    return unique_name(
        name,
        noun="department",
        max_length=DEPARTMENT_NAME_MAX,
        named=find_department,
        current=department,
    )


def create_department(name: str, kind: DepartmentKind) -> Department:
    department = Department(name=_check_department_name(name), kind=kind)
    with refused_if_taken(gettext("There is already a department with this name."), "name"):
        db.session.add(department)
        db.session.flush()
    return department


def update_department(department: Department, name: str, kind: DepartmentKind) -> None:
    name = _check_department_name(name, department)
    with refused_if_taken(gettext("There is already a department with this name."), "name"):
        department.name = name
        department.kind = kind
        db.session.flush()


# People


def check_email(email: str) -> str:
    """The email, normalised, or a RuleViolation saying what is wrong with it."""
    email = normalise_email(email)
    if not email:
        raise RuleViolation(gettext("Enter an email address."), "email")
    try:
        validate_email(email, check_deliverability=False)
    except EmailNotValidError as error:
        raise RuleViolation(_not_an_email(error), "email") from None
    return email


def _not_an_email(error: EmailNotValidError) -> str:
    """Why an address was refused. email_validator explains in English only, so its reason is
    given in English and left out in every other language."""
    locale = get_locale()
    if locale is None or locale.language == "en":
        return f"That email address is not valid: {error}"
    return gettext("That email address is not valid.")


def check_name(name: str) -> str:
    """The name as pages will show it: one line, without direction overrides or control
    characters (NUL, which PostgreSQL cannot store, among them); a name with nothing visible
    in it is no name (SECURITY.md, "Invisible text")."""
    name = one_line("".join(ch for ch in name if ch.isspace() or unicodedata.category(ch) != "Cc"))
    if not name:
        raise RuleViolation(gettext("Enter the person's name."), "name")
    if len(name) > NAME_MAX:
        raise RuleViolation(
            gettext("Keep the name to %(maximum)d characters.", maximum=NAME_MAX), "name"
        )
    return name


@cache
def _common_passwords() -> frozenset[str]:
    text = (Path(__file__).parent / "data" / "common-passwords.txt").read_text(encoding="utf-8")
    return frozenset(
        line.strip().lower()
        for line in text.splitlines()
        if line.strip() and not line.startswith("#")
    )


def check_password(password: str, *, email: str | None = None) -> None:
    """Long enough, not one of the first passwords an attacker tries, not the email."""
    minimum = current_app.config["PASSWORD_MIN_LENGTH"]
    if len(password) < minimum:
        raise RuleViolation(
            gettext("Use at least %(minimum)d characters.", minimum=minimum), "password"
        )
    if len(password) > 256:
        raise RuleViolation(gettext("Use at most %(maximum)d characters.", maximum=256), "password")
    lowered = password.lower()
    if lowered in _common_passwords() or len(set(lowered)) <= 2:
        raise RuleViolation(
            gettext("That password is one of the first an attacker would try. Choose another."),
            "password",
        )
    if email and email.split("@")[0].lower() in lowered and len(email.split("@")[0]) >= 4:
        raise RuleViolation(
            gettext("Don't build the password from your email address."), "password"
        )


def find_user(email: str) -> User | None:
    return db.session.scalar(sa.select(User).where(User.email == normalise_email(email)))


@dataclass(frozen=True)
class NewPerson:
    """One person to add: what create_users needs of them."""

    email: str
    name: str
    department: Department
    roles: frozenset[Role] = frozenset()


def create_user(
    *,
    email: str,
    name: str,
    department: Department,
    roles: Iterable[Role] = (),
    password: str | None = None,
    acting: User | None = None,
    source: RoleChangeSource = RoleChangeSource.COMMAND_LINE,
) -> User:
    """Add a person. Without a password they sign in after following a password-set link.
    The roles they start with are recorded as given by `acting` (None on the command line)."""
    if find_user(email) is not None:
        raise Taken(gettext("Someone with this email address already exists."), "email")
    if password is not None:
        check_password(password, email=normalise_email(email))  # before anything is added
    (user,) = create_users(
        [NewPerson(email, name, department, frozenset(roles))], acting=acting, source=source
    )
    if password is not None:
        set_password(user, password)
        db.session.flush()
    return user


def create_users(
    people: Sequence[NewPerson],
    *,
    acting: User | None = None,
    source: RoleChangeSource = RoleChangeSource.COMMAND_LINE,
) -> list[User]:
    """Add several people at once (a batch of a staff import), in one INSERT, and announce
    them together, so the training they join is enrolled in a few statements, not a few per
    person. All or none: an email someone else added meanwhile refuses the whole batch."""
    users = [
        User(email=check_email(person.email), name=check_name(person.name)) for person in people
    ]
    for user, person in zip(users, people, strict=True):
        user.department = person.department
        user.set_roles(set(person.roles))
    with refused_if_taken(gettext("Someone with this email address already exists."), "email"):
        db.session.add_all(users)
        db.session.flush()
    for user in users:
        _record_role_changes(user, frozenset(), user.granted_roles, acting, source)
    joined_department.send(tuple(users))
    return users


def update_user(
    user: User,
    *,
    name: str,
    department: Department,
    roles: Iterable[Role],
    acting: User | None = None,
    source: RoleChangeSource = RoleChangeSource.COMMAND_LINE,
) -> None:
    """Change a person's name, department and roles. `acting` is None on the command line,
    the one place a person may be given a role without another admin (SECURITY.md, "Giving
    oneself a role")."""
    roles = set(roles)
    before = user.granted_roles
    if acting is not None and acting.id == user.id:
        if user.is_admin and Role.ADMIN not in roles:
            raise RuleViolation(gettext("You cannot take away your own admin role."), "roles")
        if roles - before:
            raise RuleViolation(gettext("Another admin must give you a role."), "roles")
    moved = user.department_id != department.id
    user.name = check_name(name)
    user.department = department
    user.set_roles(roles)
    db.session.flush()
    _record_role_changes(user, before, user.granted_roles, acting, source)
    if moved:
        joined_department.send((user,))


def _record_role_changes(
    user: User,
    before: frozenset[Role],
    after: frozenset[Role],
    acting: User | None,
    source: RoleChangeSource,
) -> None:
    """One RoleChange row per role given or taken away, in the change's transaction, and
    the person is told (docs/product.md, "Roles")."""
    granted = [role for role in GRANTABLE_ROLES if role in after - before]
    removed = [role for role in GRANTABLE_ROLES if role in before - after]
    if not granted and not removed:
        return
    changes = [
        RoleChange(
            person_id=user.id,
            actor_id=None if acting is None else acting.id,
            role=role,
            granted=role in granted,
            source=source,
        )
        for role in (*granted, *removed)
    ]
    db.session.add_all(changes)
    db.session.flush()
    roles_changed.send(
        user, granted=granted, removed=removed, actor=acting, change_id=changes[0].id
    )


def change_email(user: User, email: str) -> None:
    """Give a person a new email address (the directory renamed them): refused when it is not
    an address or is someone else's."""
    email = check_email(email)
    if email == user.email:
        return
    if find_user(email) is not None:
        raise Taken(gettext("Someone with this email address already exists."), "email")
    with refused_if_taken(gettext("Someone with this email address already exists."), "email"):
        user.email = email
        db.session.flush()


def set_active(acting: User | None, user: User, active: bool) -> None:
    """Deactivate or reactivate a person. Everything they wrote stays; they can't sign in.
    `acting` is None when the company's directory does it (SCIM)."""
    if acting is not None and acting.id == user.id and not active:
        raise RuleViolation(gettext("You cannot deactivate yourself."))
    if user.active != active:
        user.active = active
        user.renew_session_token()  # ends every open session of a deactivated person
        db.session.flush()
        if active:  # back, as if joining again: training assigned meanwhile reaches them now
            joined_department.send((user,))


def unlink_identity_provider(person: User | None = None) -> int:
    """Forget the identity provider's subject of one person, or of everyone (None): their next
    company sign-in finds them by verified e-mail again and stores the new provider's subject
    (docs/product.md, "Who may sign in, and how"). For a change of provider, whose subjects
    differ, or for one person whose account at the provider was made anew. How many were
    linked."""
    unlink = sa.update(User).where(User.oidc_subject.is_not(None)).values(oidc_subject=None)
    if person is not None:
        unlink = unlink.where(User.id == person.id)
    result = db.session.execute(unlink)  # one statement, however many people
    assert isinstance(result, sa.CursorResult)  # an UPDATE's result: it has a row count
    unlinked: int = result.rowcount
    return unlinked


# Passwords and sign-in


def set_password(user: User, password: str) -> None:
    check_password(password, email=user.email)
    user.password_hash = generate_password_hash(
        password, method=current_app.config["PASSWORD_HASH_METHOD"]
    )
    user.renew_session_token()


def sign_out(user: User) -> None:
    """End every session of this person: their session token is part of the id kept in the
    session and remember-me cookies, so a new one makes every copy of those worthless, on
    every device (SECURITY.md, "Sessions"). An unused password-set link stops working too."""
    user.renew_session_token()
    db.session.flush()


def choose_language(
    person: User, language: str | None, languages: Iterable[str], browser: str
) -> None:
    """Read the app in `language` from now on, or in the browser's (None; `browser` is what it
    asks for now): refused beside the field when it is not one of the app's `languages`
    (docs/product.md, "Languages")."""
    if language is not None and language not in languages:
        raise RuleViolation(gettext("Choose one of the languages listed."), "language")
    person.locale = language
    person.browser_locale = browser
    db.session.flush()


def note_browser_language(person: User, language: str) -> User:
    """Remember the language `person`'s browser asks for (at sign-in): what is written to them
    away from their requests is in it while they have chosen none (docs/product.md,
    "Languages")."""
    if person.browser_locale != language:
        person.browser_locale = language
        db.session.flush()
    return person


def authenticate(email: str, password: str) -> User | None:
    """The person with this email and password, active or not; None if either is wrong."""
    user = find_user(email)
    if user is None or user.password_hash is None:
        check_password_hash(
            _unknown_user_hash(current_app.config["PASSWORD_HASH_METHOD"]), password
        )
        return None
    return user if check_password_hash(user.password_hash, password) else None


def _password_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="password-set")


def _password_fingerprint(user: User) -> str:
    # Changes as soon as the password does (which uses the link up) and when the person is
    # deactivated (so an old link does not come back to life on reactivation).
    secret = f"{user.password_hash or 'unset'}:{user.session_token}"
    return hashlib.sha256(secret.encode()).hexdigest()[:16]


def password_set_token(user: User) -> str:
    """A token for a one-time link: valid until used or until PASSWORD_LINK_MAX_AGE passes."""
    return _password_serializer().dumps([user.id, _password_fingerprint(user)])


def user_for_password_token(token: str) -> User | None:
    """The active person the token was issued to, if it is genuine, unused and not expired."""
    try:
        user_id, fingerprint = _password_serializer().loads(
            token, max_age=current_app.config["PASSWORD_LINK_MAX_AGE"]
        )
    except (BadSignature, ValueError, TypeError):
        return None
    user = db.session.get(User, user_id) if isinstance(user_id, int) else None
    if user is None or not user.is_active or fingerprint != _password_fingerprint(user):
        return None
    return user


def load_signed_in_user(session_id: str) -> User | None:
    """Flask-Login's user loader: the id is "<user id>:<session token>".

    On a page that only reads, what other features read alongside the person
    (`read_alongside_signed_in_person`) comes back in the same statement."""
    user_id, _, token = session_id.partition(":")
    if not user_id.isdigit() or not token:
        return None
    reading = has_request_context() and request.method in READING_METHODS
    row = db.session.execute(_signed_in_user_statement(reading), {"id": int(user_id)}).first()
    if row is None:
        return None
    user: User = row[0]
    if not user.is_active or user.session_token != token:
        return None
    if reading:
        g.read_with_signed_in_person = (user.id, dict(zip(_ALONGSIDE, row[1:], strict=True)))
    return user


# Columns other features read with the signed-in person, by name: each built from the person's
# id column, as a scalar subquery. Features above people add theirs at start-up; people knows
# none of them.
_ALONGSIDE: dict[str, Callable[[sa.ColumnExpressionArgument[int]], sa.ScalarSelect[Any]]] = {}


def read_alongside_signed_in_person(
    name: str, column: Callable[[sa.ColumnExpressionArgument[int]], sa.ScalarSelect[Any]]
) -> None:
    """Have `column` (given the person's id column) read with the signed-in person on pages
    that only read: something every page shows, such as the bell's unread count, then costs
    no round trip of its own. Nothing a reading request does can change it meanwhile."""
    _ALONGSIDE[name] = column
    _signed_in_user_statement.cache_clear()


def read_with_signed_in_person(name: str, user: User) -> Any | None:
    """What `name` read with `user` when they were loaded as this request's signed-in person,
    or None: another person, a request that may write, or nothing of that name."""
    if not has_request_context():
        return None
    read: tuple[int, dict[str, Any]] | None = g.get("read_with_signed_in_person")
    if read is None or read[0] != user.id:
        return None
    return read[1].get(name)


@cache
def _signed_in_user_statement(reading: bool) -> sa.Select[Any]:
    """The person behind a request, on every request: built once, and without the join to
    their department, which few pages show (those read it when they do). When `reading`, with
    the columns read alongside them."""
    person_id = sa.bindparam("id", type_=sa.Integer)
    alongside = [column(User.id).label(name) for name, column in _ALONGSIDE.items()]
    return (
        sa.select(User, *(alongside if reading else []))
        .where(User.id == person_id)
        .options(lazyload(User.department))
    )
