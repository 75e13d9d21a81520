"""Notifications, e-mails, digests and the calendar feed are written in their reader's language,
whoever's request made them (docs/product.md, "Notifications").

The readers here chose the pseudo-language (tests/i18n/pseudo.py), in which every catalogued
text is wrapped in ⟦ ⟧, and what people wrote is Cyrillic: Latin text left outside the
brackets in a stored title or an e-mail was written in someone else's language (the actor's),
or never marked for translation. The actors speak English, and see English.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from icalendar import Calendar

from serviceideas.database import utcnow
from serviceideas.extensions import db
from serviceideas.ideas import services as ideas
from serviceideas.ideas.models import Idea, Stalled, Status
from serviceideas.notifications import services
from serviceideas.notifications.models import Category, Delivery, Email, Notification
from serviceideas.people import services as people
from serviceideas.people.models import Role, RoleChangeSource, User
from serviceideas.training import services as training
from serviceideas.training.models import Reflection
from tests.i18n import pseudo

# What people wrote, shown as it is: every name, title and note below.
CONTENT = [
    "Ольга Петрова",
    "Иван Смирнов",
    "Анна Кузнецова",
    "Пётр Соколов",
    "Мария Попова",
    "Дмитрий Лебедев",
    "Елена Новикова",
    "Перезвонить клиенту",
    "Меню на ресепшене",
    "Тихий зал ожидания",
    "Касса",
    "Обслуживание у кассы",
    "Разговор с клиентом",
    "Согласна, это важно.",
    "Сделано, и это работает.",
    "Спасибо, поделись этим с командой.",
]
ANSWER = "Я заметила, что клиенты слишком долго ждут ответа на линии поддержки."


@pytest.fixture
def app_settings(pseudo_settings: dict[str, Any]) -> dict[str, Any]:
    # E-mail on, so that e-mails are rendered and queued (nothing here sends them).
    return {
        **pseudo_settings,
        "SMTP_HOST": "127.0.0.1",
        "BASE_URL": "https://ideas.example.com",
    }


def reader(make_user: Callable[..., User], name: str, *roles: Role, **more: Any) -> User:
    """A person who chose the pseudo-language."""
    person = make_user(roles=roles, name=name, **more)
    person.locale = pseudo.PSEUDO
    db.session.commit()
    return person


def english(make_user: Callable[..., User], name: str, *roles: Role) -> User:
    person = make_user(roles=roles, name=name)
    person.locale = "en"
    db.session.commit()
    return person


def leftovers_of_email(email: Email) -> list[str]:
    return [
        *pseudo.untranslated_text(email.subject, CONTENT),
        *pseudo.untranslated_text(email.text_body, CONTENT),
        *pseudo.untranslated(email.html_body, CONTENT),
    ]


def leftovers_of_notification(notification: Notification) -> list[str]:
    return [
        *pseudo.untranslated_text(notification.title, CONTENT),
        *pseudo.untranslated_text(notification.body, CONTENT),
    ]


def emails_to(person: User) -> list[Email]:
    return list(db.session.scalars(sa.select(Email).where(Email.user_id == person.id)))


def notifications_of(person: User) -> list[Notification]:
    statement = sa.select(Notification).where(Notification.user_id == person.id)
    return list(db.session.scalars(statement))


def test_a_comment_by_an_english_speaker_reaches_the_author_in_the_authors_language(
    app: Flask,
    client_as: Callable[[User | None], FlaskClient],
    make_user: Callable[..., User],
    make_idea: Callable[..., Idea],
) -> None:
    author = reader(make_user, "Ольга Петрова")
    actor = english(make_user, "Иван Смирнов")
    idea = make_idea(author=author, title="Перезвонить клиенту")
    page = client_as(actor).post(
        f"/ideas/{idea.id}/comments", data={"body": "Согласна, это важно."}, follow_redirects=True
    )
    assert page.status_code == 200
    assert pseudo.OPEN not in page.get_data(as_text=True)  # the actor reads English
    (told,) = notifications_of(author)
    assert pseudo.OPEN in told.title and leftovers_of_notification(told) == []
    assert services.queue_immediate() == 1
    (email,) = emails_to(author)
    assert leftovers_of_email(email) == []
    assert '<html lang="el">' in email.html_body


def test_every_notification_e_mail_and_digest_is_in_its_readers_language(
    app: Flask,
    make_user: Callable[..., User],
    make_department: Callable[..., Any],
    make_idea: Callable[..., Idea],
    make_module: Callable[..., Any],
    make_enrolment: Callable[..., Any],
) -> None:
    today = utcnow().date()
    team = make_department("Касса")
    manager = english(make_user, "Иван Смирнов", Role.MANAGER)
    author = reader(make_user, "Ольга Петрова")
    follower = reader(make_user, "Анна Кузнецова")
    english_follower = english(make_user, "Дмитрий Лебедев")
    teammate = reader(make_user, "Пётр Соколов", department=team)
    trainer = reader(make_user, "Мария Попова", Role.TRAINER, Role.MANAGER)  # both digests
    learner = reader(make_user, "Елена Новикова", Role.MANAGER)
    services.set_preference(follower.id, Category.IDEAS, Delivery.DAILY)

    # Ideas: a step, one put into practice for a team, an owner named, stalled and late ideas.
    moved = make_idea(author=author, title="Перезвонить клиенту")
    ideas.change_status(manager, moved, ideas.Decision(Status.UNDER_REVIEW))
    done = make_idea(author=author, title="Меню на ресепшене", beneficiary=team)
    ideas.set_following(follower, done, True)
    ideas.set_following(english_follower, done, True)
    ideas.change_status(
        manager,
        done,
        ideas.Decision(Status.IMPLEMENTED, note="Сделано, и это работает.", implemented_on=today),
    )
    stalled = make_idea(
        author=follower, title="Тихий зал ожидания", now=utcnow() - timedelta(days=45)
    )
    ideas.set_owner(manager, stalled, author)
    db.session.execute(
        sa.update(Idea).where(Idea.id == moved.id).values(target_date=today - timedelta(days=3))
    )
    ideas.set_owner(manager, moved, author)
    # The follower's daily e-mail covers yesterday.
    db.session.execute(
        sa.update(Notification)
        .where(Notification.user_id == follower.id)
        .values(created_at=utcnow() - timedelta(days=1))
    )

    # Training: assigned, answered, due soon, overdue; roles given and taken away.
    reflection_module = make_module("reflection", title="Разговор с клиентом", author=trainer)
    answered = make_enrolment(
        "reflection", learner=learner, module=reflection_module, answer=ANSWER
    )
    training.give_feedback(
        trainer,
        db.session.get_one(Reflection, answered.id),
        "Спасибо, поделись этим с командой.",
    )
    module = make_module(title="Обслуживание у кассы", author=trainer)
    make_enrolment(learner=learner, module=module, due_days=3)
    make_enrolment(learner=learner, module=reflection_module, today=today - timedelta(days=20))
    people.update_user(
        learner,
        name=learner.name,
        department=learner.department,
        roles={Role.TRAINER},
        acting=manager,
        source=RoleChangeSource.ADMIN_PAGE,
    )
    services.create_reminders(today)

    services.queue_immediate()
    services.send_daily_digests(today)
    services.send_role_digests(today, Stalled.as_configured(utcnow()))
    services.send_overdue_digests(today)
    db.session.commit()

    readers = [author, follower, teammate, trainer, learner]
    found: dict[str, list[str]] = {}
    keys: set[str] = set()
    for person in readers:
        for notification in notifications_of(person):
            keys.add(notification.key.split(":")[0])
            if left := leftovers_of_notification(notification):
                found[f"{person.name}: notification {notification.key}"] = left
        for email in emails_to(person):
            keys.add(email.key.split(":")[0])
            if left := leftovers_of_email(email):
                found[f"{person.name}: e-mail {email.key}"] = left
    assert not found, found
    every_kind = {"status", "owner", "feedback", "assigned", "due", "overdue", "roles", "n"}
    every_digest = {"daily", "manager-digest", "trainer-digest", "owner-digest", "overdue-digest"}
    assert keys >= every_kind | every_digest, keys

    # Those who speak English are told in English, of the same events.
    (heard,) = notifications_of(english_follower)
    assert heard.title == "Put into practice: “Меню на ресепшене”, an idea you follow"
    (digest,) = [e for e in emails_to(manager) if e.key.startswith("manager-digest:")]
    assert digest.subject.startswith("This week: 1 idea waiting for review")
    assert pseudo.OPEN not in digest.subject + digest.text_body + digest.html_body


def test_the_calendar_feed_and_the_unsubscribe_page_speak_the_readers_language(
    app: Flask,
    client: FlaskClient,
    pseudo_as: Callable[[User | None], FlaskClient],
    make_user: Callable[..., User],
    make_module: Callable[..., Any],
    make_enrolment: Callable[..., Any],
) -> None:
    learner = reader(make_user, "Елена Новикова")
    trainer = english(make_user, "Мария Попова", Role.TRAINER)
    make_enrolment(
        learner=learner, module=make_module(title="Обслуживание у кассы", author=trainer)
    )
    token = services.calendar_token(learner)
    db.session.commit()
    # Fetched by a calendar app that asks for English: the feed is its owner's, in their language.
    fetched = client.get(f"/calendar/{token}.ics", headers={"Accept-Language": "en"})
    feed = Calendar.from_ical(fetched.get_data())
    texts = [str(feed["x-wr-calname"])] + [str(event["summary"]) for event in feed.walk("VEVENT")]
    assert len(texts) == 2
    assert [t for t in texts if pseudo.untranslated_text(t, CONTENT) or pseudo.OPEN not in t] == []

    browser = pseudo_as(None)
    link = f"/unsubscribe/{services.unsubscribe_token(learner.id, Category.TRAINING)}"
    for response in (browser.get(link), browser.post(link), browser.get("/unsubscribe/nonsense")):
        assert pseudo.untranslated(response.get_data(as_text=True)) == []
    # Opened in a browser that asks for English: the page speaks the language its e-mail did.
    page = client.get(link, headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert f'lang="{pseudo.PSEUDO}"' in page
    assert pseudo.untranslated(page) == []
