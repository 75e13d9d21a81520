"""The command-line interface: seed-demo, create-user, import-staff, enrol-training and
unlink-identity-provider.

send-reminders and send-digests are tested with notifications (tests/notifications), export
and restore in tests/test_backup.py."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from serviceideas.database import utcnow
from serviceideas.extensions import db
from serviceideas.people.models import Department, DepartmentKind, Role, User
from serviceideas.people.services import authenticate


def run(app, *args, input=None):
    return app.test_cli_runner().invoke(args=list(args), input=input)


def count(model):
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_seed_demo_makes_a_company_with_ideas_and_training_that_enrol_training_leaves_alone(
    app, demo_company
):
    """One seeding (seconds on every run) checked four ways: the checks only read, except
    enrol-training's, which comes last."""
    assert demo_company.exit_code == 0, demo_company.output
    five_sign_ins_and_a_believable_company(demo_company.output)
    ideas_across_every_status_lens_and_team()
    training_with_done_due_and_overdue_work()
    enrol_training_is_idempotent(app)


def five_sign_ins_and_a_believable_company(output):
    for email in ("employee", "backoffice", "trainer", "manager", "admin"):
        assert f"{email}@example.com" in output
        assert authenticate(f"{email}@example.com", "demo-password-1") is not None

    backoffice = db.session.scalar(sa.select(User).where(User.email == "backoffice@example.com"))
    assert backoffice.department.kind is DepartmentKind.BACK_OFFICE
    kinds = db.session.scalars(sa.select(Department.kind)).all()
    assert len(kinds) >= 8 and kinds.count(DepartmentKind.BACK_OFFICE) >= 3
    assert 50 <= count(User) <= 70
    roles = {
        email: db.session.scalar(sa.select(User).where(User.email == f"{email}@example.com")).roles
        for email in ("trainer", "manager", "admin")
    }
    assert roles == {
        "trainer": (Role.EMPLOYEE, Role.TRAINER),
        "manager": (Role.EMPLOYEE, Role.MANAGER),
        "admin": (Role.EMPLOYEE, Role.ADMIN),
    }


def test_seed_demo_leaves_a_database_with_people_alone(app, make_user):
    make_user()
    result = run(app, "seed-demo")
    assert result.exit_code == 0
    assert "already has people" in result.output
    assert count(User) == 1


def test_create_user_with_password_from_stdin(app, make_department):
    make_department("IT", DepartmentKind.BACK_OFFICE)
    result = run(
        app,
        "create-user",
        "Ann@Example.com",
        "--name",
        "Ann Lee",
        "--department",
        "it",
        "--role",
        "trainer",
        "--role",
        "admin",
        "--password-stdin",
        input="a long enough password\n",
    )
    assert result.exit_code == 0, result.output
    ann = authenticate("ann@example.com", "a long enough password")
    assert ann is not None and ann.granted_roles == {Role.TRAINER, Role.ADMIN}


def test_create_user_prompts_for_the_password(app, make_department):
    make_department("IT")
    result = run(
        app,
        "create-user",
        "bo@example.com",
        "--name",
        "Bo",
        "--department",
        "IT",
        input="a long enough password\na long enough password\n",
    )
    assert result.exit_code == 0, result.output
    assert authenticate("bo@example.com", "a long enough password") is not None


def test_create_user_refuses_bad_input_clearly(app, make_department, make_user):
    make_department("IT")
    make_user(email="taken@example.com")
    base = ["--name", "X", "--department", "IT", "--password-stdin"]
    unknown = run(app, "create-user", "a@example.com", *base[:2], "--department", "Nope")
    assert unknown.exit_code == 2 and "No department called 'Nope'" in unknown.output
    taken = run(app, "create-user", "TAKEN@example.com", *base, input="a long enough password\n")
    assert taken.exit_code == 2 and "already exists" in taken.output
    short = run(app, "create-user", "c@example.com", *base, input="short\n")
    assert short.exit_code == 2 and "at least 10 characters" in short.output
    role = run(app, "create-user", "d@example.com", *base, "--role", "wizard", input="x\n")
    assert role.exit_code == 2
    assert count(User) == 1


def test_import_staff_dry_run_then_real_then_again(app, make_department, tmp_path):
    make_department("Stores")
    csv = tmp_path / "staff.csv"
    csv.write_text("email,name,department,roles\nann@example.com,Ann,Stores,manager\n")

    dry = run(app, "import-staff", str(csv), "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "Preview: 1 row — 1 created" in dry.output
    assert count(User) == 0

    real = run(app, "import-staff", str(csv))
    assert "Imported: 1 row — 1 created" in real.output
    assert count(User) == 1

    again = run(app, "import-staff", str(csv))
    assert "0 created, 0 updated, 1 unchanged" in again.output


def test_import_staff_reports_bad_rows_and_exits_1(app, make_department, tmp_path):
    make_department("Stores")
    csv = tmp_path / "staff.csv"
    csv.write_text("email,name,department,roles\nbad,,Stores,\nok@example.com,Ok,Stores,\n")
    result = run(app, "import-staff", str(csv))
    assert result.exit_code == 1
    assert "line 2: bad: error" in result.output
    assert count(User) == 1


def test_import_staff_refuses_a_file_that_is_not_utf8(app, tmp_path):
    csv = tmp_path / "staff.csv"
    csv.write_bytes("email,name\né".encode("latin-1"))
    result = run(app, "import-staff", str(csv))
    assert result.exit_code == 1
    assert "not UTF-8" in result.output


def ideas_across_every_status_lens_and_team():
    from serviceideas.ideas.models import (
        Comment,
        Compass,
        Idea,
        JourneyStage,
        Lens,
        Status,
        StatusChange,
        Vote,
    )

    ideas = db.session.scalars(sa.select(Idea)).all()
    assert 35 <= len(ideas) <= 50
    assert {idea.status for idea in ideas} == set(Status)
    assert {idea.lens for idea in ideas} == set(Lens)
    kinds = {idea.author_department.kind for idea in ideas}
    assert kinds == {DepartmentKind.FRONT_LINE, DepartmentKind.BACK_OFFICE}
    assert count(Vote) > 50 and count(Comment) > 10
    assert count(StatusChange) > len(ideas)
    assert all(idea.vote_count == len(idea_votes(idea)) for idea in ideas)
    stalled = [
        idea
        for idea in ideas
        if idea.status.is_open and (utcnow() - idea.status_changed_at).days >= 30
    ]
    assert 1 <= len(stalled) <= 10
    # The customer's side (docs/product.md, "Journey stages and the compass"): seven stages
    # in order, most ideas naming one, and the first, finding us, none at all.
    stages = db.session.scalars(sa.select(JourneyStage).order_by(JourneyStage.position)).all()
    assert [stage.name for stage in stages][::6] == ["Finding us", "Leaving"]
    assert len(stages) == 7 and all(stage.explanation for stage in stages)
    named = {idea.journey_stage_id for idea in ideas if idea.journey_stage_id}
    assert len(named) == 6 and stages[0].id not in named
    assert sum(1 for idea in ideas if idea.journey_stage_id) > len(ideas) / 2
    practised = {idea.compass for idea in ideas if idea.status is Status.IMPLEMENTED}
    assert practised >= set(Compass)
    # One idea speaks up without its author's name (docs/product.md, "Speaking up safely").
    assert [idea.title for idea in ideas if idea.name_hidden] == [
        "Front-line staff in the quarterly leadership meeting"
    ]


def idea_votes(idea):
    from serviceideas.ideas.models import Vote

    return db.session.scalars(sa.select(Vote).where(Vote.idea_id == idea.id)).all()


def training_with_done_due_and_overdue_work():
    from serviceideas.training.models import Assignment, Audience, Enrolment, Module, Reflection

    assert count(Module) == 8
    audiences = set(db.session.scalars(sa.select(Assignment.audience)))
    assert audiences == {Audience.EVERYONE, Audience.DEPARTMENTS, Audience.BACK_OFFICE}
    today = utcnow().date()
    enrolments = db.session.scalars(sa.select(Enrolment)).all()
    done = [e for e in enrolments if e.is_done]
    overdue = [e for e in enrolments if e.is_overdue(today)]
    assert done and overdue and len(done) > len(enrolments) / 3
    reflections = db.session.scalars(sa.select(Reflection)).all()
    assert any(r.feedback for r in reflections) and any(not r.feedback for r in reflections)
    bo = [e for e in enrolments if e.user.email == "backoffice@example.com"]
    assert any(e.is_done for e in bo) and any(not e.is_done for e in bo)


def enrol_training_is_idempotent(app):
    first = run(app, "enrol-training")
    second = run(app, "enrol-training")
    assert first.exit_code == second.exit_code == 0
    assert second.output.strip() == "0 new enrolments."


def test_unlink_identity_provider_forgets_one_persons_subject_or_everyones(app, make_user):
    ann, bob, cat = make_user(email="ann@example.com"), make_user(), make_user()
    ann.oidc_subject, bob.oidc_subject = "ann-at-old-provider", "bob-at-old-provider"
    db.session.commit()

    one = run(app, "unlink-identity-provider", "ANN@example.com")
    assert one.exit_code == 0, one.output
    assert "Unlinked 1 person" in one.output
    db.session.expire_all()
    assert (ann.oidc_subject, bob.oidc_subject) == (None, "bob-at-old-provider")

    everyone = run(app, "unlink-identity-provider", "--all")
    assert "Unlinked 1 person" in everyone.output  # bob: ann and cat had none
    db.session.expire_all()
    assert (ann.oidc_subject, bob.oidc_subject, cat.oidc_subject) == (None, None, None)


@pytest.mark.parametrize(
    ("args", "says"),
    [((), "not both"), (("x@example.com", "--all"), "not both"), (("x@example.com",), "Nobody")],
)
def test_unlink_identity_provider_needs_one_person_or_all(app, make_user, args, says):
    person = make_user(email="x@example.com" if "Nobody" not in says else None)
    person.oidc_subject = "kept"
    db.session.commit()
    result = run(app, "unlink-identity-provider", *args)
    assert result.exit_code == 2 and says in result.output
    db.session.expire_all()
    assert person.oidc_subject == "kept"
