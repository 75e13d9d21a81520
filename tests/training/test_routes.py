"""Training through HTTP: modules, assigning, my training, completing, inbox, coverage,
privacy of reflections, sanitised Markdown, and constant query counts."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from serviceideas.database import utcnow
from serviceideas.extensions import db
from serviceideas.ideas.models import Idea
from serviceideas.people.models import DepartmentKind, Role
from serviceideas.training.models import Enrolment, Module, ModuleIdea, Reflection
from tests.conftest import count_queries

HX = {"HX-Request": "true"}
SECRET = "I was rude to a caller on Tuesday and I regret how I handled it."


def text(response):
    return response.get_data(as_text=True)


def refused(client, response, page):
    """A refused form answers with a redirect to its own page (Post/Redirect/Get), which
    shows what was typed and why it was refused, answering 422: the text of that page."""
    assert response.status_code == 303
    assert response.headers["Location"].startswith(f"{page}?refused=")
    shown = client.get(response.headers["Location"])
    assert shown.status_code == 422
    return text(shown)


@pytest.fixture
def trainer(make_user):
    return make_user(Role.TRAINER, name="Tara Trainer")


GOOD_MODULE = {
    "title": "Call a customer who left",
    "summary": "Listen without a script.",
    "body": "## Why\n\nNumbers tell us *how many*; customers tell us **why**.",
    "kind": "activity",
    "prompt": "What did you hear?",
    "minutes": "30",
}


# Modules


def test_a_trainer_writes_previews_and_publishes_a_module(client_as, trainer):
    client = client_as(trainer)
    response = client.post("/training/modules/new", data=GOOD_MODULE)
    assert response.status_code == 303
    module = db.session.scalar(sa.select(Module))
    preview = text(client.get(response.headers["Location"]))
    assert "Preview: this is what learners will see" in preview
    assert "<em>how many</em>" in preview and "<h2>Why</h2>" in preview
    assert client.post(f"/training/modules/{module.id}/publish").status_code == 303
    db.session.refresh(module)
    assert module.status.value == "published"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"title": ""}, "This field is required."),
        ({"kind": "lecture"}, "Not a valid choice"),
        ({"prompt": ""}, "Please fill in the prompt learners answer."),
        ({"minutes": "0"}, "Number must be between 1 and 600."),
        ({"minutes": "many"}, "Not a valid integer value."),
        ({"body": "b" * 20_001}, "Field cannot be longer than 20000 characters."),
    ],
)
def test_bad_modules_are_refused_with_the_input_kept(client_as, trainer, change, message):
    client = client_as(trainer)
    response = client.post("/training/modules/new", data={**GOOD_MODULE, **change})
    page = refused(client, response, "/training/modules/new")
    assert message in page
    assert "Listen without a script." in page
    assert db.session.scalar(sa.select(sa.func.count(Module.id))) == 0


def test_editing_a_published_body_raises_the_version(client_as, trainer, make_module):
    module = make_module(author=trainer)
    response = client_as(trainer).post(
        f"/training/modules/{module.id}/edit",
        data={**GOOD_MODULE, "kind": "reading", "body": "A new text."},
    )
    assert response.status_code == 303
    db.session.refresh(module)
    assert module.version == 2


HOSTILE = (
    "<script>window.pwned=1</script>\n\n"
    "[click](javascript:alert(1)) <img src=x onerror=alert(1)>\n\n"
    '<a href="https://example.com" onclick="alert(1)">x</a> [ok](https://example.com/guide)'
)


def test_module_markdown_never_carries_script(client_as, trainer, make_module, make_enrolment):
    module = make_module(author=trainer, body=HOSTILE)
    pages = [text(client_as(trainer).get(f"/training/modules/{module.id}"))]
    enrolment = make_enrolment(module=module)
    pages.append(text(client_as(enrolment.user).get(f"/training/enrolments/{enrolment.id}")))
    for page in pages:
        body = page.split('<div class="module-body">', 1)[1].split("</div>", 1)[0]
        assert "<script" not in body and "<img" not in body
        assert "javascript:" not in body.replace("[click](javascript:alert(1))", "")
        assert "onerror" not in body.replace("onerror=alert(1)&gt;", "")
        assert "onclick" not in body.replace('onclick="alert(1)"', "")
        assert (
            '<a href="https://example.com/guide" rel="noopener noreferrer nofollow">ok</a>' in body
        )


# Assigning


@pytest.fixture
def it_team(make_department, make_user):
    it = make_department("IT", DepartmentKind.BACK_OFFICE)
    return it, [make_user(department=it, name=f"IT person {n}") for n in range(3)]


def test_a_trainer_assigns_a_module_to_a_department(client_as, trainer, make_module, it_team):
    it, _members = it_team
    module = make_module(author=trainer)
    client = client_as(trainer)
    response = client.post(
        f"/training/modules/{module.id}/assign",
        data={
            "audience": "departments",
            "departments": [str(it.id)],
            "due_kind": "relative",
            "due_days": "10",
            "repeat": "none",
        },
    )
    assert response.status_code == 303
    page = text(client.get("/training/assignments"))
    assert "3 people enrolled" in page and "IT" in page and "0 / 3" in page


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"audience": "departments"}, "Choose at least one department."),
        ({"audience": "departments", "departments": ["999999"]}, "not a valid choice"),
        ({"audience": "people", "people": "ghost@example.com"}, "Nobody has these email addresses"),
        ({"due_kind": "fixed", "due_on": "2020-01-01"}, "The due date has passed"),
        ({"due_kind": "fixed"}, "Give the due date."),
        ({"due_kind": "relative", "due_days": ""}, "Give the number of days."),
        ({"due_days": "400"}, "Number must be between 1 and 365."),
        (
            {"repeat": "monthly", "due_kind": "fixed", "due_on": "2099-01-01"},
            "repeating assignment",
        ),
        ({"audience": "aliens"}, "Not a valid choice"),
    ],
)
def test_bad_assignments_are_refused_beside_the_field(
    client_as, trainer, make_module, it_team, data, message
):
    module = make_module(author=trainer)
    base = {"audience": "everyone", "due_kind": "relative", "due_days": "14", "repeat": "none"}
    client = client_as(trainer)
    response = client.post(f"/training/modules/{module.id}/assign", data={**base, **data})
    assert message in refused(client, response, f"/training/modules/{module.id}/assign")
    assert db.session.scalar(sa.select(sa.func.count(Enrolment.id))) == 0


def test_an_unpublished_module_cannot_be_assigned(client_as, trainer, make_module):
    module = make_module(author=trainer, publish=False)
    client = client_as(trainer)
    response = client.post(
        f"/training/modules/{module.id}/assign",
        data={"audience": "everyone", "due_kind": "relative", "due_days": "14", "repeat": "none"},
    )
    assert "Publish it first" in refused(client, response, f"/training/modules/{module.id}/assign")


def test_withdrawing_takes_unfinished_work_off_lists(client_as, trainer, make_enrolment):
    enrolment = make_enrolment()
    learner = client_as(enrolment.user)
    assert enrolment.assignment.module.title in text(learner.get("/training"))
    client_as(enrolment.assignment.module.author).post(
        f"/training/assignments/{enrolment.assignment_id}/withdraw", data={"confirmed": "yes"}
    )
    assert enrolment.assignment.module.title not in text(learner.get("/training"))


# My training


def test_my_training_orders_overdue_then_soon_then_later_then_done(
    client_as, make_user, make_module, make_enrolment
):
    learner = make_user()
    today = utcnow().date()
    make_enrolment(
        learner=learner, module=make_module(title="Overdue one"), today=today - timedelta(days=20)
    )
    make_enrolment(learner=learner, module=make_module(title="Soon one"), due_days=3)
    make_enrolment(learner=learner, module=make_module(title="Later one"), due_days=60)
    make_enrolment(learner=learner, module=make_module(title="Done one"), answer="")
    page = text(client_as(learner).get("/training"))
    order = [page.index(t) for t in ("Overdue one", "Soon one", "Later one", "Done one")]
    assert order == sorted(order)
    assert '<progress id="training-progress" value="1" max="4">' in page
    assert "Overdue since" in page


def test_my_training_and_coverage_keep_a_constant_number_of_queries(
    client_as, make_user, make_module, make_enrolment, trainer, make_department
):
    learner = make_user()
    team = make_department("Team")

    def queries(client, url):
        with count_queries() as log:
            assert client.get(url).status_code == 200
        return log.count

    make_enrolment(learner=learner, module=make_module("reflection"), answer="z" * 60)
    urls = [
        "/training/coverage",
        f"/training/coverage/departments/{team.id}",
        "/training/coverage.csv",
    ]
    few = [queries(client_as(learner), "/training")] + [
        queries(client_as(trainer), u) for u in urls
    ]
    few.append(queries(client_as(trainer), "/training/reflections?show=all"))
    for _ in range(6):
        make_enrolment(learner=learner, module=make_module("reflection"), answer="z" * 60)
        make_enrolment(learner=make_user(department=team), module=make_module(), answer="")
    many = [queries(client_as(learner), "/training")] + [
        queries(client_as(trainer), u) for u in urls
    ]
    many.append(queries(client_as(trainer), "/training/reflections?show=all"))
    assert many == few


# Completing, and ideas from reflections


def test_a_reading_is_completed_by_confirming(client_as, make_enrolment):
    enrolment = make_enrolment()
    client = client_as(enrolment.user)
    assert "I have read it" in text(client.get(f"/training/enrolments/{enrolment.id}"))
    assert client.post(f"/training/enrolments/{enrolment.id}/complete").status_code == 303
    db.session.refresh(enrolment)
    assert enrolment.is_done and enrolment.completed_version == 1


@pytest.mark.parametrize("answer", ["", "Too short to count."])
def test_a_reflection_needs_its_written_answer(client_as, make_enrolment, answer):
    enrolment = make_enrolment("reflection")
    client = client_as(enrolment.user)
    response = client.post(f"/training/enrolments/{enrolment.id}/complete", data={"answer": answer})
    page = refused(client, response, f"/training/enrolments/{enrolment.id}")
    assert "Write at least 50 characters" in page
    if answer:
        assert answer in page  # nothing typed is lost
    db.session.refresh(enrolment)
    assert not enrolment.is_done


def test_a_reflection_becomes_an_idea_linked_to_its_module(client_as, make_enrolment):
    enrolment = make_enrolment("reflection", answer=SECRET)
    client = client_as(enrolment.user)
    page = text(client.get(f"/training/enrolments/{enrolment.id}"))
    origin = f"module:{enrolment.assignment.module_id}"
    assert "/ideas/new?" not in page  # the private text never goes into a URL
    assert f'name="origin" value="{origin}"' in page
    form = client.post("/ideas/new", data={"prefill": "1", "problem": SECRET, "origin": origin})
    assert form.status_code == 200
    assert "I was rude to a caller on Tuesday" in text(form)
    assert "This field is required." not in text(form)
    assert f'value="{origin}"' in text(form)
    response = client.post(
        "/ideas/new",
        data={
            "title": "Calm scripts for hard calls",
            "problem": SECRET,
            "proposal": "Practice.",
            "lens": "care",
            "beneficiary": "external",
            "origin": origin,
        },
    )
    assert response.status_code == 303
    idea = db.session.scalar(sa.select(Idea))
    linked = sa.select(ModuleIdea.module_id).where(ModuleIdea.idea_id == idea.id)
    assert db.session.scalar(linked) == enrolment.assignment.module_id


# The inbox and feedback


def test_trainer_reads_the_inbox_and_the_learner_sees_feedback(client_as, trainer, make_enrolment):
    enrolment = make_enrolment("reflection", answer=SECRET)
    inbox = text(client_as(trainer).get("/training/reflections"))
    assert "I was rude to a caller" in inbox
    response = client_as(trainer).post(
        f"/training/reflections/{enrolment.id}/feedback",
        data={"feedback": "Thank you for your honesty."},
        headers=HX,
    )
    assert response.status_code == 200
    assert (
        text(response)
        .lstrip()
        .startswith(f'<article class="reflection" id="reflection-{enrolment.id}"')
    )
    assert "Feedback given" in text(response)
    assert "Nothing waiting" in text(client_as(trainer).get("/training/reflections"))
    learner_page = text(client_as(enrolment.user).get(f"/training/enrolments/{enrolment.id}"))
    assert (
        "Feedback from Tara Trainer" in learner_page
        and "Thank you for your honesty." in learner_page
    )
    listing = text(client_as(enrolment.user).get("/training"))
    assert "Feedback from Tara Trainer" in listing


def test_empty_feedback_is_refused(client_as, trainer, make_enrolment):
    enrolment = make_enrolment("reflection", answer=SECRET)
    response = client_as(trainer).post(
        f"/training/reflections/{enrolment.id}/feedback", data={"feedback": " "}, headers=HX
    )
    assert response.status_code == 422
    assert db.session.get(Reflection, enrolment.id).feedback is None


def test_inbox_filters_by_module_and_department(
    client_as, trainer, make_enrolment, make_user, make_department
):
    stores = make_department("Stores")
    in_stores = make_enrolment(
        "reflection", learner=make_user(department=stores), answer="Stores reflection " * 4
    )
    elsewhere = make_enrolment("reflection", answer="Elsewhere reflection " * 4)
    client = client_as(trainer)
    by_department = text(client.get(f"/training/reflections?department={stores.id}"))
    assert "Stores reflection" in by_department and "Elsewhere reflection" not in by_department
    by_module = text(client.get(f"/training/reflections?module={elsewhere.assignment.module_id}"))
    assert "Elsewhere reflection" in by_module and "Stores reflection" not in by_module
    assert client.get("/training/reflections?module=abc").status_code == 400
    assert in_stores.id


# Privacy


@pytest.mark.parametrize("role", [Role.MANAGER, Role.ADMIN])
def test_managers_and_admins_never_read_reflection_text(client_as, make_user, make_enrolment, role):
    enrolment = make_enrolment("reflection", answer=SECRET)
    client = client_as(make_user(role))
    assert client.get("/training/reflections").status_code == 403
    assert client.get(f"/training/enrolments/{enrolment.id}").status_code == 403
    response = client.post(
        f"/training/reflections/{enrolment.id}/feedback", data={"feedback": "x"}, headers=HX
    )
    assert response.status_code == 403 and "rude" not in text(response)
    department = enrolment.user.department_id
    for url in (
        "/training/coverage",
        f"/training/coverage/departments/{department}",
        "/training/coverage.csv",
    ):
        response = client.get(url)
        assert response.status_code == 200
        assert "rude to a caller" not in text(response)


def test_a_colleague_cannot_open_someone_elses_enrolment(client_as, make_user, make_enrolment):
    enrolment = make_enrolment("reflection", answer=SECRET)
    client = client_as(make_user())
    assert client.get(f"/training/enrolments/{enrolment.id}").status_code == 403
    assert (
        client.post(
            f"/training/enrolments/{enrolment.id}/complete", data={"answer": "x" * 60}
        ).status_code
        == 403
    )


# Coverage


def test_coverage_counts_due_completed_and_overdue_by_department_and_kind(
    client_as, trainer, make_user, make_module, make_enrolment, make_department
):
    it = make_department("IT", DepartmentKind.BACK_OFFICE)
    people = [make_user(department=it, name=f"IT {n}") for n in range(3)]
    past = utcnow().date() - timedelta(days=30)
    make_enrolment(learner=people[0], today=past, answer="")  # due and done
    make_enrolment(learner=people[1], today=past)  # due and overdue
    make_enrolment(learner=people[2], due_days=30)  # not due yet: not counted
    page = text(client_as(trainer).get("/training/coverage"))
    row = (
        page.split(f"department_id={it.id}", 1)[1]
        if f"department_id={it.id}" in page
        else page.split(">IT</a>", 1)[1]
    )
    cells = re.findall(r'<td class="number">([^<]+)</td>', row)[:6]
    # people, assigned, due so far, completed, overdue, up to date
    assert cells == ["3", "3", "2", "1", "1", "50%"]
    drill = text(client_as(trainer).get(f"/training/coverage/departments/{it.id}"))
    assert "IT 0" in drill and "IT 1" in drill and "<strong>1</strong>" in drill


def test_coverage_csv_lists_person_by_assignment(
    client_as, trainer, make_user, make_enrolment, make_department
):
    it = make_department("IT", DepartmentKind.BACK_OFFICE)
    learner = make_user(department=it, name="=HYPERLINK(evil)")
    make_enrolment(
        "reflection", learner=learner, today=utcnow().date() - timedelta(days=30), answer=SECRET
    )
    response = client_as(trainer).get("/training/coverage.csv")
    assert response.mimetype == "text/csv"
    assert "attachment; filename=training-coverage-" in response.headers["Content-Disposition"]
    assert response.get_data().startswith(b"\xef\xbb\xbf")  # Excel reads it as UTF-8
    rows = list(csv.DictReader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    assert rows[0]["name"] == "'=HYPERLINK(evil)"  # a spreadsheet will not run it
    assert (rows[0]["department"], rows[0]["kind"], rows[0]["late"]) == ("IT", "Back office", "yes")
    assert SECRET not in text(response)


@pytest.fixture
def missing_period(make_user, make_module):
    """A learner of a monthly assignment whose current period has not been started yet (as if
    the daily command had not run for them): (learner, their enrolments in it)."""
    from serviceideas.notifications.models import Notification
    from serviceideas.training import services
    from serviceideas.training.models import Audience, Repeat

    trainer, learner = make_user(Role.TRAINER), make_user()
    module = make_module(author=trainer, title="Monthly check-in")
    draft = services.AssignmentDraft(audience=Audience.EVERYONE, due_days=14, repeat=Repeat.MONTHLY)
    assignment = services.create_assignment(trainer, module, draft)
    db.session.commit()
    theirs = sa.select(Enrolment.id).where(
        Enrolment.assignment_id == assignment.id, Enrolment.user_id == learner.id
    )
    db.session.execute(sa.delete(Notification).where(Notification.user_id == learner.id))
    db.session.execute(sa.delete(Enrolment).where(Enrolment.id.in_(theirs)))
    db.session.commit()
    return learner, theirs


def notices_for(learner):
    from serviceideas.notifications.models import Notification

    return db.session.scalars(sa.select(Notification).where(Notification.user_id == learner.id))


WRITES = ("INSERT", "UPDATE", "DELETE")


def test_opening_my_training_writes_nothing(client_as, missing_period):
    """A GET only reads: the missing period stays missing until the daily command runs."""
    learner, theirs = missing_period
    with count_queries() as log:
        response = client_as(learner).get("/training")
    assert response.status_code == 200
    assert [sql for sql in log if sql.lstrip().upper().startswith(WRITES)] == []
    assert "Monthly check-in" not in text(response)
    assert db.session.scalars(theirs).all() == []
    assert notices_for(learner).all() == []


def test_the_daily_command_starts_a_missing_period_and_says_so(app, client_as, missing_period):
    learner, theirs = missing_period
    result = app.test_cli_runner().invoke(args=["enrol-training"])
    assert result.exit_code == 0, result.output
    assert len(db.session.scalars(theirs).all()) == 1
    assert len(notices_for(learner).all()) == 1
    assert "Monthly check-in" in text(client_as(learner).get("/training"))


def test_a_new_period_and_its_notice_stand_or_fall_together(app, missing_period, monkeypatch):
    """If saying so fails, the new period is not started either, so the next run does both."""
    from serviceideas.notifications import receivers

    learner, theirs = missing_period

    def database_away(*_args, **_kwargs):
        raise sa.exc.OperationalError("INSERT INTO notifications", {}, Exception("gone"))

    monkeypatch.setattr(receivers, "announce_training", database_away)
    assert app.test_cli_runner().invoke(args=["enrol-training"]).exit_code != 0
    db.session.rollback()  # the command ran in this test's app context and session
    assert db.session.scalars(theirs).all() == []  # nothing half done
    monkeypatch.undo()
    assert app.test_cli_runner().invoke(args=["enrol-training"]).exit_code == 0
    assert len(db.session.scalars(theirs).all()) == 1
    assert len(notices_for(learner).all()) == 1
