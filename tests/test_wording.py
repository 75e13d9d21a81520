"""Counts read as people write them ("1 idea", "4 errors", "1 person"; "1 Idee", "4 Ideen"),
pages greet once, and the demo's notifications carry the times of their story."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from serviceideas.database import utcnow
from serviceideas.extensions import db
from serviceideas.ideas.models import Status
from serviceideas.people.models import Role
from serviceideas.training import services as training
from serviceideas.training.models import Audience
from serviceideas.wording import noun, plural
from tests.conftest import PASSWORD


@pytest.fixture
def app_settings():
    return {"FIGURES_CACHE_SECONDS": 1, "STALLED_AFTER_DAYS": 1}


@pytest.mark.parametrize(
    ("count", "words", "said"),
    [
        (0, ("idea",), "0 ideas"),
        (1, ("idea",), "1 idea"),
        (4, ("error",), "4 errors"),
        (1, ("person", "people"), "1 person"),
        (2, ("person", "people"), "2 people"),
    ],
)
def test_plural_says_the_count_and_its_word(count, words, said):
    assert plural(count, *words) == said
    assert noun(count, *words) == said.split(" ", 1)[1]


@pytest.mark.parametrize(
    ("language", "one", "four"),
    [("en", "1 idea", "4 ideas"), ("de", "1 Idee", "4 Ideen"), ("es", "1 idea", "4 ideas")],
)
def test_pages_count_with_each_languages_plurals(app, language, one, four):
    count = app.jinja_env.from_string('{{ ngettext("%(num)d idea", "%(num)d ideas", n) }}')
    with force_locale(language):
        assert (count.render(n=1), count.render(n=4)) == (one, four)


def test_signing_in_greets_once(client, make_user):
    make_user(email="ann@example.com", name="Ann Smith")
    response = client.post(
        "/login", data={"email": "ann@example.com", "password": PASSWORD}, follow_redirects=True
    )
    page = response.get_data(as_text=True)
    assert "Hello, Ann" in page
    assert "Welcome" not in page


def test_one_thing_is_said_in_the_singular_on_the_pages(
    client_as, make_user, make_idea, make_module
):
    manager = make_user(Role.MANAGER)
    make_idea(Status.SUBMITTED, now=utcnow() - timedelta(days=3))  # stalled after one day
    client = client_as(manager)
    dashboard = client.get("/dashboard").get_data(as_text=True)
    assert "(no status change for 1 day)" in dashboard
    assert "every 1 second," in dashboard  # the figures may be a second old
    review = client.get("/ideas/review").get_data(as_text=True)
    assert "no status change for 1 day or more" in review

    trainer = make_user(Role.TRAINER)
    module = make_module(author=trainer)
    module.minutes = 1
    draft = training.AssignmentDraft(audience=Audience.EVERYONE, due_days=1)
    training.create_assignment(trainer, module, draft)
    db.session.commit()
    assert "· 1 minute" in client_as(trainer).get(f"/training/modules/{module.id}").get_data(
        as_text=True
    )
    assignments = client_as(trainer).get("/training/assignments").get_data(as_text=True)
    assert "due 1 day after enrolment" in assignments


def test_the_staff_import_counts_its_errors(app, make_department, tmp_path):
    make_department("Stores")
    one, two = tmp_path / "one.csv", tmp_path / "two.csv"
    one.write_text("email,name,department,roles\nbad,,Stores,\n")
    two.write_text("email,name,department,roles\nbad,,Stores,\nworse,,Stores,\n")
    runner = app.test_cli_runner()
    assert "1 error." in runner.invoke(args=["import-staff", str(one), "--dry-run"]).output
    assert "2 errors." in runner.invoke(args=["import-staff", str(two), "--dry-run"]).output


def test_the_command_line_counts_in_words(app):
    result = app.test_cli_runner().invoke(args=["send-reminders"])
    assert result.output.startswith("0 reminders;")


def test_the_demo_notifications_carry_the_times_of_their_story(demo_company):
    from serviceideas.ideas.models import StatusChange
    from serviceideas.notifications.models import Notification

    assert demo_company.exit_code == 0, demo_company.output
    notifications = db.session.scalars(sa.select(Notification)).all()
    assert len(notifications) > 50
    days = {n.created_at.date() for n in notifications}
    assert len(days) > 30  # not all stamped in the minute the demo was seeded
    assert all(n.created_at <= utcnow() for n in notifications)
    changed = {
        change_id: at
        for change_id, at in db.session.execute(sa.select(StatusChange.id, StatusChange.changed_at))
    }
    told = [n for n in notifications if n.key.startswith("status:")]
    assert told and all(n.created_at == changed[int(n.key[7:])] for n in told)
