"""Staff import from CSV (`email,name,department,roles`): upsert by email, row by row.

The admin page and the `import-staff` command share this. A dry run goes through exactly
the same steps and then undoes them, so the preview cannot differ from what an import
would do.
"""

from __future__ import annotations

import csv
import enum
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from serviceideas.errors import RuleViolation
from serviceideas.extensions import db
from serviceideas.people import services
from serviceideas.people.models import (
    Department,
    Role,
    RoleChangeSource,
    User,
    normalise_email,
)
from serviceideas.wording import plural

COLUMNS = ("email", "name", "department", "roles")
MAX_ROWS = 20_000
MAX_FIELD = 500  # characters; anything longer is certainly a broken file
_ROLE_SEPARATORS = re.compile(r"[;|,\s]+")


class Outcome(enum.StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    ERROR = "error"


@dataclass
class RowReport:
    line: int
    email: str
    outcome: Outcome
    messages: list[str] = field(default_factory=list)


@dataclass
class ImportReport:
    rows: list[RowReport] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # about the file as a whole
    applied: bool = False

    def count(self, outcome: Outcome) -> int:
        return sum(1 for row in self.rows if row.outcome is outcome)

    @property
    def ok(self) -> bool:
        return not self.problems and self.count(Outcome.ERROR) == 0

    def summary(self) -> str:
        if self.problems:
            return "The file could not be read: " + " ".join(self.problems)
        parts = [
            plural(self.count(outcome), "error")  # the others are said of rows: "2 created"
            if outcome is Outcome.ERROR
            else f"{self.count(outcome)} {outcome.value}"
            for outcome in Outcome
        ]
        verb = "Imported" if self.applied else "Preview"
        rows = plural(len(self.rows), "row")
        return f"{verb}: {rows} — " + ", ".join(parts) + "."


def parse_roles(text: str) -> set[Role]:
    """`trainer; manager` → {TRAINER, MANAGER}. Employee is implied and may be written."""
    roles = set()
    for word in filter(None, _ROLE_SEPARATORS.split(text.strip().lower())):
        try:
            roles.add(Role(word))
        except ValueError:
            known = ", ".join(role.value for role in Role)
            raise RuleViolation(f"Unknown role {word!r} (use {known}).") from None
    roles.discard(Role.EMPLOYEE)
    return roles


def decode(data: bytes) -> str:
    """The file's text; RuleViolation if it is not UTF-8 (with or without a byte-order mark)."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise RuleViolation(
            "The file is not UTF-8 text. Save it as 'CSV UTF-8' and retry."
        ) from None


def import_staff(text: str, *, acting: User | None = None, apply: bool = True) -> ImportReport:
    """Create or update one person per row. A bad row is reported and changes nothing.

    `apply=False` (a preview) still runs every step, so the report is exact, then undoes them
    all; so does an import of a file with a problem as a whole. The rest is only flushed.
    """
    attempt = db.session.begin_nested()
    try:
        report = _import_rows(text, acting)
    except BaseException:
        attempt.rollback()
        raise
    report.applied = apply and not report.problems
    if report.applied:
        attempt.commit()
    else:
        attempt.rollback()
    return report


def _import_rows(text: str, acting: User | None) -> ImportReport:
    report = ImportReport()
    # strict: an unbalanced quote is an error, not a field that swallows the rest of the file
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = [column.strip().lower() for column in next(reader, [])]
    except csv.Error as error:
        report.problems.append(f"The header line is not valid CSV ({error}).")
        return report
    missing = [column for column in COLUMNS if column not in header]
    doubled = sorted({column for column in COLUMNS if header.count(column) > 1})
    if doubled:
        report.problems.append(f"The first line names {', '.join(doubled)} more than once.")
        return report
    if missing:
        report.problems.append(
            f"The first line must name the columns {','.join(COLUMNS)}; "
            f"missing: {', '.join(missing)}."
        )
        return report
    position = {column: header.index(column) for column in COLUMNS}

    lines: list[tuple[int, list[str]]] = []
    while True:
        line = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as error:
            # The reader cannot find where the next row starts: stop rather than guess.
            report.problems.append(
                f"Line {line} is not valid CSV ({error}); nothing after it was read."
            )
            break
        if not any(cell.strip() for cell in cells):
            continue  # blank lines are harmless
        if len(lines) >= MAX_ROWS:
            report.problems.append(f"The file has more than {MAX_ROWS} rows; split it.")
            break
        lines.append((line, cells))

    context = _RowContext(
        position=position,
        departments={d.name.lower(): d for d in db.session.scalars(sa.select(Department))},
        people=_people_by_email(
            cells[position["email"]] for _, cells in lines if len(cells) > position["email"]
        ),
        acting=acting,
    )
    report.rows = [_import_row(line, cells, context) for line, cells in lines]
    return report


@dataclass
class _RowContext:
    """What every row needs, loaded once for the whole file."""

    position: dict[str, int]
    departments: dict[str, Department]
    people: dict[str, User]  # the people the file names who exist already, by email
    acting: User | None
    seen: set[str] = field(default_factory=set)


def _people_by_email(emails: Iterable[str]) -> dict[str, User]:
    wanted = sorted({normalise_email(email) for email in emails if email.strip()})
    found: dict[str, User] = {}
    for start in range(0, len(wanted), 500):  # keep each IN list a sensible size
        chunk = wanted[start : start + 500]
        found.update(
            (u.email, u) for u in db.session.scalars(sa.select(User).where(User.email.in_(chunk)))
        )
    return found


def _import_row(line: int, cells: list[str], context: _RowContext) -> RowReport:
    position, seen = context.position, context.seen
    if len(cells) < len(position) or len(cells) < max(position.values()) + 1:
        return RowReport(line, "", Outcome.ERROR, [f"Expected {len(COLUMNS)} columns."])
    values = {column: cells[index].strip() for column, index in position.items()}
    row = RowReport(line, values["email"][:MAX_FIELD], Outcome.ERROR)
    if any(len(value) > MAX_FIELD for value in values.values()):
        row.messages.append(f"A value is longer than {MAX_FIELD} characters.")
        return row
    if any("\x00" in value or "\r" in value or "\n" in value for value in values.values()):
        row.messages.append("A value contains a line break or a NUL character.")
        return row

    # Check everything first, so a bad row is refused whole.
    email = name = department = roles = None
    try:
        email = row.email = services.check_email(values["email"])
    except RuleViolation as error:
        row.messages.append(error.message)
    try:
        name = services.check_name(values["name"])
    except RuleViolation as error:
        row.messages.append(error.message)
    department = context.departments.get(" ".join(values["department"].split()).lower())
    if department is None:
        row.messages.append(
            f"No department called {values['department']!r}; create it first."
            if values["department"]
            else "The department is missing."
        )
    try:
        roles = parse_roles(values["roles"])
    except RuleViolation as error:
        row.messages.append(error.message)
    if email is not None:
        if email in seen:
            row.messages.append("This email appears on an earlier row too.")
        seen.add(email)
    if row.messages:
        return row
    assert email and name and department and roles is not None

    try:
        with db.session.begin_nested():
            user = context.people.get(email)
            if user is None:
                context.people[email] = services.create_user(
                    email=email,
                    name=name,
                    department=department,
                    roles=roles,
                    acting=context.acting,
                    source=RoleChangeSource.STAFF_IMPORT,
                )
                row.outcome = Outcome.CREATED
            elif (user.name, user.department_id, user.granted_roles) == (
                name,
                department.id,
                frozenset(roles),
            ):
                row.outcome = Outcome.UNCHANGED
            else:
                # Refused if it would give the importing admin a role (SECURITY.md,
                # "Giving oneself a role"): a bad row, like any other.
                services.update_user(
                    user,
                    name=name,
                    department=department,
                    roles=roles,
                    acting=context.acting,
                    source=RoleChangeSource.STAFF_IMPORT,
                )
                row.outcome = Outcome.UPDATED
                if not user.is_active:
                    row.messages.append("Updated, but still deactivated.")
    except RuleViolation as error:
        row.outcome = Outcome.ERROR
        row.messages.append(error.message)
    except IntegrityError:
        row.outcome = Outcome.ERROR
        row.messages.append("Someone else changed this person at the same time; run it again.")
    return row
