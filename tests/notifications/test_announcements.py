"""Announcing training: "New training for you" once per person enrolled, in a number of
statements that does not grow with the number of people, never for a period already over;
and e-mail headers as they go over the wire."""

from __future__ import annotations

import re
from datetime import timedelta

import sqlalchemy as sa

from serviceideas.database import utcnow
from serviceideas.extensions import db
from serviceideas.notifications.models import Notification
from serviceideas.people import services as people
from serviceideas.people.models import Role, User
from serviceideas.training import services as training
from serviceideas.training.models import Audience, Enrolment, Repeat
from tests.conftest import count_queries


def run(app, command):
    result = app.test_cli_runner().invoke(args=[command])
    assert result.exit_code == 0, result.output
    return result.output


def announcements(title_of_module=None):
    statement = sa.select(Notification.user_id, Notification.title).where(
        Notification.key.startswith("assigned:")
    )
    if title_of_module is not None:
        statement = statement.where(
            Notification.title == f"New training for you: {title_of_module}"
        )
    return db.session.execute(statement).all()


def inserts_into_notifications(log):
    return [s for s in log if s.lstrip().upper().startswith("INSERT INTO NOTIFICATIONS")]


def test_people_joining_an_assigned_department_are_each_told_once(
    make_department, make_module, make_user
):
    department = make_department("Stores")
    module = make_module(title="Serving at the till")
    draft = training.AssignmentDraft(Audience.DEPARTMENTS, departments=[department], due_days=14)
    training.create_assignment(module.author, module, draft)
    db.session.commit()
    with count_queries() as log:
        joiners = [
            people.create_user(
                email=f"joiner{n}@example.com", name=f"Joiner {n}", department=department
            )
            for n in range(6)
        ]
        db.session.commit()
    told = announcements(module.title)
    assert sorted(user_id for user_id, _ in told) == sorted(j.id for j in joiners)
    # One announcement per joiner, not one for everyone enrolled that day at each join.
    assert len(inserts_into_notifications(log)) == len(joiners)


def test_assigning_to_everyone_tells_each_person_once_in_a_fixed_number_of_statements(
    make_module, make_user
):
    trainer = make_user(Role.TRAINER)
    counts = []
    for size in (5, 50):
        while db.session.scalar(sa.select(sa.func.count(User.id))) < size:
            make_user()
        module = make_module(author=trainer)
        draft = training.AssignmentDraft(Audience.EVERYONE, due_days=14)
        with count_queries() as log:
            training.create_assignment(trainer, module, draft)
            db.session.flush()
        db.session.commit()
        told = announcements(module.title)
        everyone = db.session.scalars(sa.select(User.id).where(User.is_active)).all()
        assert sorted(user_id for user_id, _ in told) == sorted(everyone)
        assert len(everyone) >= size
        counts.append(len(log))
    assert counts[0] == counts[1], counts


def test_a_repeating_assignment_announces_its_current_period_once_never_past_ones(
    app, smtp, make_module, make_user
):
    today = utcnow().date()
    learner = make_user(email="monthly@example.com")
    module = make_module(title="Be a customer of our own product")
    start = today - timedelta(days=70)
    draft = training.AssignmentDraft(
        Audience.PEOPLE, people=[learner], due_days=20, repeat=Repeat.MONTHLY
    )
    assignment = training.create_assignment(module.author, module, draft, today=start)
    month = start.replace(day=1)  # the periods since, as the daily command would have made
    while (month := (month + timedelta(days=32)).replace(day=1)) <= today:
        training.enrol(assignment, month)
    db.session.commit()
    periods = db.session.scalars(
        sa.select(Enrolment).where(Enrolment.assignment_id == assignment.id)
    ).all()
    assert len(periods) >= 3
    (told,) = db.session.scalars(
        sa.select(Notification).where(Notification.user_id == learner.id)
    ).all()
    current = next(e for e in periods if e.period_start == today.replace(day=1))
    assert told.title == "New training for you: Be a customer of our own product"
    assert told.target_id == current.id
    run(app, "send-reminders")
    run(app, "send-reminders")
    subjects = [m["Subject"] for m in smtp.to("monthly@example.com")]
    assert subjects.count("New training for you: Be a customer of our own product") == 1


def test_list_unsubscribe_goes_over_the_wire_as_a_plain_readable_header(
    app, smtp, make_enrolment, make_user
):
    make_enrolment(learner=make_user(email="wire@example.com"))
    run(app, "send-reminders")
    (raw,) = [content for to, content in smtp.raw if to == ["wire@example.com"]]
    headers = raw.split(b"\r\n\r\n", 1)[0]
    assert re.search(
        rb"^List-Unsubscribe: <https://ideas\.example\.com/unsubscribe/[A-Za-z0-9._-]+>\r$",
        headers + b"\r",
        re.MULTILINE,
    ), headers.decode()
    assert b"\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n" in headers + b"\r\n"
    assert b"=?" not in headers  # nothing in them needs encoding: all ASCII
