"""Staff import from CSV (`email,name,department,roles`): upsert by email, batch by batch.

The admin page (in the background for a large file: people/import_jobs.py) and the
`import-staff` command share this. A preview goes through exactly the same steps and then
undoes them, so it cannot differ from what an import would do (docs/architecture.md,
"Staff import").
"""

from __future__ import annotations

import csv
import io
import re
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

import sqlalchemy as sa
from flask_babel import gettext, ngettext
from sqlalchemy.exc import IntegrityError

from serviceideas.errors import RuleViolation
from serviceideas.extensions import db
from serviceideas.people import services
from serviceideas.people.models import (
    Department,
    Role,
    RoleChangeSource,
    RowOutcome,
    User,
    normalise_email,
)

COLUMNS = ("email", "name", "department", "roles")
MAX_ROWS = 20_000
MAX_FIELD = 500  # characters; anything longer is certainly a broken file
# A batch is one transaction: others' writes wait for it at most about this long.
BATCH_ROWS = 250
BATCH_SECONDS = 0.5
# PostgreSQL locks only the rows a batch writes, which nobody else is writing, so nobody waits
# for its batches: they are larger there, for fewer statements.
BATCH_ROWS_POSTGRESQL = 1000
# After each batch the import pauses, so that writers waiting for SQLite's one write lock
# (they try again every 10 ms at most: database.py) take it before the next batch does.
PAUSE_BETWEEN_BATCHES = 0.03
_ROLE_SEPARATORS = re.compile(r"[;|,\s]+")


@dataclass
class RowReport:
    line: int
    email: str
    outcome: RowOutcome
    messages: list[str] = field(default_factory=list)


#: Called after each batch with the number of rows done so far and the batch's reports.
BatchDone = Callable[[int, list["RowReport"]], None]


@dataclass
class ImportReport:
    rows: list[RowReport] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # about the file as a whole
    applied: bool = False

    def count(self, outcome: RowOutcome) -> int:
        return sum(1 for row in self.rows if row.outcome is outcome)

    @property
    def ok(self) -> bool:
        return not self.problems and self.count(RowOutcome.ERROR) == 0

    def summary(self) -> str:
        if self.problems:
            return could_not_read(self.problems)
        counts = {outcome: self.count(outcome) for outcome in RowOutcome}
        return summary(applied=self.applied, rows=len(self.rows), counts=counts)


def summary(*, applied: bool, rows: int, counts: Mapping[RowOutcome, int]) -> str:
    """`Imported: 3 rows — 2 created, 1 updated, 0 unchanged, 0 errors.`"""
    if applied:
        done = ngettext("Imported: %(num)d row", "Imported: %(num)d rows", rows)
    else:
        done = ngettext("Preview: %(num)d row", "Preview: %(num)d rows", rows)
    count = {outcome: counts.get(outcome, 0) for outcome in RowOutcome}
    # The others are said of rows ("2 created"); errors are counted things of their own.
    outcomes = [
        ngettext("%(num)d created", "%(num)d created", count[RowOutcome.CREATED]),
        ngettext("%(num)d updated", "%(num)d updated", count[RowOutcome.UPDATED]),
        ngettext("%(num)d unchanged", "%(num)d unchanged", count[RowOutcome.UNCHANGED]),
        ngettext("%(num)d error", "%(num)d errors", count[RowOutcome.ERROR]),
    ]
    return gettext("%(done)s — %(outcomes)s.", done=done, outcomes=", ".join(outcomes))


def could_not_read(problems: Iterable[str]) -> str:
    return gettext("The file could not be read: %(problems)s", problems=" ".join(problems))


def parse_roles(text: str) -> set[Role]:
    """`trainer; manager` → {TRAINER, MANAGER}. Employee is implied and may be written."""
    roles = set()
    for word in filter(None, _ROLE_SEPARATORS.split(text.strip().lower())):
        try:
            roles.add(Role(word))
        except ValueError:
            known = ", ".join(role.value for role in Role)
            raise RuleViolation(
                gettext("Unknown role %(role)r (use %(known)s).", role=word, known=known)
            ) from None
    roles.discard(Role.EMPLOYEE)
    return roles


def decode(data: bytes) -> str:
    """The file's text; RuleViolation if it is not UTF-8 (with or without a byte-order mark)."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise RuleViolation(
            gettext("The file is not UTF-8 text. Save it as 'CSV UTF-8' and retry.")
        ) from None


def import_staff(
    text: str,
    *,
    acting: User | None = None,
    apply: bool = True,
    on_batch: BatchDone | None = None,
) -> ImportReport:
    """Create or update one person per row. A bad row is reported and changes nothing.

    The rows go in batches (`run`), each committed on its own, so that nobody else's writes
    wait long; `apply=False` (a preview) runs every step of each batch, so the report is
    exact, then rolls it back. A file with a problem as a whole is only ever previewed.
    """
    parsed = parse(text)
    report = ImportReport(problems=parsed.problems)
    report.applied = apply and not parsed.problems
    report.rows = run(
        parsed,
        acting_id=None if acting is None else acting.id,
        apply=report.applied,
        on_batch=on_batch,
    )
    return report


@dataclass
class ParsedFile:
    """A file's rows (line number and cells, blank lines left out) and its problems as a
    whole, read without touching the database."""

    position: dict[str, int] = field(default_factory=dict)  # column → index in a row
    lines: list[tuple[int, list[str]]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def parse(text: str) -> ParsedFile:
    parsed = ParsedFile()
    # strict: an unbalanced quote is an error, not a field that swallows the rest of the file
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = [column.strip().lower() for column in next(reader, [])]
    except csv.Error as error:
        parsed.problems.append(
            gettext("The header line is not valid CSV (%(error)s).", error=error)
        )
        return parsed
    missing = [column for column in COLUMNS if column not in header]
    doubled = sorted({column for column in COLUMNS if header.count(column) > 1})
    if doubled:
        parsed.problems.append(
            gettext("The first line names %(columns)s more than once.", columns=", ".join(doubled))
        )
        return parsed
    if missing:
        parsed.problems.append(
            gettext(
                "The first line must name the columns %(columns)s; missing: %(missing)s.",
                columns=",".join(COLUMNS),
                missing=", ".join(missing),
            )
        )
        return parsed
    parsed.position = {column: header.index(column) for column in COLUMNS}

    while True:
        line = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as error:
            # The reader cannot find where the next row starts: stop rather than guess.
            parsed.problems.append(
                gettext(
                    "Line %(line)d is not valid CSV (%(error)s); nothing after it was read.",
                    line=line,
                    error=error,
                )
            )
            break
        if not any(cell.strip() for cell in cells):
            continue  # blank lines are harmless
        if len(parsed.lines) >= MAX_ROWS:
            # Its rows are not previewed either: the file is to be split, and checking
            # 20,000 rows against the database kept the admin waiting seconds for nothing.
            parsed.problems.append(
                gettext("The file has more than %(maximum)d rows; split it.", maximum=MAX_ROWS)
            )
            parsed.lines.clear()
            break
        parsed.lines.append((line, cells))
    return parsed


def run(
    parsed: ParsedFile,
    *,
    acting_id: int | None,
    apply: bool,
    start: int = 0,
    on_batch: BatchDone | None = None,
) -> list[RowReport]:
    """Import (or preview) the parsed rows from the `start`-th on, batch by batch.

    Each batch is one transaction of at most `batch_rows()` rows or about BATCH_SECONDS, so
    another person's write waits at most about that long (docs/architecture.md, "Staff
    import"). An applied batch is committed, a previewed one rolled back; `on_batch(done,
    rows)` is called with the rows done so far and the batch's reports just before each
    commit — for an applied batch in the same transaction as its changes, so a record of
    progress it writes is exact whenever the process stops.
    """
    context = _RowContext(position=parsed.position, acting_id=acting_id)
    for _, cells in parsed.lines[:start]:  # a resumed import: earlier rows' emails were seen
        email = _cell(cells, parsed.position["email"])
        if email.strip():
            context.seen.add(normalise_email(email))
    reports: list[RowReport] = []
    done = start
    while done < len(parsed.lines):
        batch, done = _next_batch(parsed.lines, done, context)
        if not apply:
            db.session.rollback()
        reports.extend(batch)
        if on_batch is not None:
            on_batch(done, batch)
        db.session.commit()
        if done < len(parsed.lines):
            time.sleep(PAUSE_BETWEEN_BATCHES)
    return reports


def _cell(cells: list[str], index: int) -> str:
    return cells[index] if index < len(cells) else ""


@dataclass
class _RowContext:
    """What rows need across batches."""

    position: dict[str, int]
    acting_id: int | None
    seen: set[str] = field(default_factory=set)  # emails of earlier rows


@dataclass
class _Batch:
    """What one batch needs, loaded once for it (objects expire when a batch commits)."""

    departments: dict[str, Department]  # by lower-case name
    people: dict[str, User]  # the batch's people who exist already, by email
    acting: User | None
    new: list[tuple[RowReport, services.NewPerson]] = field(default_factory=list)


def _next_batch(
    lines: list[tuple[int, list[str]]], start: int, context: _RowContext
) -> tuple[list[RowReport], int]:
    """Check and apply rows from `start` until the batch is full; returns their reports and
    where the next batch starts. New people are added together at the end, in one INSERT."""
    began = time.monotonic()
    email_at = context.position["email"]
    upcoming = lines[start : start + batch_rows()]
    batch = _Batch(
        departments={d.name.lower(): d for d in db.session.scalars(sa.select(Department))},
        people=_people_by_email(_cell(cells, email_at) for _, cells in upcoming),
        acting=None if context.acting_id is None else db.session.get(User, context.acting_id),
    )
    reports = []
    for line, cells in upcoming:
        reports.append(_import_row(line, cells, context, batch))
        if time.monotonic() - began > BATCH_SECONDS:
            break
    _add_new_people(batch)
    return reports, start + len(reports)


def batch_rows() -> int:
    """The most rows in one batch, on this database."""
    postgresql = db.session.get_bind().dialect.name == "postgresql"
    return BATCH_ROWS_POSTGRESQL if postgresql else BATCH_ROWS


def _people_by_email(emails: Iterable[str]) -> dict[str, User]:
    wanted = sorted({normalise_email(email) for email in emails if email.strip()})
    return {u.email: u for u in db.session.scalars(sa.select(User).where(User.email.in_(wanted)))}


def _add_new_people(batch: _Batch) -> None:
    """The batch's new people in one go; if someone else added one of them meanwhile (the
    unique email refuses the whole INSERT), one by one, so only that row fails."""
    if not batch.new:
        return
    try:
        with db.session.begin_nested():
            services.create_users(
                [person for _, person in batch.new],
                acting=batch.acting,
                source=RoleChangeSource.STAFF_IMPORT,
            )
        return
    except RuleViolation:
        pass
    for row, person in batch.new:
        try:
            with db.session.begin_nested():
                services.create_users(
                    [person], acting=batch.acting, source=RoleChangeSource.STAFF_IMPORT
                )
        except RuleViolation as error:
            row.outcome = RowOutcome.ERROR
            row.messages.append(error.message)


def _import_row(line: int, cells: list[str], context: _RowContext, batch: _Batch) -> RowReport:
    position, seen = context.position, context.seen
    if len(cells) < len(position) or len(cells) < max(position.values()) + 1:
        expected = gettext("Expected %(count)d columns.", count=len(COLUMNS))
        return RowReport(line, "", RowOutcome.ERROR, [expected])
    values = {column: cells[index].strip() for column, index in position.items()}
    row = RowReport(line, values["email"][:MAX_FIELD], RowOutcome.ERROR)
    if any(len(value) > MAX_FIELD for value in values.values()):
        row.messages.append(
            gettext("A value is longer than %(maximum)d characters.", maximum=MAX_FIELD)
        )
        return row
    if any("\x00" in value or "\r" in value or "\n" in value for value in values.values()):
        row.messages.append(gettext("A value contains a line break or a NUL character."))
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
    department = batch.departments.get(" ".join(values["department"].split()).lower())
    if department is None:
        row.messages.append(
            gettext("No department called %(name)r; create it first.", name=values["department"])
            if values["department"]
            else gettext("The department is missing.")
        )
    try:
        roles = parse_roles(values["roles"])
    except RuleViolation as error:
        row.messages.append(error.message)
    if email is not None:
        if email in seen:
            row.messages.append(gettext("This email appears on an earlier row too."))
        seen.add(email)
    if row.messages:
        return row
    assert email and name and department and roles is not None

    user = batch.people.get(email)
    if user is None:
        row.outcome = RowOutcome.CREATED
        batch.new.append((row, services.NewPerson(email, name, department, frozenset(roles))))
        return row
    if (user.name, user.department_id, user.granted_roles) == (
        name,
        department.id,
        frozenset(roles),
    ):
        row.outcome = RowOutcome.UNCHANGED
        return row
    try:
        with db.session.begin_nested():
            # Refused if it would give the importing admin a role (SECURITY.md, "Giving
            # oneself a role"): a bad row, like any other.
            services.update_user(
                user,
                name=name,
                department=department,
                roles=roles,
                acting=batch.acting,
                source=RoleChangeSource.STAFF_IMPORT,
            )
        row.outcome = RowOutcome.UPDATED
        if not user.is_active:
            row.messages.append(gettext("Updated, but still deactivated."))
    except RuleViolation as error:
        row.messages.append(error.message)
    except IntegrityError:
        row.messages.append(
            gettext("Someone else changed this person at the same time; run it again.")
        )
    return row
