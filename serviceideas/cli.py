"""Commands for `flask --app wsgi …`.

Setting up:
    seed-demo        fill an empty database with the demo company (serviceideas/demo/)
    create-user      add one person who can sign in straight away
    password-link    print a one-time password-set link for a person
    import-staff     create or update people from a CSV file (--dry-run to preview)
    find-duplicates  once, after upgrading: judge the likely duplicates of the ideas there are
Run on a schedule:
    enrol-training   daily: start new periods of repeating assignments, enrol anyone missed
    send-reminders   every few minutes: training reminders, e-mail for what just happened
    send-digests     daily: the daily and weekly digests
    send-webhooks    every minute: webhook deliveries due, with retries
    (each safe from cron on every server at once: serviceideas/jobs.py)
Backups:
    export           write every row as JSON lines, to a file or standard output
    restore          load such a dump into an empty, migrated database
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import ParamSpec, TextIO

import click
import sqlalchemy as sa
from flask import Flask, current_app, url_for
from flask.cli import with_appcontext

from serviceideas.database import utcnow, writing
from serviceideas.errors import RuleViolation
from serviceideas.extensions import db
from serviceideas.jobs import Turn, one_at_a_time
from serviceideas.people import services, staff_import
from serviceideas.people.models import GRANTABLE_ROLES, Role, RowOutcome, User
from serviceideas.people.policies import (
    ONLY_BREAK_GLASS_PASSWORDS,
    may_have_password,
    may_sign_in_with_password,
)
from serviceideas.training.services import enrol_current_periods
from serviceideas.urls import absolute
from serviceideas.wording import plural

P = ParamSpec("P")


def writer(command: Callable[P, None]) -> Callable[P, None]:
    """A command that writes: on SQLite, take the write lock at the start of each transaction
    so commands and requests running at once queue instead of failing."""

    @wraps(command)
    def run(*args: P.args, **kwargs: P.kwargs) -> None:
        with writing():
            command(*args, **kwargs)

    return run


@click.command("seed-demo")
@with_appcontext
@writer
def seed_demo() -> None:
    """Fill an empty database with a demo company. Does nothing if anyone exists already."""
    if db.session.scalar(sa.select(sa.func.count(User.id))):
        click.echo("The database already has people in it; demo data not added.")
        return
    from serviceideas import demo  # only here: the serving app never loads the demo data

    sign_ins = demo.seed()
    db.session.commit()
    click.echo(f"Demo company created. Sign in with any of these, password {demo.DEMO_PASSWORD!r}:")
    for email in sign_ins:
        click.echo(f"  {email}")


@click.command("create-user")
@with_appcontext
@writer
@click.argument("email")
@click.option("--name", required=True, help="The person's full name.")
@click.option("--department", required=True, help="An existing department's name.")
@click.option(
    "--role",
    "roles",
    multiple=True,
    type=click.Choice([role.value for role in (Role.EMPLOYEE, *GRANTABLE_ROLES)]),
    help="Repeat for several roles. Everyone is an employee.",
)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def create_user(
    email: str, name: str, department: str, roles: tuple[str, ...], password_stdin: bool
) -> None:
    """Add a person who can sign in straight away."""
    found = services.find_department(department)
    if found is None:
        raise click.UsageError(f"No department called {department!r}.")
    chosen = {Role(role) for role in roles} - {Role.EMPLOYEE}
    if not may_have_password(email, chosen, active=True):
        raise click.UsageError(
            f"{ONLY_BREAK_GLASS_PASSWORDS} {email} is not one: add them on the People page, "
            "or let the identity provider bring them."
        )
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user = services.create_user(
            email=email,
            name=name,
            department=found,
            roles=chosen,
            password=password,
        )
    except RuleViolation as error:
        raise click.UsageError(error.message) from None
    db.session.commit()
    click.echo(f"Created {user.email} ({', '.join(user.roles)}) in {found.name}.")


@click.command("password-link")
@with_appcontext
@click.argument("email")
def password_link(email: str) -> None:
    """Print a one-time password-set link for a person, as their page in the admin area does.

    For when no admin can sign in to make one: a break-glass admin has lost their password
    while the identity provider is down, or the only admin has forgotten theirs."""
    user = services.find_user(email)
    if user is None or not user.is_active:
        raise click.UsageError(f"No active person has the email {email!r}.")
    if not may_sign_in_with_password(user):
        raise click.UsageError(f"{ONLY_BREAK_GLASS_PASSWORDS} {user.email} is not one.")
    # The link starts with SERVICEIDEAS_BASE_URL (SECURITY.md, "Links and hosts").
    with current_app.test_request_context(base_url=current_app.config["BASE_URL"]):
        link = absolute(url_for("auth.set_password", token=services.password_set_token(user)))
    hours = current_app.config["PASSWORD_LINK_MAX_AGE"] // 3600
    click.echo(f"A password-set link for {user.email}, working once for {plural(hours, 'hour')}:")
    click.echo(link)


@click.command("unlink-identity-provider")
@with_appcontext
@writer
@click.argument("email", required=False)
@click.option("--all", "everyone", is_flag=True, help="Everyone (a change of provider).")
def unlink_identity_provider(email: str | None, everyone: bool) -> None:
    """Forget the identity provider's subject of one person (EMAIL) or of everyone (--all):
    each is found by verified e-mail at their next company sign-in, and linked anew. Needed
    when OIDC_ISSUER changes to another provider, whose subjects differ."""
    if bool(email) == everyone:
        raise click.UsageError("Name one person's e-mail, or --all, not both.")
    person = None
    if email:
        person = services.find_user(email)
        if person is None:
            raise click.UsageError(f"Nobody has the email {email!r}.")
    unlinked = services.unlink_identity_provider(person)
    db.session.commit()
    click.echo(
        f"Unlinked {plural(unlinked, 'person', 'people')} from the identity provider: found "
        "again by verified e-mail at the next company sign-in."
    )


@click.command("import-staff")
@with_appcontext
@writer
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Report what would change, change nothing.")
def import_staff(csv_file: Path, dry_run: bool) -> None:
    """Create or update people from a CSV file with columns email,name,department,roles."""
    try:
        text = staff_import.decode(csv_file.read_bytes())
    except RuleViolation as error:
        raise click.ClickException(error.message) from None
    total = len(staff_import.parse(text).lines)

    def progress(done: int, _: object) -> None:
        if total > staff_import.BATCH_ROWS:  # a large file: say how far it has got
            click.echo(f"{done} of {total} rows…", err=True)

    report = staff_import.import_staff(text, apply=not dry_run, on_batch=progress)
    for row in report.rows:
        if row.outcome is not RowOutcome.UNCHANGED or row.messages:
            detail = f" — {' '.join(row.messages)}" if row.messages else ""
            click.echo(f"line {row.line}: {row.email or '?'}: {row.outcome.value}{detail}")
    click.echo(report.summary())
    if not report.ok:
        sys.exit(1)


@click.command("find-duplicates")
@with_appcontext
@writer
def find_duplicates() -> None:
    """Judge every idea's likely duplicates among older ideas, as new ideas are judged when
    written (docs/product.md, "Similar ideas and duplicates"). Commits in batches; running it
    again gives the same pairs."""
    from serviceideas.ideas.services import find_duplicates as judge

    after, pairs = 0, 0
    while True:
        last, stored = judge(after)
        if last is None:
            break
        db.session.commit()
        pairs += stored
        after = last
    click.echo(f"Likely duplicates: {plural(pairs, 'pair')} stored.")


def say_how_it_went(turn: Turn) -> None:
    """Tell the job's reader about another server's run of the same job, if there was one."""
    note = turn.note()
    if note is not None:
        click.echo(note)


@click.command("enrol-training")
@with_appcontext
@writer
def enrol_training() -> None:
    """Start new periods of repeating assignments and enrol anyone missed. Run daily; idempotent,
    and safe on every server at once: another server's run is waited for, then finds nothing."""
    with one_at_a_time("enrol-training", wait=True) as turn:
        say_how_it_went(turn)
        added = enrol_current_periods()
        db.session.commit()
        click.echo(f"{plural(added, 'new enrolment')}.")


@click.command("send-reminders")
@with_appcontext
@writer
def send_reminders() -> None:
    """Training due soon and overdue, e-mail for what just happened, and delivery. Run every
    few minutes; idempotent — a second run, or two at once, sends nothing twice. On several
    servers, a run that finds another server's run going skips: that one sends what there is."""
    from serviceideas.notifications import services as notifications

    with one_at_a_time("send-reminders", wait=False) as turn:
        say_how_it_went(turn)
        if not turn.ran:
            return
        added = notifications.create_reminders(utcnow().date())
        queued = notifications.queue_immediate()
        db.session.commit()
        sent, failed = notifications.deliver()
        mail = (
            "e-mail is off (no SMTP_HOST)"
            if not notifications.mail_enabled()
            else (
                f"{plural(queued, 'e-mail')} queued, {sent} sent, {failed} failed "
                "(retried next run)"
            )
        )
        click.echo(f"{plural(added, 'reminder')}; {mail}.")
        if failed:
            sys.exit(1)


@click.command("send-digests")
@with_appcontext
@writer
def send_digests() -> None:
    """Daily and weekly digests (the weekly ones once per ISO week). Run once a day; on several
    servers, another server's run is waited for, then this one sends what it left (nothing)."""
    from serviceideas.ideas.models import Stalled
    from serviceideas.notifications import services as notifications

    with one_at_a_time("send-digests", wait=True) as turn:
        say_how_it_went(turn)
        now = utcnow()
        today = now.date()
        queued = notifications.send_daily_digests(today)
        queued += notifications.send_role_digests(today, Stalled.as_configured(now))
        queued += notifications.send_overdue_digests(today)
        db.session.commit()
        sent, failed = notifications.deliver()
        click.echo(
            f"{plural(queued, 'digest')} queued; {plural(sent, 'e-mail')} sent, {failed} failed."
        )
        if failed:
            sys.exit(1)


@click.command("send-webhooks")
@with_appcontext
@writer
def send_webhooks() -> None:
    """Send due webhook deliveries, with retries and back-off (docs/architecture.md, "The
    send-webhooks job"). Run every minute; each delivery is claimed before it is sent, so two
    runs at once never send one twice, and on several servers a run that finds another
    server's run going skips. A receiver's failure is retried later, not this job's failure."""
    from serviceideas.webhooks.delivery import send_due

    with one_at_a_time("send-webhooks", wait=False) as turn:
        say_how_it_went(turn)
        if not turn.ran:
            return
        click.echo(send_due().line())


@click.command("export")
@click.argument("dump", type=click.File("w", encoding="utf-8"))
@with_appcontext
def export_data(dump: TextIO) -> None:
    """Write a complete, re-importable dump of the data (JSON lines) to DUMP ('-': stdout)."""
    from serviceideas.backup import export

    counts = export(dump)
    rows, tables = plural(sum(counts.values()), "row"), plural(len(counts), "table")
    click.echo(f"Exported {rows} from {tables}.", err=True)


@click.command("restore")
@click.argument("dump", type=click.File("r", encoding="utf-8"))
@with_appcontext
@writer
def restore_data(dump: TextIO) -> None:
    """Load a dump written by `export` into an empty, migrated database."""
    from serviceideas.backup import RestoreError, restore

    try:
        counts = restore(dump)
    except RestoreError as error:
        raise click.ClickException(str(error)) from None
    rows, tables = plural(sum(counts.values()), "row"), plural(len(counts), "table")
    click.echo(f"Restored {rows} into {tables}.")


def register(app: Flask) -> None:
    for command in (
        seed_demo,
        create_user,
        password_link,
        unlink_identity_provider,
        import_staff,
        find_duplicates,
        enrol_training,
        send_reminders,
        send_digests,
        send_webhooks,
        export_data,
        restore_data,
    ):
        app.cli.add_command(command)
