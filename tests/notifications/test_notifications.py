"""Notifications in the app and by e-mail through a real SMTP server: events, preferences,
reminders, digests, exactly-once delivery, unsubscribe and calendar links."""

from __future__ import annotations

import re
import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa
from icalendar import Calendar

from serviceideas.database import utcnow
from serviceideas.extensions import db
from serviceideas.ideas import services as ideas
from serviceideas.ideas.models import Status
from serviceideas.notifications import queries, services
from serviceideas.notifications.models import (
    CalendarFeed,
    Category,
    Delivery,
    Email,
    Notification,
    Target,
)
from serviceideas.people.models import Role
from tests.conftest import count_queries

HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def run(app, command):
    result = app.test_cli_runner().invoke(args=[command])
    assert result.exit_code == 0, result.output
    return result.output


def titles(user):
    return [
        n.title
        for n in db.session.scalars(
            sa.select(Notification).where(Notification.user_id == user.id).order_by(Notification.id)
        )
    ]


@pytest.fixture
def manager(make_user):
    return make_user(Role.MANAGER, name="Max Manager")


def test_idea_events_reach_the_author_in_the_app(make_idea, make_user, manager):
    author = make_user(name="Ann Author")
    idea = make_idea(author=author, title="Shorter queues")
    ideas.add_comment(make_user(name="Cy Colleague"), idea, "Yes please")
    ideas.add_comment(author, idea, "My own comment tells me nothing")
    ideas.change_status(manager, idea, ideas.Decision(Status.UNDER_REVIEW, note="Looking"))
    db.session.commit()
    assert titles(author) == [
        "Cy Colleague commented on “Shorter queues”",
        "Your idea “Shorter queues” is now under review",
    ]


def test_implemented_ideas_say_thank_you_with_what_changed(make_idea, make_user, manager):
    author = make_user()
    idea = make_idea(Status.IN_PROGRESS, author=author, reviewer=manager, title="Call back")
    decision = ideas.Decision(
        Status.IMPLEMENTED, note="Callbacks kept.", implemented_on=utcnow().date()
    )
    ideas.change_status(manager, idea, decision)
    db.session.commit()
    last = db.session.scalars(sa.select(Notification).order_by(Notification.id.desc())).first()
    assert last.title == "Thank you: “Call back” has been put into practice"
    assert last.body == "What changed: Callbacks kept."


def test_training_assigned_and_feedback_reach_the_learner(make_enrolment, make_user):
    enrolment = make_enrolment("reflection", answer="What I learnt: " + "x" * 50)
    trainer = make_user(Role.TRAINER, name="Tara Trainer")
    from serviceideas.training import services as training
    from serviceideas.training.models import Reflection

    training.give_feedback(trainer, db.session.get(Reflection, enrolment.id), "Well seen.")
    db.session.commit()
    found = titles(enrolment.user)
    assert found[0].startswith("New training for you: ")
    assert found[1].startswith("Tara Trainer answered your reflection on")


def test_email_goes_out_once_with_escaped_text(app, smtp, make_idea, make_user, manager):
    author = make_user(email="ann@example.com")
    idea = make_idea(author=author, title=HOSTILE)
    ideas.add_comment(make_user(name=HOSTILE), idea, HOSTILE)
    db.session.commit()
    run(app, "send-reminders")
    run(app, "send-reminders")
    (message,) = smtp.to("ann@example.com")
    assert message["Subject"].startswith('<script>alert("x")</script>')  # plain text: no HTML there
    html = message.get_body(("html",)).get_content()
    assert "<script>" not in html and "<img" not in html
    assert "&lt;script&gt;" in html
    assert message["List-Unsubscribe"].startswith("<https://ideas.example.com/unsubscribe/")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["Message-ID"].endswith("@ideas.example.com>") and message["Date"].datetime
    assert "https://ideas.example.com/ideas/" in message.get_body(("plain",)).get_content()


def test_preferences_decide_between_now_daily_and_off(app, smtp, make_idea, make_user, manager):
    now_person, daily_person, off_person = (
        make_user(email=f"{n}@example.com") for n in ("now", "daily", "off")
    )
    services.set_preference(daily_person.id, Category.IDEAS, Delivery.DAILY)
    services.set_preference(off_person.id, Category.IDEAS, Delivery.OFF)
    for person in (now_person, daily_person, off_person):
        ideas.change_status(manager, make_idea(author=person), ideas.Decision(Status.UNDER_REVIEW))
    db.session.commit()
    run(app, "send-reminders")
    assert [len(smtp.to(f"{n}@example.com")) for n in ("now", "daily", "off")] == [1, 0, 0]
    # The daily digest covers yesterday: move what happened there.
    db.session.execute(sa.update(Notification).values(created_at=utcnow() - timedelta(days=1)))
    db.session.commit()
    run(app, "send-digests")
    run(app, "send-digests")
    assert [len(smtp.to(f"{n}@example.com")) for n in ("now", "daily", "off")] == [1, 1, 0]
    assert smtp.to("daily@example.com")[0]["Subject"].startswith("Your day in serviceideas")
    assert len(titles(off_person)) == 1  # still told in the app


def test_reminders_for_due_soon_and_overdue_come_once(app, smtp, make_enrolment, make_user):
    learner = make_user(email="learner@example.com")
    today = utcnow().date()
    soon = make_enrolment(learner=learner, due_days=3)
    late = make_enrolment(learner=learner, today=today - timedelta(days=20))
    run(app, "send-reminders")
    run(app, "send-reminders")
    subjects = sorted(m["Subject"] for m in smtp.to("learner@example.com"))
    module_soon, module_late = soon.assignment.module.title, late.assignment.module.title
    assert f"Due soon: {module_soon}" in subjects
    assert f"Overdue: {module_late}" in subjects
    assert len([s for s in subjects if s.startswith(("Due soon", "Overdue"))]) == 2
    run(app, "send-digests")
    run(app, "send-digests")
    weekly = [
        m
        for m in smtp.to("learner@example.com")
        if "overdue" in m["Subject"] and "piece" in m["Subject"]
    ]
    assert len(weekly) == 1


@pytest.mark.parametrize(
    ("overdue", "said"),
    [
        (1, "Diese Schulung ist überfällig. Auch verspätet ist sie willkommen: Sie zählt."),
        (2, "Diese Schulungen sind überfällig. Auch verspätet sind sie willkommen: Sie zählen."),
    ],
)
def test_the_weekly_overdue_digest_counts_in_its_readers_language(
    app, smtp, make_enrolment, make_user, overdue, said
):
    learner = make_user(email="lernende@example.com")
    learner.locale = "de"
    today = utcnow().date()
    for _ in range(overdue):
        make_enrolment(learner=learner, today=today - timedelta(days=20))
    services.send_overdue_digests(today)
    db.session.commit()
    digest = db.session.scalars(sa.select(Email).where(Email.user_id == learner.id)).one()
    assert said in digest.text_body and said in digest.html_body


def test_managers_and_trainers_get_their_digests_once(
    app, smtp, make_user, make_idea, make_enrolment
):
    make_user(Role.MANAGER, email="boss@example.com")
    make_user(Role.TRAINER, email="coach@example.com")
    make_idea(now=utcnow() - timedelta(days=45))  # stalled
    make_enrolment("reflection", answer="A fresh reflection to read: " + "y" * 40)
    run(app, "send-digests")
    run(app, "send-digests")
    (boss,) = smtp.to("boss@example.com")
    assert "1 idea waiting for review, 1 stalled" in boss["Subject"]
    for part in ("plain", "html"):
        words = re.sub(r"<[^>]+>", "", boss.get_body((part,)).get_content())
        assert "1 idea waits for a first review and 1 has stalled." in " ".join(words.split())
    coach = [m for m in smtp.to("coach@example.com") if "reflection" in m["Subject"]]
    assert len(coach) == 1 and coach[0]["Subject"] == "1 new reflection to read"
    assert "1 new reflection was written since" in coach[0].get_body(("plain",)).get_content()


def test_a_failed_delivery_is_retried_on_the_next_run(app, smtp, make_idea, make_user, manager):
    author = make_user(email="retry@example.com")
    ideas.change_status(manager, make_idea(author=author), ideas.Decision(Status.UNDER_REVIEW))
    db.session.commit()
    app.config["SMTP_PORT"] = 1  # nobody listens there
    result = app.test_cli_runner().invoke(args=["send-reminders"])
    assert result.exit_code == 1 and "1 failed" in result.output
    email = db.session.scalar(sa.select(Email))
    db.session.refresh(email)
    assert email.sent_at is None and email.attempts == 1 and "Error" in email.last_error
    app.config["SMTP_PORT"] = smtp.port
    run(app, "send-reminders")
    assert len(smtp.to("retry@example.com")) == 1


def test_two_senders_at_once_send_each_message_once(
    app, smtp, make_idea, make_user, manager, _schema
):
    for n in range(12):
        ideas.change_status(
            manager,
            make_idea(author=make_user(email=f"p{n}@example.com")),
            ideas.Decision(Status.UNDER_REVIEW),
        )
    db.session.commit()
    services.queue_immediate()
    db.session.commit()
    errors = []

    def send():
        try:
            with app.app_context():
                services.deliver()
        except Exception as error:
            errors.append(error)

    threads = [threading.Thread(target=send) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(m.envelope_to[0] for m in smtp.messages) == sorted(
        f"p{n}@example.com" for n in range(12)
    )


def test_without_smtp_email_is_off_and_the_app_still_tells(app, make_idea, make_user, manager):
    app.config["SMTP_HOST"] = None
    author = make_user()
    ideas.change_status(manager, make_idea(author=author), ideas.Decision(Status.UNDER_REVIEW))
    db.session.commit()
    output = app.test_cli_runner().invoke(args=["send-reminders"]).output
    assert "e-mail is off" in output
    assert db.session.scalar(sa.select(sa.func.count(Email.id))) == 0
    assert len(titles(author)) == 1


# Links


def test_unsubscribe_link_switches_one_category_off(client, make_user):
    person = make_user()
    token = services.unsubscribe_token(person.id, Category.TRAINING)
    page = client.get(f"/unsubscribe/{token}").get_data(as_text=True)
    assert "Stop these e-mails?" in page
    assert queries.preferences(person)[Category.TRAINING] is Delivery.IMMEDIATELY
    assert client.post(f"/unsubscribe/{token}").status_code == 200
    prefs = queries.preferences(person)
    assert (
        prefs[Category.TRAINING] is Delivery.OFF and prefs[Category.IDEAS] is Delivery.IMMEDIATELY
    )


def test_unsubscribing_from_digests_stops_the_daily_email(app, smtp, make_idea, make_user, manager):
    person = make_user(email="daily@example.com")
    services.set_preference(person.id, Category.IDEAS, Delivery.DAILY)
    services.set_preference(person.id, Category.DIGESTS, Delivery.OFF)
    ideas.change_status(manager, make_idea(author=person), ideas.Decision(Status.UNDER_REVIEW))
    db.session.execute(sa.update(Notification).values(created_at=utcnow() - timedelta(days=1)))
    db.session.commit()
    run(app, "send-digests")
    assert smtp.to("daily@example.com") == []


@pytest.mark.parametrize("token", ["forged", "eyJhIjoxfQ.abc"])
def test_a_tampered_unsubscribe_link_is_refused(client, token):
    assert client.post(f"/unsubscribe/{token}").status_code == 404


def calendar_url(client, learner_client):
    """Turn the learner's calendar feed on, as the settings page's button does; its path."""
    assert learner_client.post("/notifications/calendar").status_code == 303
    settings = learner_client.get("/notifications/settings").get_data(as_text=True)
    found = re.search(r'id="calendar-url" type="text" readonly value="([^"]+)"', settings)
    assert found.group(1).startswith("https://ideas.example.com/calendar/")
    return found.group(1).removeprefix("https://ideas.example.com")


def events(response):
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    return Calendar.from_ical(response.get_data()).walk("VEVENT")


def test_showing_the_settings_writes_nothing_the_calendar_button_turns_the_feed_on(
    client_as, make_user
):
    person = make_user()
    client = client_as(person)
    page = client.get("/notifications/settings").get_data(as_text=True)
    assert "Turn on my calendar feed" in page and 'id="calendar-url"' not in page
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CalendarFeed)) == 0
    client.post("/notifications/calendar")
    assert db.session.get(CalendarFeed, person.id) is not None
    page = client.get("/notifications/settings").get_data(as_text=True)
    assert "Make a new link" in page and 'id="calendar-url"' in page


def test_calendar_feed_lists_due_training_and_its_link_can_be_reset(
    client, client_as, make_enrolment, make_user, make_module
):
    enrolment = make_enrolment()
    learner = enrolment.user
    done = make_enrolment(learner=learner, module=make_module(title="Done already"), answer="")
    learner_client = client_as(learner)
    url = calendar_url(client, learner_client)
    (event,) = events(client.get(url))
    assert event.decoded("dtstart") == enrolment.due_on
    assert event.decoded("dtend") == enrolment.due_on + timedelta(days=1)
    assert str(event["summary"]) == f"Training due: {enrolment.assignment.module.title}"
    assert str(event["uid"]) == f"enrolment-{enrolment.id}@serviceideas"
    assert str(event["url"]) == f"https://ideas.example.com/training/enrolments/{enrolment.id}"
    assert done.completed_at is not None  # done training leaves the calendar
    learner_client.post("/notifications/calendar")  # a new link
    assert client.get(url).status_code == 404
    assert client.get(url.replace(".ics", "x.ics")).status_code == 404
    assert len(events(client.get(calendar_url(client, learner_client)))) == 1


def test_ics_text_is_escaped(client, client_as, make_user, make_module, make_enrolment):
    learner = make_user()
    title = "Calls; calm, clear\\kind"
    make_enrolment(learner=learner, module=make_module(title=title))
    response = client.get(calendar_url(client, client_as(learner)))
    assert "SUMMARY:Training due: Calls\\; calm\\, clear\\\\kind" in response.get_data(as_text=True)
    (event,) = events(response)
    assert str(event["summary"]) == f"Training due: {title}"


# Pages


def test_notifications_page_bell_and_mark_read(client_as, make_user, make_idea, manager):
    author = make_user()
    idea = make_idea(author=author)
    ideas.change_status(manager, idea, ideas.Decision(Status.UNDER_REVIEW))
    db.session.commit()
    client = client_as(author)
    bell = client.get("/notifications/bell", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert 'aria-label="Notifications: 1 unread"' in bell
    page = client.get("/notifications").get_data(as_text=True)
    action = re.search(r'<form method="post" action="(/notifications/\d+)"', page).group(1)
    # An old address (a bookmark, an earlier e-mail) still leads there, and writes nothing.
    assert client.get(action).headers["Location"] == f"/ideas/{idea.id}#history"
    assert 'aria-label="Notifications: 1 unread"' in client.get("/notifications/bell").get_data(
        as_text=True
    )
    response = client.post(action)
    assert response.status_code == 303
    assert response.headers["Location"] == f"/ideas/{idea.id}#history"
    assert 'aria-label="Notifications: 0 unread"' in client.get("/notifications/bell").get_data(
        as_text=True
    )


def test_someone_elses_notification_is_not_found(client_as, make_user):
    owner = make_user()
    services.notify(owner.id, Category.IDEAS, "k", "Private", Target.REVIEW_QUEUE)
    db.session.commit()
    notification = db.session.scalar(sa.select(Notification))
    stranger = client_as(make_user())
    assert stranger.get(f"/notifications/{notification.id}").status_code == 404
    assert stranger.post(f"/notifications/{notification.id}").status_code == 404
    db.session.refresh(notification)
    assert notification.read_at is None


def test_preferences_are_saved_and_bad_values_refused(client_as, make_user):
    person = make_user()
    client = client_as(person)
    data = {"ideas": "daily", "feedback": "off", "training": "immediately", "digests": "off"}
    assert client.post("/notifications/settings", data=data).status_code == 303
    assert queries.preferences(person)[Category.IDEAS] is Delivery.DAILY
    bad = client.post("/notifications/settings", data={**data, "ideas": "hourly"})
    assert bad.status_code == 422 and "Not a valid choice" in bad.get_data(as_text=True)


def test_pages_with_the_bell_and_the_list_keep_a_constant_number_of_queries(client_as, make_user):
    person = make_user()
    client = client_as(person)

    def counts():
        result = []
        for url in ("/notifications", "/notifications/bell", "/"):
            with count_queries() as log:
                client.get(url)
            result.append(log.count)
        return result

    services.notify(person.id, Category.IDEAS, "first", "First", Target.NOTIFICATIONS)
    db.session.commit()
    few = counts()
    for n in range(30):
        services.notify(person.id, Category.IDEAS, f"k{n}", f"N{n}", Target.NOTIFICATIONS)
    db.session.commit()
    assert counts() == few


def test_two_whole_runs_at_once_send_each_message_once(
    app, smtp, make_enrolment, make_user, make_idea, manager
):
    """Reminders, e-mail for events and delivery, twice at the same moment."""
    from serviceideas.database import writing

    for n in range(5):
        learner = make_user(email=f"l{n}@example.com")
        make_enrolment(learner=learner, due_days=3)
        ideas.change_status(manager, make_idea(author=learner), ideas.Decision(Status.UNDER_REVIEW))
    db.session.commit()
    errors = []

    def run_once():
        try:
            with app.app_context(), writing():
                services.create_reminders(utcnow().date())
                services.queue_immediate()
                db.session.commit()
                services.deliver()
        except Exception as error:
            errors.append(error)

    threads = [threading.Thread(target=run_once) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    for n in range(5):
        subjects = sorted(m["Subject"] for m in smtp.to(f"l{n}@example.com"))
        assert len(subjects) == 3, subjects  # assigned, due soon, idea under review
        assert len(set(subjects)) == 3


def test_short_deadlines_get_their_due_soon_reminder_too(app, make_enrolment):
    enrolment = make_enrolment(due_days=1)
    services.create_reminders(utcnow().date())
    db.session.commit()
    assert titles(enrolment.user)[-1].startswith("Due soon: ")


@pytest.mark.parametrize(("due_in", "reminded"), [(0, True), (7, True), (8, False)])
def test_the_due_soon_reminder_uses_the_one_due_soon_window(app, make_enrolment, due_in, reminded):
    """Due today up to DUE_SOON_DAYS (7) days ahead is *due soon*, as on My training
    (docs/product.md, "Training deadlines"); later than that, no reminder yet."""
    from serviceideas.training.models import DUE_SOON_DAYS, is_due_soon

    today = utcnow().date()
    # Assigned yesterday, due `due_in` days from today.
    enrolment = make_enrolment(due_days=due_in + 1, today=today - timedelta(days=1))
    assert DUE_SOON_DAYS == 7 and is_due_soon(enrolment, today) is reminded
    services.create_reminders(today)
    db.session.commit()
    assert any(t.startswith("Due soon: ") for t in titles(enrolment.user)) is reminded


def test_long_calendar_lines_are_folded(client, client_as, make_user, make_module, make_enrolment):
    learner = make_user()
    title = "A very long module title, with “quotes” and é " * 4
    make_enrolment(learner=learner, module=make_module(title=title[:120]))
    response = client.get(calendar_url(client, client_as(learner)))
    body = response.get_data()
    assert all(len(line) <= 75 for line in body.split(b"\r\n"))  # octets, not characters
    assert b"\r\n " in body  # a continued line
    (event,) = events(response)
    assert str(event["summary"]) == f"Training due: {title[:120]}"


# Where a notification leads


def test_every_kind_of_target_leads_to_its_page_on_this_site(
    client_as, make_user, make_idea, make_enrolment
):
    """Each kind's address is built when it is opened, and is always a path on this site."""
    from serviceideas.urls import safe_next

    person, idea = make_user(), make_idea()
    comment = ideas.add_comment(make_user(), idea, "A comment")
    enrolment = make_enrolment()
    expected = {
        (Target.IDEA, idea.id): f"/ideas/{idea.id}#history",
        (Target.COMMENT, comment.id): f"/ideas/{idea.id}#comment-{comment.id}",
        (Target.COMMENT, 2**31 - 1): "/notifications",  # a comment that is gone
        (Target.ENROLMENT, enrolment.id): f"/training/enrolments/{enrolment.id}",
        (Target.REVIEW_QUEUE, None): "/ideas/review",
        (Target.REFLECTIONS, None): "/training/reflections",
        (Target.NOTIFICATIONS, None): "/notifications",
    }
    assert {target for target, _ in expected} == set(Target)
    for target, target_id in expected:
        services.notify(person.id, Category.IDEAS, f"{target}:{target_id}", "T", target, target_id)
    db.session.commit()
    client = client_as(person)
    for notification in db.session.scalars(
        sa.select(Notification).where(Notification.user_id == person.id)
    ):
        location = open_notification(client, notification.id).headers["Location"]
        assert location == expected[(notification.target, notification.target_id)]
        assert safe_next(location) == location


def open_notification(client, notification_id):
    return client.post(f"/notifications/{notification_id}")


@pytest.mark.parametrize(
    ("target", "target_id"), [("//evil.example", None), ("idea", None), ("review_queue", 3)]
)
def test_the_database_holds_only_kinds_of_target_never_addresses(make_user, target, target_id):
    person = make_user()
    insert = sa.insert(Notification.__table__).values(
        user_id=person.id,
        category="ideas",
        key="k",
        title="T",
        body="",
        target=sa.literal(target, sa.String),
        target_id=target_id,
        created_at=utcnow(),
    )
    # The kind's CHECK refuses it; PostgreSQL may first find it longer than any kind.
    with pytest.raises((sa.exc.IntegrityError, sa.exc.DataError)):
        db.session.execute(insert)
    db.session.rollback()


def test_emails_and_digests_link_to_what_the_notification_leads_to(app, smtp, make_idea, make_user):
    author = make_user(email="links@example.com")
    idea = make_idea(author=author)
    comment = ideas.add_comment(make_user(), idea, "Nice")
    db.session.commit()
    run(app, "send-reminders")
    (message,) = smtp.to("links@example.com")
    link = f"https://ideas.example.com/ideas/{idea.id}#comment-{comment.id}"
    assert link in message.get_body(("plain",)).get_content()
    assert f'href="{link}"' in message.get_body(("html",)).get_content()

    services.set_preference(author.id, Category.IDEAS, Delivery.DAILY)
    db.session.execute(sa.update(Notification).values(created_at=utcnow() - timedelta(days=1)))
    db.session.commit()
    run(app, "send-digests")
    daily = [m for m in smtp.to("links@example.com") if "Your day" in m["Subject"]]
    assert link in daily[0].get_body(("plain",)).get_content()
