"""Training rules without HTTP: audiences, joiners, due dates, repeats, withdraw, versions."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from serviceideas.database import utcnow
from serviceideas.errors import RuleViolation
from serviceideas.extensions import db
from serviceideas.people import services as people
from serviceideas.people.models import DepartmentKind, Role
from serviceideas.training import services
from serviceideas.training.models import (
    Audience,
    Enrolment,
    ModuleKind,
    ModuleStatus,
    Reflection,
    Repeat,
)

TODAY = date(2026, 5, 10)


def enrolled(assignment=None, user=None):
    query = sa.select(Enrolment)
    if assignment is not None:
        query = query.where(Enrolment.assignment_id == assignment.id)
    if user is not None:
        query = query.where(Enrolment.user_id == user.id)
    return db.session.scalars(query.order_by(Enrolment.id)).all()


@pytest.fixture
def trainer(make_user):
    return make_user(Role.TRAINER)


@pytest.fixture
def company(make_department, make_user):
    stores = make_department("Stores", DepartmentKind.FRONT_LINE)
    it = make_department("IT", DepartmentKind.BACK_OFFICE)
    return {
        "stores": stores,
        "it": it,
        "ana": make_user(department=stores),
        "bo": make_user(department=it),
        "cy": make_user(department=it),
        "gone": make_user(department=it, active=False),
    }


def assign(trainer, module, today=TODAY, **draft):
    draft.setdefault("due_days", 14)
    assignment = services.create_assignment(
        trainer, module, services.AssignmentDraft(**draft), today=today
    )
    db.session.commit()
    return assignment


def test_everyone_means_every_active_person(trainer, make_module, company):
    assignment = assign(trainer, make_module(author=trainer), audience=Audience.EVERYONE)
    people = {e.user_id for e in enrolled(assignment)}
    assert company["gone"].id not in people
    assert {company[k].id for k in ("ana", "bo", "cy")} <= people
    assert trainer.id in people  # trainers serve someone too


def test_departments_and_people_audiences(trainer, make_module, company):
    by_department = assign(
        trainer,
        make_module(author=trainer),
        audience=Audience.DEPARTMENTS,
        departments=[company["it"]],
    )
    by_name = assign(
        trainer, make_module(author=trainer), audience=Audience.PEOPLE, people=[company["ana"]]
    )
    assert {e.user_id for e in enrolled(by_department)} == {company["bo"].id, company["cy"].id}
    assert [e.user_id for e in enrolled(by_name)] == [company["ana"].id]


def test_relative_and_fixed_due_dates(trainer, make_module, company):
    relative = assign(
        trainer, make_module(author=trainer), audience=Audience.PEOPLE, people=[company["ana"]]
    )
    fixed = assign(
        trainer,
        make_module(author=trainer),
        audience=Audience.PEOPLE,
        people=[company["ana"]],
        due_days=None,
        due_on=TODAY + timedelta(days=30),
    )
    assert enrolled(relative)[0].due_on == TODAY + timedelta(days=14)
    assert enrolled(fixed)[0].due_on == TODAY + timedelta(days=30)


def test_people_who_join_later_are_enrolled_with_their_own_due_date(
    trainer, make_module, company, make_department
):
    module = make_module(author=trainer)
    everyone = assign(trainer, module, audience=Audience.EVERYONE)
    it_only = assign(
        trainer,
        make_module(author=trainer),
        audience=Audience.DEPARTMENTS,
        departments=[company["it"]],
    )
    # Someone new in IT, created as the CSV import or the admin page would.
    newcomer = people.create_user(email="new@example.com", name="New", department=company["it"])
    db.session.commit()
    assert len(enrolled(everyone, newcomer)) == 1
    assert len(enrolled(it_only, newcomer)) == 1
    assert enrolled(everyone, newcomer)[0].due_on == utcnow().date() + timedelta(days=14)

    # Ana moves from Stores to IT: enrolled in IT's assignment, and once only in everyone's.
    people.update_user(company["ana"], name="Ana", department=company["it"], roles=())
    db.session.commit()
    assert len(enrolled(it_only, company["ana"])) == 1
    assert len(enrolled(everyone, company["ana"])) == 1


def test_joiners_after_a_fixed_date_get_fourteen_days(trainer, make_module, company, make_user):
    assignment = assign(
        trainer,
        make_module(author=trainer),
        audience=Audience.EVERYONE,
        due_days=None,
        due_on=TODAY + timedelta(days=3),
    )
    late = make_user(department=company["it"])  # joins on day 10 (the factory sends no signal)
    services.enrol(assignment, TODAY + timedelta(days=10), only=[late.id])
    assert enrolled(assignment, late)[0].due_on == TODAY + timedelta(days=24)


def test_enrolling_twice_enrols_nobody_twice(trainer, make_module, company):
    assignment = assign(trainer, make_module(author=trainer), audience=Audience.EVERYONE)
    before = len(enrolled(assignment))
    assert services.enrol(assignment, TODAY) == 0
    assert services.enrol_current_periods(today=TODAY) == 0
    assert len(enrolled(assignment)) == before


def test_the_database_refuses_a_second_enrolment_in_the_same_period(trainer, make_module, company):
    from sqlalchemy.exc import IntegrityError

    assignment = assign(
        trainer, make_module(author=trainer), audience=Audience.PEOPLE, people=[company["bo"]]
    )
    first = enrolled(assignment)[0]
    db.session.add(
        Enrolment(
            assignment_id=assignment.id,
            user_id=company["bo"].id,
            period_start=first.period_start,
            enrolled_on=TODAY,
            due_on=TODAY,
        )
    )
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


@pytest.mark.parametrize(
    ("repeat", "days", "periods"),
    [(Repeat.MONTHLY, [0, 5, 21, 22, 40, 60], 3), (Repeat.QUARTERLY, [0, 30, 51, 52, 120], 2)],
)
def test_repeats_make_exactly_one_enrolment_per_period(
    trainer, make_module, company, repeat, days, periods
):
    assignment = assign(
        trainer,
        make_module("activity", author=trainer),
        audience=Audience.PEOPLE,
        people=[company["bo"]],
        repeat=repeat,
    )
    for day in days:  # the daily command, run on some days, sometimes twice
        services.enrol_current_periods(today=TODAY + timedelta(days=day))
        services.enrol_current_periods(today=TODAY + timedelta(days=day))
    rows = enrolled(assignment)
    assert len(rows) == periods
    assert len({row.period_start for row in rows}) == periods
    assert all(row.period_start.day == 1 for row in rows[1:])


def test_withdrawn_assignments_enrol_nobody_and_leave_completed_work(trainer, make_module, company):
    assignment = assign(
        trainer,
        make_module(author=trainer),
        audience=Audience.DEPARTMENTS,
        departments=[company["it"]],
    )
    done = enrolled(assignment, company["bo"])[0]
    services.complete(company["bo"], done, None)
    services.withdraw(trainer, assignment)
    db.session.commit()
    newcomer = people.create_user(email="n@example.com", name="N", department=company["it"])
    assert enrolled(assignment, newcomer) == []
    unfinished = enrolled(assignment, company["cy"])[0]
    assert services.complete(company["cy"], unfinished, None) is services.Completion.WITHDRAWN
    assert not unfinished.is_done
    assert enrolled(assignment, company["bo"])[0].is_done


@pytest.mark.parametrize(
    ("draft", "message"),
    [
        ({"audience": Audience.DEPARTMENTS}, "at least one department"),
        ({"audience": Audience.PEOPLE}, "at least one person"),
        ({"due_days": None, "due_on": TODAY - timedelta(days=1)}, "due date has passed"),
        ({"due_days": None}, "either a due date or a number of days"),
        ({"due_days": 0}, "between 1 and 365"),
        ({"due_days": None, "due_on": TODAY, "repeat": Repeat.MONTHLY}, "repeating assignment"),
    ],
)
def test_bad_assignments_are_refused(trainer, make_module, company, draft, message):
    draft = {"audience": Audience.EVERYONE, "due_days": 14, **draft}
    with pytest.raises(RuleViolation, match=message):
        services.create_assignment(
            trainer, make_module(author=trainer), services.AssignmentDraft(**draft), today=TODAY
        )


def test_only_published_modules_are_assigned(trainer, make_module, company):
    with pytest.raises(RuleViolation, match="Publish it first"):
        assign(trainer, make_module(author=trainer, publish=False), audience=Audience.EVERYONE)


def test_completion_records_the_version_and_editing_raises_it(trainer, make_module, company):
    module = make_module("reflection", author=trainer)
    assignment = assign(
        trainer, module, audience=Audience.PEOPLE, people=[company["ana"], company["bo"]]
    )
    first, second = enrolled(assignment)
    services.complete(first.user, first, "I noticed that our hold music plays for twenty minutes.")
    draft = services.ModuleDraft(
        module.title, module.summary, module.body + "\n\nMore.", module.kind, module.prompt, 15
    )
    services.update_module(trainer, module, draft)
    services.complete(second.user, second, "The queue is the customer's first impression of us.")
    assert (first.completed_version, second.completed_version, module.version) == (1, 2, 2)
    # A title-only edit changes nothing learners answer: no new version.
    services.update_module(
        trainer,
        module,
        services.ModuleDraft(
            "New title",
            *[getattr(draft, f) for f in ("summary", "body", "kind", "prompt", "minutes")],
        ),
    )
    assert module.version == 2


def test_draft_edits_do_not_raise_the_version(trainer, make_module):
    module = make_module(author=trainer, publish=False)
    draft = services.ModuleDraft("T", "S", "Changed", ModuleKind.READING, None, 5)
    services.update_module(trainer, module, draft)
    assert (module.version, module.status) == (1, ModuleStatus.DRAFT)


def test_late_work_is_accepted_and_labelled_late(trainer, make_module, company):
    assignment = assign(
        trainer,
        make_module("reflection", author=trainer),
        audience=Audience.PEOPLE,
        people=[company["ana"]],
    )
    enrolment = enrolled(assignment)[0]
    late_by_a_week = utcnow().replace(year=2026, month=6, day=1)
    assert enrolment.is_overdue(date(2026, 6, 1))
    services.complete(company["ana"], enrolment, "Late but honest: " + "x" * 40, now=late_by_a_week)
    assert enrolment.was_late and enrolment.is_done


@pytest.mark.parametrize("answer", [None, "", "Too short.", "x" * 10_001])
def test_reflections_need_a_real_written_answer(trainer, make_module, company, answer):
    assignment = assign(
        trainer,
        make_module("reflection", author=trainer),
        audience=Audience.PEOPLE,
        people=[company["ana"]],
    )
    enrolment = enrolled(assignment)[0]
    with pytest.raises(RuleViolation) as refused:
        services.complete(company["ana"], enrolment, answer)
    assert refused.value.field == "answer"
    assert not enrolment.is_done


def test_nobody_completes_twice_or_for_someone_else(trainer, make_module, company):
    assignment = assign(
        trainer, make_module(author=trainer), audience=Audience.PEOPLE, people=[company["ana"]]
    )
    enrolment = enrolled(assignment)[0]
    with pytest.raises(RuleViolation, match="your own"):
        services.complete(company["bo"], enrolment, None)
    services.complete(company["ana"], enrolment, None)
    with pytest.raises(RuleViolation, match="already completed"):
        services.complete(company["ana"], enrolment, None)


def test_feedback_needs_the_trainer_role_itself(make_user, make_enrolment):
    enrolment = make_enrolment("reflection", answer="What I learnt from the call: " + "y" * 40)
    reflection = db.session.get(Reflection, enrolment.id)
    for someone in (make_user(Role.ADMIN), make_user(Role.MANAGER), make_user()):
        with pytest.raises(RuleViolation, match="Only trainers"):
            services.give_feedback(someone, reflection, "Nice.")
    trainer = make_user(Role.TRAINER)
    services.give_feedback(trainer, reflection, "Thank you — share this with your team.")
    assert (reflection.feedback_by, reflection.feedback) == (
        trainer,
        "Thank you — share this with your team.",
    )


def test_ideas_started_from_a_module_are_linked_only_after_completing_it(
    make_user, make_enrolment, make_idea
):
    from serviceideas.training.models import ModuleIdea

    enrolment = make_enrolment("reflection", answer="A reflection long enough to count. " * 2)
    idea = make_idea(author=enrolment.user)
    module_id = enrolment.assignment.module_id
    assert services.record_idea_from_module(make_user(), module_id, idea.id) is False
    assert services.record_idea_from_module(enrolment.user, module_id, idea.id) is True
    assert db.session.scalar(sa.select(ModuleIdea.idea_id)) == idea.id


def test_a_joiner_is_enrolled_in_the_current_period_at_once(trainer, make_module, company):
    """Nothing waits for a page visit or the daily command: joining starts today's period of a
    repeating assignment, as the signal from people says they joined."""
    assignment = assign(
        trainer,
        make_module("activity", author=trainer),
        audience=Audience.DEPARTMENTS,
        departments=[company["it"]],
        repeat=Repeat.MONTHLY,
    )
    newcomer = people.create_user(email="joiner@example.com", name="J", department=company["it"])
    db.session.commit()
    (enrolment,) = enrolled(assignment, newcomer)
    assert enrolment.period_start == utcnow().date().replace(day=1)
    assert services.enrol_current_periods() == 2  # the daily run starts Bo's and Cy's
    assert enrolled(assignment, newcomer) == [enrolment]  # and had nothing left for them


def test_the_daily_run_starts_each_new_period_for_everyone_in_the_audience(
    trainer, make_module, company
):
    assignment = assign(
        trainer,
        make_module("activity", author=trainer),
        audience=Audience.DEPARTMENTS,
        departments=[company["it"]],
        repeat=Repeat.MONTHLY,
    )
    next_month = TODAY + timedelta(days=31)
    assert services.enrol_current_periods(today=next_month) == 2  # Bo and Cy; not Ana, not gone
    assert services.enrol_current_periods(today=next_month) == 0
    assert len(enrolled(assignment, company["bo"])) == 2
    assert len(enrolled(assignment, company["cy"])) == 2
    assert enrolled(assignment, company["ana"]) == []


def test_a_reactivated_person_is_enrolled_in_what_was_assigned_while_they_were_away(
    trainer, make_module, make_user, company
):
    """Deactivated people get no enrolments; coming back enrols them at once, as joining does,
    instead of waiting for the daily command (pages never enrol anyone)."""
    assignment = assign(
        trainer,
        make_module(author=trainer),
        audience=Audience.DEPARTMENTS,
        departments=[company["it"]],
    )
    gone = company["gone"]
    assert enrolled(assignment, gone) == []
    people.set_active(make_user(Role.ADMIN), gone, True)
    db.session.commit()
    (enrolment,) = enrolled(assignment, gone)
    assert enrolment.enrolled_on == utcnow().date()
