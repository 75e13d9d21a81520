"""Telling people what happened: in the app at once, by e-mail through a queue.

Events (an idea moved, a comment, feedback, training assigned) become `Notification` rows in
the same transaction as the event — cheap, and nothing is lost if mail is down. The
scheduled commands then do the rest: `send-reminders` (every few minutes) adds due and
overdue reminders, queues e-mail for people who want it right away, and delivers;
`send-digests` (daily) sends the daily, weekly and role digests. Every e-mail has a unique
(person, key) row in `emails` before it is sent, so nothing is ever sent twice.
"""

from __future__ import annotations

import secrets
import smtplib
import ssl
from collections.abc import Iterable
from contextlib import AbstractContextManager, nullcontext
from datetime import date, datetime, timedelta
from email.message import EmailMessage
from functools import cache
from typing import Any

import sqlalchemy as sa
from flask import current_app, has_request_context, render_template
from itsdangerous import BadSignature, URLSafeSerializer

from serviceideas.database import insert_ignoring_duplicates, utcnow, writing
from serviceideas.extensions import db
from serviceideas.notifications.models import (
    CalendarFeed,
    Category,
    Delivery,
    Email,
    Notification,
    Preference,
)
from serviceideas.people.models import User

RECENT = timedelta(days=7)  # older unsent notifications are not e-mailed one by one
CLAIM_EXPIRES = timedelta(minutes=10)
MAX_ATTEMPTS = 8


def _insert(table: Any) -> Any:
    return insert_ignoring_duplicates(table, db.session.get_bind().dialect.name)


def _count(statement: Any) -> int:
    return db.session.execute(statement.execution_options(preserve_rowcount=True)).rowcount


# In the app


def notify(
    user_id: int, category: Category, key: str, title: str, link: str, body: str = ""
) -> bool:
    """Tell one person, once: a second call with the same key adds nothing."""
    return bool(
        _count(
            _insert(Notification.__table__).values(
                user_id=user_id,
                category=category,
                key=key,
                title=title[:300],
                body=body,
                link=link[:300],
                created_at=utcnow(),
            )
        )
    )


def unread_count(user: User) -> int:
    return db.session.scalar(_unread_count_statement(), {"user_id": user.id}) or 0


@cache
def _unread_count_statement() -> sa.Select[tuple[int]]:
    """Built once, with the person as a parameter: the bell asks on every page."""
    return sa.select(sa.func.count(Notification.id)).where(
        Notification.user_id == sa.bindparam("user_id", type_=sa.Integer),
        Notification.read_at.is_(None),
    )


def recent(user: User, limit: int = 50) -> list[Notification]:
    return list(
        db.session.scalars(
            sa.select(Notification)
            .where(Notification.user_id == user.id)
            .order_by(Notification.created_at.desc(), Notification.id.desc())
            .limit(limit)
        )
    )


def mark_read(user: User, notification_id: int | None = None) -> int:
    """Mark one (or, without an id, every) unread notification of `user` as read."""
    statement = sa.update(Notification).where(
        Notification.user_id == user.id, Notification.read_at.is_(None)
    )
    if notification_id is not None:
        statement = statement.where(Notification.id == notification_id)
    return db.session.execute(
        statement.values(read_at=utcnow()).execution_options(synchronize_session=False)
    ).rowcount


# Preferences


def preferences(user: User) -> dict[Category, Delivery]:
    chosen = dict(
        db.session.execute(
            sa.select(Preference.category, Preference.delivery).where(Preference.user_id == user.id)
        ).all()
    )
    return {category: chosen.get(category, Delivery.IMMEDIATELY) for category in Category}


def set_preference(user_id: int, category: Category, delivery: Delivery) -> None:
    # Insert-or-nothing, then update: two requests at once (two tabs, a mail app's one-click
    # unsubscribe) cannot both insert the same row.
    db.session.execute(
        _insert(Preference.__table__).values(user_id=user_id, category=category, delivery=delivery)
    )
    db.session.execute(
        sa.update(Preference)
        .where(Preference.user_id == user_id, Preference.category == category)
        .values(delivery=delivery)
        .execution_options(synchronize_session=False)
    )


def _delivery_is(delivery: Delivery) -> sa.ColumnElement[bool]:
    """For a query over Notification (or Email) joined to User: the person's choice."""
    chosen = (
        sa.select(Preference.delivery)
        .where(Preference.user_id == User.id, Preference.category == Notification.category)
        .scalar_subquery()
    )
    return sa.func.coalesce(chosen, Delivery.IMMEDIATELY.value) == delivery.value


# Signed links


def _signer(salt: str) -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=salt)


def unsubscribe_token(user_id: int, category: Category) -> str:
    return _signer("unsubscribe").dumps([user_id, category.value])


def read_unsubscribe_token(token: str) -> tuple[User, Category] | None:
    try:
        user_id, category = _signer("unsubscribe").loads(token)
        user = db.session.get(User, int(user_id))
        return (user, Category(category)) if user is not None else None
    except (BadSignature, ValueError, TypeError, OverflowError):
        return None


def calendar_token(user: User, *, reset: bool = False) -> str:
    db.session.execute(
        _insert(CalendarFeed.__table__).values(user_id=user.id, secret=secrets.token_hex(16))
    )  # nothing if the person has one already (or another request just made it)
    feed = db.session.get_one(CalendarFeed, user.id, populate_existing=True)
    if reset:
        feed.secret = secrets.token_hex(16)
    db.session.flush()
    return _signer("calendar").dumps([user.id, feed.secret])


def read_calendar_token(token: str) -> User | None:
    try:
        user_id, secret = _signer("calendar").loads(token)
        feed = db.session.get(CalendarFeed, int(user_id))
    except (BadSignature, ValueError, TypeError, OverflowError):
        return None
    if feed is None or feed.secret != secret:
        return None
    user = db.session.get(User, feed.user_id)
    return user if user is not None and user.active else None


# E-mail


def mail_enabled() -> bool:
    return bool(current_app.config["SMTP_HOST"])


def absolute(path: str) -> str:
    return current_app.config["BASE_URL"].rstrip("/") + path


def _url_context() -> AbstractContextManager[object]:
    """Templates build links with url_for; the scheduled commands run outside any request."""
    if has_request_context():
        return nullcontext()
    return current_app.test_request_context(base_url=current_app.config["BASE_URL"])


def queue_email(
    user: User, key: str, category: Category, subject: str, template: str, **context: Any
) -> bool:
    """Render and queue one e-mail; False when it was queued before (the send log's key)."""
    if not mail_enabled():
        return False
    unsubscribe = absolute(f"/unsubscribe/{unsubscribe_token(user.id, category)}")
    context = {"person": user, "unsubscribe": unsubscribe, "absolute": absolute, **context}
    with _url_context():
        text = render_template(f"email/{template}.txt", **context)
        html = render_template(f"email/{template}.html", **context)
    return bool(
        _count(
            _insert(Email.__table__).values(
                user_id=user.id,
                key=key,
                category=category,
                to_address=user.email,
                subject=subject[:300],
                text_body=text,
                html_body=html,
                created_at=utcnow(),
                attempts=0,
            )
        )
    )


def queue_immediate(now: datetime | None = None) -> int:
    """Queue an e-mail for each recent notification whose person wants e-mail right away."""
    now = now or utcnow()
    if not mail_enabled():
        return 0
    already = sa.exists().where(
        Email.user_id == Notification.user_id,
        Email.key == sa.literal("n:") + sa.cast(Notification.id, sa.String),
    )
    rows = db.session.execute(
        sa.select(Notification, User)
        .join(User, Notification.user_id == User.id)
        .where(
            User.active.is_(True),
            Notification.read_at.is_(None),
            Notification.created_at >= now - RECENT,
            Notification.category != Category.DIGESTS,
            _delivery_is(Delivery.IMMEDIATELY),
            ~already,
        )
        .order_by(Notification.id)
    ).all()
    return sum(
        queue_email(user, f"n:{n.id}", n.category, n.title, "notification", notification=n)
        for n, user in rows
    )


def deliver(now: datetime | None = None, limit: int = 1000) -> tuple[int, int]:
    """Send queued e-mail; (sent, failed). Each message is claimed first, so two runs at once
    never send the same one; a failure is recorded and retried by the next run.

    Unlike other services this commits, once per message: a claim must be visible to other
    senders before sending, and a sent message must be recorded before the next one."""
    now = now or utcnow()
    if not mail_enabled():
        return 0, 0
    with writing():
        return _deliver(now, limit)


def _deliver(now: datetime, limit: int) -> tuple[int, int]:
    pending = db.session.scalars(
        sa.select(Email.id)
        .where(
            Email.sent_at.is_(None),
            Email.attempts < MAX_ATTEMPTS,
            sa.or_(Email.claimed_at.is_(None), Email.claimed_at < now - CLAIM_EXPIRES),
        )
        .order_by(Email.id)
        .limit(limit)
    ).all()
    db.session.commit()
    sent = failed = 0
    for email_id in pending:
        claiming = utcnow()  # the moment of this claim, not of the run's start
        claimed = db.session.execute(
            sa.update(Email)
            .where(
                Email.id == email_id,
                Email.sent_at.is_(None),
                sa.or_(Email.claimed_at.is_(None), Email.claimed_at < claiming - CLAIM_EXPIRES),
            )
            .values(claimed_at=claiming, attempts=Email.attempts + 1)
            .execution_options(synchronize_session=False)
        ).rowcount
        db.session.commit()  # the claim is visible to any other sender before we send
        if not claimed:
            continue
        email = db.session.get_one(Email, email_id)
        try:
            _send(email)
        except (OSError, smtplib.SMTPException) as error:
            email.claimed_at = None
            email.last_error = f"{type(error).__name__}: {error}"[:500]
            failed += 1
        else:
            email.sent_at = utcnow()
            email.last_error = None
            sent += 1
        db.session.commit()
    return sent, failed


def _send(email: Email) -> None:
    config = current_app.config
    message = EmailMessage()
    message["From"] = config["MAIL_SENDER"]
    message["To"] = email.to_address
    message["Subject"] = email.subject
    unsubscribe = absolute(f"/unsubscribe/{unsubscribe_token(email.user_id, email.category)}")
    message["List-Unsubscribe"] = f"<{unsubscribe}>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(email.text_body)
    message.add_alternative(email.html_body, subtype="html")
    security = config["SMTP_SECURITY"]
    if security == "ssl":
        smtp: smtplib.SMTP = smtplib.SMTP_SSL(
            config["SMTP_HOST"],
            config["SMTP_PORT"],
            timeout=20,
            context=ssl.create_default_context(),
        )
    else:
        smtp = smtplib.SMTP(config["SMTP_HOST"], config["SMTP_PORT"], timeout=20)
    with smtp:
        if security == "starttls":
            smtp.starttls(context=ssl.create_default_context())
        if config["SMTP_USER"]:
            smtp.login(config["SMTP_USER"], config["SMTP_PASSWORD"] or "")
        smtp.send_message(message)


# Reminders and digests


def create_reminders(today: date) -> int:
    """Training due in three days, and overdue (once; after that the weekly digest)."""
    from serviceideas.training.models import Assignment, Enrolment, Module

    rows = db.session.execute(
        sa.select(Enrolment.id, Enrolment.user_id, Enrolment.due_on, Module.title)
        .join(Assignment, Enrolment.assignment_id == Assignment.id)
        .join(Module, Assignment.module_id == Module.id)
        .join(User, Enrolment.user_id == User.id)
        .where(
            Enrolment.completed_at.is_(None),
            Assignment.withdrawn_at.is_(None),
            User.active.is_(True),
            sa.or_(
                sa.and_(Enrolment.due_on > today, Enrolment.due_on <= today + timedelta(days=3)),
                Enrolment.due_on < today,
            ),
        )
    ).all()
    added = 0
    for enrolment_id, user_id, due_on, title in rows:
        link = f"/training/enrolments/{enrolment_id}"
        if due_on < today:
            added += notify(
                user_id,
                Category.TRAINING,
                f"overdue:{enrolment_id}",
                f"Overdue: {title}",
                link,
                f"It was due on {due_on:%-d %B}. Late work is welcome: it counts.",
            )
        else:
            added += notify(
                user_id,
                Category.TRAINING,
                f"due:{enrolment_id}",
                f"Due soon: {title}",
                link,
                f"Due on {due_on:%-d %B}.",
            )
    return added


def send_daily_digests(today: date) -> int:
    """One e-mail per person who chose 'daily', with what they were told since yesterday."""
    # Yesterday, whole: each notification is in exactly one day's digest.
    until = datetime.combine(today, datetime.min.time(), tzinfo=utcnow().tzinfo)
    since = until - timedelta(days=1)
    rows = db.session.execute(
        sa.select(Notification, User)
        .join(User, Notification.user_id == User.id)
        .where(
            User.active.is_(True),
            Notification.created_at >= since,
            Notification.created_at < until,
            Notification.category != Category.DIGESTS,
            _delivery_is(Delivery.DAILY),
        )
        .order_by(User.id, Notification.created_at)
    ).all()
    by_person: dict[int, tuple[User, list[Notification]]] = {}
    for notification, user in rows:
        by_person.setdefault(user.id, (user, []))[1].append(notification)
    return sum(
        queue_email(
            user,
            f"daily:{today}",
            Category.DIGESTS,
            f"Your day in serviceideas: {len(items)} update(s)",
            "digest",
            heading="Since yesterday",
            items=items,
        )
        for user, items in by_person.values()
        if _wants_digests(user)  # the daily e-mail's own unsubscribe link turns this off
    )


def _digest_recipients(condition: Any) -> Iterable[User]:
    return db.session.scalars(
        sa.select(User).where(User.active.is_(True), condition).order_by(User.id)
    )


def send_role_digests(today: date, stalled_days: int) -> int:
    """Managers, weekly: stalled ideas and ideas waiting for review. Trainers, daily: new
    reflections. Also in the app. Off for whoever chose 'off' for digests."""
    from serviceideas.ideas.models import Idea, Status
    from serviceideas.training.models import Reflection

    year, week, _ = today.isocalendar()
    now = utcnow()
    waiting = (
        db.session.scalar(sa.select(sa.func.count(Idea.id)).where(Idea.status == Status.SUBMITTED))
        or 0
    )
    stalled = list(
        db.session.scalars(
            sa.select(Idea)
            .where(
                Idea.status.in_([s for s in Status if s.is_open]),
                Idea.status_changed_at < now - timedelta(days=stalled_days),
            )
            .order_by(Idea.status_changed_at)
            .limit(20)
        )
    )
    since = now - timedelta(days=1)
    reflections = (
        db.session.scalar(
            sa.select(sa.func.count(Reflection.enrolment_id)).where(Reflection.written_at >= since)
        )
        or 0
    )
    sent = 0
    for manager in _digest_recipients(sa.or_(User.is_manager, User.is_admin)):
        key = f"manager-digest:{year}-W{week:02d}"
        title = f"This week: {waiting} idea(s) waiting for review, {len(stalled)} stalled"
        notify(manager.id, Category.DIGESTS, key, title, "/ideas/review")
        if _wants_digests(manager):
            sent += queue_email(
                manager,
                key,
                Category.DIGESTS,
                title,
                "manager_digest",
                waiting=waiting,
                stalled=stalled,
            )
    if reflections:
        for trainer in _digest_recipients(User.is_trainer):
            key = f"trainer-digest:{today}"
            title = f"{reflections} new reflection(s) to read"
            notify(trainer.id, Category.DIGESTS, key, title, "/training/reflections")
            if _wants_digests(trainer):
                sent += queue_email(
                    trainer, key, Category.DIGESTS, title, "trainer_digest", count=reflections
                )
    return sent


def _wants_digests(user: User) -> bool:
    return preferences(user)[Category.DIGESTS] is not Delivery.OFF


def send_overdue_digests(today: date) -> int:
    """Weekly, to each person with overdue training who wants training e-mail."""
    from serviceideas.training.models import Assignment, Enrolment, Module

    year, week, _ = today.isocalendar()
    rows = db.session.execute(
        sa.select(User, Module.title, Enrolment.id, Enrolment.due_on)
        .select_from(Enrolment)
        .join(Assignment, Enrolment.assignment_id == Assignment.id)
        .join(Module, Assignment.module_id == Module.id)
        .join(User, Enrolment.user_id == User.id)
        .where(
            Enrolment.completed_at.is_(None),
            Assignment.withdrawn_at.is_(None),
            Enrolment.due_on < today,
            User.active.is_(True),
        )
        .order_by(User.id, Enrolment.due_on)
    ).all()
    by_person: dict[int, tuple[User, list[tuple[str, int, date]]]] = {}
    for user, title, enrolment_id, due_on in rows:
        by_person.setdefault(user.id, (user, []))[1].append((title, enrolment_id, due_on))
    return sum(
        queue_email(
            user,
            f"overdue-digest:{year}-W{week:02d}",
            Category.TRAINING,
            f"{len(items)} piece(s) of training overdue",
            "overdue_digest",
            items=items,
        )
        for user, items in by_person.values()
        if preferences(user)[Category.TRAINING] is not Delivery.OFF
    )
