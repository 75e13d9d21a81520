"""Telling people what happened: in the app at once, by e-mail through a queue.

Events (an idea moved, a comment, feedback, training assigned) become `Notification` rows in
the same transaction as the event — cheap, and nothing is lost if mail is down. The
scheduled commands then do the rest: `send-reminders` (every few minutes) adds due-soon and
overdue reminders, queues e-mail for people who want it right away, and delivers;
`send-digests` (daily) sends the daily, weekly and role digests. Every e-mail has a unique
(person, key) row in `emails` before it is sent, so nothing is ever sent twice
(docs/product.md, "Notifications").

Reads live in queries.py; these functions write, and flush without committing — except
`deliver`, which must (see there).
"""

from __future__ import annotations

import secrets
import smtplib
import ssl
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import current_app, has_request_context, render_template, url_for
from flask_babel import force_locale, get_locale, gettext, ngettext
from itsdangerous import BadSignature, URLSafeSerializer

from serviceideas.database import UTCDateTime, insert_ignoring_duplicates, utcnow, writing
from serviceideas.extensions import Base as Model
from serviceideas.extensions import db
from serviceideas.i18n import format_date, speaking_to
from serviceideas.ideas.models import Follower, Stalled
from serviceideas.notifications import queries
from serviceideas.notifications.models import (
    CalendarFeed,
    Category,
    Delivery,
    Email,
    Notification,
    Preference,
    Target,
)
from serviceideas.people.models import User
from serviceideas.training.models import Assignment, Enrolment, is_overdue
from serviceideas.urls import absolute

RECENT = timedelta(days=7)  # older unsent notifications are not e-mailed one by one
CLAIM_EXPIRES = timedelta(minutes=10)
MAX_ATTEMPTS = 8
# SMTP's line endings, and headers folded only past e-mail's 998-character line limit, not at
# 78: folding a long link turns it into encoded-words (`=?utf-8?q?…?=`), and mail apps cannot
# read a List-Unsubscribe header written that way (SECURITY.md, "E-mail").
MESSAGE_POLICY = policy.SMTP.clone(max_line_length=998)

# The columns an INSERT … SELECT of notifications fills, in its SELECT's order.
COLUMNS = ["user_id", "category", "key", "title", "body", "target", "target_id", "created_at"]

# A notification's title and body, written in the language of the moment: called once per
# language its people read, inside `force_locale`, when many are told at once.
Words = Callable[[], tuple[str, str]]


def _insert(model: type[Model]) -> sa.Insert:
    """INSERT into `model`'s table that skips a row whose unique key exists."""
    table = model.metadata.tables[model.__tablename__]
    return insert_ignoring_duplicates(table, db.session.get_bind().dialect.name)


def _rows_changed(statement: sa.Executable) -> int:
    result = db.session.execute(statement.execution_options(preserve_rowcount=True))
    return int(result.rowcount)  # type: ignore[attr-defined]  # a CursorResult: DML


# In the app


def notify(
    user_id: int,
    category: Category,
    key: str,
    title: str,
    target: Target,
    target_id: int | None = None,
    body: str = "",
) -> bool:
    """Tell one person, once: a second call with the same key adds nothing. The notification
    leads to `target` (and, for an idea, a comment or an enrolment, the row `target_id`)."""
    if target.has_id != (target_id is not None):
        raise ValueError(
            f"a notification leading to {target} needs {'an' if target.has_id else 'no'} id"
        )
    return bool(
        _rows_changed(
            _insert(Notification).values(
                user_id=user_id,
                category=category,
                key=key,
                title=title[:300],
                body=body,
                target=target,
                target_id=target_id,
                created_at=utcnow(),
            )
        )
    )


def announce_training(
    assignment: Assignment,
    today: date,
    words: Words,
    *,
    user_ids: Collection[int] | None = None,
) -> int:
    """Tell everyone enrolled in `assignment` on `today` (or only those of `user_ids`), once
    each, in one INSERT … SELECT per language they read whatever the number of people: the
    unique (person, key) skips anyone told before. Returns how many were told."""
    enrolled = queries.enrolled_on(assignment.id, today, user_ids)
    told = 0
    for language in queries.languages_of(sa.select(Enrolment.user_id).where(enrolled)):
        with force_locale(language):
            title, body = words()
        # A WHERE is needed: without one SQLite cannot tell the SELECT from its ON CONFLICT.
        rows = sa.select(
            Enrolment.user_id,
            sa.literal(Category.TRAINING.value),
            sa.literal("assigned:") + sa.cast(Enrolment.id, sa.String),
            sa.literal(title[:300]),
            sa.literal(body),
            sa.literal(Target.ENROLMENT.value),
            Enrolment.id,
            sa.literal(utcnow(), UTCDateTime()),
        ).where(enrolled, queries.speaks(Enrolment.user_id, language))
        told += _rows_changed(_insert(Notification).from_select(COLUMNS, rows))
    return told


def _tell_everyone(
    people: sa.Select[int], key: str, words: Words, target: Target, target_id: int
) -> int:
    """Tell each person `people` selects (their ids), once, in one INSERT … SELECT per
    language they read whatever their number, under "ideas": the unique (person, key) skips
    anyone told of this event already (the author, a follower in the team). Returns how many
    were told."""
    (person_id,) = people.selected_columns
    told = 0
    for language in queries.languages_of(people):
        with force_locale(language):
            title, body = words()
        rows = people.where(queries.speaks(person_id, language)).add_columns(
            sa.literal(Category.IDEAS.value),
            sa.literal(key),
            sa.literal(title[:300]),
            sa.literal(body),
            sa.literal(target.value),
            sa.literal(target_id),
            sa.literal(utcnow(), UTCDateTime()),
        )
        told += _rows_changed(_insert(Notification).from_select(COLUMNS, rows))
    return told


def tell_followers(idea_id: int, key: str, words: Words, *, except_id: int | None = None) -> int:
    """Tell the active followers of an idea (not `except_id`, who acted) of what became of it
    (docs/product.md, "Following an idea"), in one statement per language they read."""
    people = (
        sa.select(Follower.user_id)
        .join(User, User.id == Follower.user_id)
        .where(Follower.idea_id == idea_id, Follower.unfollowed_at.is_(None), User.is_active)
    )
    if except_id is not None:
        people = people.where(Follower.user_id != except_id)
    return _tell_everyone(people, key, words, Target.IDEA, idea_id)


def tell_department(
    department_id: int,
    idea_id: int,
    key: str,
    words: Words,
    *,
    except_id: int | None = None,
) -> int:
    """Tell the active people of a department (not `except_id`) that an idea for them was put
    into practice, in one statement per language they read."""
    people = sa.select(User.id).where(User.department_id == department_id, User.is_active)
    if except_id is not None:
        people = people.where(User.id != except_id)
    return _tell_everyone(people, key, words, Target.IDEA, idea_id)


def mark_read(user: User, notification_id: int | None = None) -> int:
    """Mark one (or, without an id, every) unread notification of `user` as read."""
    statement = sa.update(Notification).where(
        Notification.user_id == user.id, Notification.read_at.is_(None)
    )
    if notification_id is not None:
        statement = statement.where(Notification.id == notification_id)
    return _rows_changed(
        statement.values(read_at=utcnow()).execution_options(synchronize_session=False)
    )


# Preferences


def set_preference(user_id: int, category: Category, delivery: Delivery) -> None:
    # Insert-or-nothing, then update: two requests at once (two tabs, a mail app's one-click
    # unsubscribe) cannot both insert the same row.
    db.session.execute(
        _insert(Preference).values(user_id=user_id, category=category, delivery=delivery)
    )
    db.session.execute(
        sa.update(Preference)
        .where(Preference.user_id == user_id, Preference.category == category)
        .values(delivery=delivery)
        .execution_options(synchronize_session=False)
    )


def set_preferences(user: User, choices: dict[Category, Delivery]) -> None:
    for category, delivery in choices.items():
        set_preference(user.id, category, delivery)


# Signed links


def _signer(salt: str) -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=salt)


def unsubscribe_token(user_id: int, category: Category) -> str:
    return str(_signer("unsubscribe").dumps([user_id, category.value]))


def read_unsubscribe_token(token: str) -> tuple[User, Category] | None:
    try:
        user_id, category = _signer("unsubscribe").loads(token)
        user = db.session.get(User, int(user_id))
        return (user, Category(category)) if user is not None else None
    except (BadSignature, ValueError, TypeError, OverflowError):
        return None


def calendar_token(user: User, *, reset: bool = False) -> str:
    """The token of the person's calendar link, turning their feed on if it is off; with
    `reset`, a new secret, so the old link stops working."""
    db.session.execute(
        _insert(CalendarFeed).values(user_id=user.id, secret=secrets.token_hex(16))
    )  # nothing if the person has one already (or another request just made it)
    feed = db.session.get_one(CalendarFeed, user.id, populate_existing=True)
    if reset:
        feed.secret = secrets.token_hex(16)
    db.session.flush()
    return signed_calendar_token(feed)


def signed_calendar_token(feed: CalendarFeed) -> str:
    return str(_signer("calendar").dumps([feed.user_id, feed.secret]))


def read_calendar_token(token: str) -> User | None:
    try:
        user_id, secret = _signer("calendar").loads(token)
        feed = db.session.get(CalendarFeed, int(user_id))
    except (BadSignature, ValueError, TypeError, OverflowError):
        return None
    if feed is None or feed.secret != secret:
        return None
    user = db.session.get(User, feed.user_id)
    return user if user is not None and user.is_active else None


# E-mail


def mail_enabled() -> bool:
    return bool(current_app.config["SMTP_HOST"])


@contextmanager
def _url_context() -> Iterator[None]:
    """Links are built with url_for; the scheduled commands run outside any request, so they
    build them inside a stand-in request, marked as the writing job it serves (a GET request
    may not write: docs/architecture.md, "Requests and transactions")."""
    if has_request_context():
        yield
        return
    with current_app.test_request_context(base_url=current_app.config["BASE_URL"]), writing():
        yield


def unsubscribe_url(user_id: int, category: Category) -> str:
    with _url_context():
        token = unsubscribe_token(user_id, category)
        return absolute(url_for("notifications.unsubscribe", token=token))


def queue_email(
    user: User, key: str, category: Category, subject: str, template: str, **context: Any
) -> bool:
    """Render and queue one e-mail in `user`'s language (`subject` written in it already, see
    `speaking_to`); False when it was queued before (the send log's key)."""
    if not mail_enabled():
        return False
    unsubscribe = unsubscribe_url(user.id, category)
    context = {"person": user, "unsubscribe": unsubscribe, "absolute": absolute, **context}
    with _url_context(), speaking_to(user):
        context["language"] = str(get_locale())
        text = render_template(f"email/{template}.txt", **context)
        html = render_template(f"email/{template}.html", **context)
    return bool(
        _rows_changed(
            _insert(Email).values(
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
    rows = queries.to_email_now(since=now - RECENT)
    with _url_context():
        links = queries.links(notification for notification, _ in rows)
        return sum(
            queue_email(
                user,
                f"n:{n.id}",
                n.category,
                n.title,
                "notification",
                notification=n,
                link=links[n.id],
            )
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
        claimed = _rows_changed(
            sa.update(Email)
            .where(
                Email.id == email_id,
                Email.sent_at.is_(None),
                sa.or_(Email.claimed_at.is_(None), Email.claimed_at < claiming - CLAIM_EXPIRES),
            )
            .values(claimed_at=claiming, attempts=Email.attempts + 1)
            .execution_options(synchronize_session=False)
        )
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
    """One message built with the standard library's `email` package (MIME structure, header
    encoding and folding, the Date and Message-ID every message should carry), sent over
    smtplib."""
    config = current_app.config
    message = EmailMessage(policy=MESSAGE_POLICY)
    message["From"] = config["MAIL_SENDER"]
    message["To"] = email.to_address
    message["Subject"] = email.subject
    message["Date"] = format_datetime(utcnow())
    message["Message-ID"] = make_msgid(domain=urlsplit(config["BASE_URL"]).hostname)
    # One-click unsubscribe (RFC 8058): the link, and the POST body mail apps send to it.
    message["List-Unsubscribe"] = f"<{unsubscribe_url(email.user_id, email.category)}>"
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

DAY_AND_MONTH = "MMMMd"  # 3 November · 3. November · 3 de noviembre


def create_reminders(today: date) -> int:
    """Training due soon, and overdue, each said once (after that, the weekly digest). Both
    by the one definition of each (docs/product.md, "Training deadlines")."""
    added = 0
    for deadline, language in queries.due_soon_or_overdue(today):
        enrolment_id, title = deadline.enrolment_id, deadline.module_title
        with force_locale(language):
            day = format_date(deadline.due_on, DAY_AND_MONTH)
            if is_overdue(deadline, today):
                key, heading = f"overdue:{enrolment_id}", gettext("Overdue: %(title)s", title=title)
                body = gettext("It was due on %(date)s. Late work is welcome: it counts.", date=day)
            else:
                key, heading = f"due:{enrolment_id}", gettext("Due soon: %(title)s", title=title)
                body = gettext("Due on %(date)s.", date=day)
        added += notify(
            deadline.user_id, Category.TRAINING, key, heading, Target.ENROLMENT, enrolment_id, body
        )
    return added


def send_daily_digests(today: date) -> int:
    """One e-mail per person who chose 'daily', with what they were told since yesterday."""
    # Yesterday, whole: each notification is in exactly one day's digest.
    until = datetime.combine(today, datetime.min.time(), tzinfo=utcnow().tzinfo)
    since = until - timedelta(days=1)
    told = queries.told_daily_between(since, until)
    sent = 0
    with _url_context():
        links = queries.links(n for _, items in told for n in items)
        for user, items in told:
            if not _wants_digests(user):  # the daily e-mail's own unsubscribe link turns this off
                continue
            with speaking_to(user):
                subject = ngettext(
                    "Your day in serviceideas: %(num)d update",
                    "Your day in serviceideas: %(num)d updates",
                    len(items),
                )
                sent += queue_email(
                    user,
                    f"daily:{today}",
                    Category.DIGESTS,
                    subject,
                    "digest",
                    items=items,
                    links=links,
                )
    return sent


def send_role_digests(today: date, stalled: Stalled) -> int:
    """Managers, weekly: ideas waiting for review, and ideas `stalled` by the one rule
    (docs/product.md, "Stalled ideas"). Trainers, daily: new reflections. Also in the app.
    Off for whoever chose 'off' for digests."""
    year, week, _ = today.isocalendar()
    waiting = queries.waiting_for_review()
    stalled_ideas = queries.stalled_ideas(stalled)
    past_target = queries.past_target_ideas(today)
    reflections = queries.reflections_written_since(utcnow() - timedelta(days=1))
    sent = _send_owner_digests(today, stalled)
    for manager in queries.active_managers():
        key = f"manager-digest:{year}-W{week:02d}"
        with speaking_to(manager):
            title = ngettext(
                "This week: %(num)d idea waiting for review, %(stalled)d stalled",
                "This week: %(num)d ideas waiting for review, %(stalled)d stalled",
                waiting,
                stalled=len(stalled_ideas),
            )
            notify(manager.id, Category.DIGESTS, key, title, Target.REVIEW_QUEUE)
            if _wants_digests(manager):
                sent += queue_email(
                    manager,
                    key,
                    Category.DIGESTS,
                    title,
                    "manager_digest",
                    waiting=waiting,
                    stalled=stalled_ideas,
                    past_target=past_target,
                )
    if reflections:
        for trainer in queries.active_trainers():
            key = f"trainer-digest:{today}"
            with speaking_to(trainer):
                title = ngettext(
                    "%(num)d new reflection to read", "%(num)d new reflections to read", reflections
                )
                notify(trainer.id, Category.DIGESTS, key, title, Target.REFLECTIONS)
                if _wants_digests(trainer):
                    sent += queue_email(
                        trainer, key, Category.DIGESTS, title, "trainer_digest", count=reflections
                    )
    return sent


def _send_owner_digests(today: date, stalled: Stalled) -> int:
    """Owners, weekly: the ideas they own that have stalled or passed their target date
    (docs/product.md, "Stalled ideas"), each in the app and all in one e-mail."""
    year, week, _ = today.isocalendar()
    sent = 0
    for owner, ideas in queries.lagging_ideas_by_owner(stalled, today):
        key = f"owner-digest:{year}-W{week:02d}"
        with speaking_to(owner):
            for idea in ideas:
                notify(
                    owner.id,
                    Category.DIGESTS,
                    f"{key}:{idea.id}",
                    gettext("Needs a push: “%(title)s”, an idea you own", title=idea.title),
                    Target.IDEA,
                    idea.id,
                    gettext("It has stalled or passed its target date: record its next step."),
                )
            if _wants_digests(owner):
                title = ngettext(
                    "This week: %(num)d idea you own needs a push",
                    "This week: %(num)d ideas you own need a push",
                    len(ideas),
                )
                sent += queue_email(
                    owner, key, Category.DIGESTS, title, "owner_digest", ideas=ideas, today=today
                )
    return sent


def _wants_digests(user: User) -> bool:
    return queries.preferences(user)[Category.DIGESTS] is not Delivery.OFF


def send_overdue_digests(today: date) -> int:
    """Weekly, to each person with overdue training who wants training e-mail."""
    year, week, _ = today.isocalendar()
    sent = 0
    for user, items in queries.overdue_by_person(today):
        if queries.preferences(user)[Category.TRAINING] is Delivery.OFF:
            continue
        with speaking_to(user):
            subject = ngettext(
                "%(num)d piece of training overdue",
                "%(num)d pieces of training overdue",
                len(items),
            )
            sent += queue_email(
                user,
                f"overdue-digest:{year}-W{week:02d}",
                Category.TRAINING,
                subject,
                "overdue_digest",
                items=items,
            )
    return sent
