"""Back-office and front-line teams as audiences; what a move to another department does to
a person's training; coverage read by module (docs/product.md, "Assignments", "Training
coverage")."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from serviceideas.database import utcnow
from serviceideas.extensions import db
from serviceideas.people import services as people
from serviceideas.people.models import DepartmentKind, Role
from serviceideas.training import services
from serviceideas.training.models import AnswerDraft, Audience, Enrolment, Reflection
from tests.conftest import count_queries

ANSWER = "The stores wait for our deliveries, so I now call them before the van leaves."


def text(response):
    return response.get_data(as_text=True)


def enrolment_of(assignment, person):
    return db.session.scalar(
        sa.select(Enrolment).where(
            Enrolment.assignment_id == assignment.id, Enrolment.user_id == person.id
        )
    )


@pytest.fixture
def trainer(make_user):
    return make_user(Role.TRAINER, name="Tara Trainer")


@pytest.fixture
def company(make_department, make_user):
    stores = make_department("Stores", DepartmentKind.FRONT_LINE)
    it = make_department("IT", DepartmentKind.BACK_OFFICE)
    return {
        "stores": stores,
        "it": it,
        "ana": make_user(department=stores, name="Ana Stores"),
        "bo": make_user(department=it, name="Bo Office"),
        "gone": make_user(department=it, active=False),
    }


def assign(trainer, module, **draft):
    draft.setdefault("due_days", 14)
    assignment = services.create_assignment(trainer, module, services.AssignmentDraft(**draft))
    db.session.commit()
    return assignment


def move(person, department):
    people.update_user(person, name=person.name, department=department, roles=())
    db.session.commit()


# Audiences


def test_all_back_office_teams_means_the_active_people_of_back_office_departments(
    trainer, make_module, company
):
    back = assign(trainer, make_module(author=trainer), audience=Audience.BACK_OFFICE)
    front = assign(trainer, make_module(author=trainer), audience=Audience.FRONT_LINE)
    assert enrolment_of(back, company["bo"]) is not None
    assert enrolment_of(back, company["ana"]) is None
    assert enrolment_of(back, company["gone"]) is None  # only active staff
    assert enrolment_of(front, company["ana"]) is not None
    assert enrolment_of(front, company["bo"]) is None


def test_a_back_office_department_created_later_and_who_moves_into_it_are_covered(
    trainer, make_module, company
):
    assignment = assign(
        trainer,
        make_module(author=trainer),
        audience=Audience.BACK_OFFICE,
        due_on=utcnow().date() + timedelta(days=30),
        due_days=None,
    )
    finance = people.create_department("Finance", DepartmentKind.BACK_OFFICE)
    newcomer = people.create_user(email="new@example.com", name="New", department=finance)
    db.session.commit()
    assert enrolment_of(assignment, newcomer).due_on == utcnow().date() + timedelta(days=30)

    move(company["ana"], finance)  # from the front line
    assert enrolment_of(assignment, company["ana"]) is not None


def test_joiners_of_a_kind_get_the_joiners_due_date(trainer, make_module, company):
    assignment = assign(trainer, make_module(author=trainer), audience=Audience.FRONT_LINE)
    shop = people.create_department("Shop floor", DepartmentKind.FRONT_LINE)
    move(company["bo"], shop)
    joined = enrolment_of(assignment, company["bo"])
    assert joined.enrolled_on == utcnow().date()
    assert joined.due_on == utcnow().date() + timedelta(days=14)


# Moving department


def test_a_move_withdraws_what_no_assignment_covers_and_keeps_finished_work_and_drafts(
    trainer, make_module, company, client_as
):
    ana, it = company["ana"], company["it"]
    front = assign(trainer, make_module(author=trainer), audience=Audience.FRONT_LINE)
    stores_done = assign(
        trainer,
        make_module("reflection", author=trainer),
        audience=Audience.DEPARTMENTS,
        departments=[company["stores"]],
    )
    drafted = assign(
        trainer,
        make_module("reflection", author=trainer, title="Half written"),
        audience=Audience.DEPARTMENTS,
        departments=[company["stores"]],
    )
    everyone = assign(trainer, make_module(author=trainer), audience=Audience.EVERYONE)
    named = assign(trainer, make_module(author=trainer), audience=Audience.PEOPLE, people=[ana])
    for_it = assign(
        trainer, make_module(author=trainer, title="For IT"), audience=Audience.BACK_OFFICE
    )
    services.complete(ana, enrolment_of(stores_done, ana), ANSWER)
    services.save_draft(ana, enrolment_of(drafted, ana), "Half of what I think.")
    db.session.commit()

    move(ana, it)

    assert enrolment_of(front, ana).withdrawn_at is not None
    assert enrolment_of(drafted, ana).withdrawn_at is not None
    kept = db.session.get(AnswerDraft, enrolment_of(drafted, ana).id)
    assert kept is not None and kept.text == "Half of what I think."
    done = enrolment_of(stores_done, ana)
    assert done.withdrawn_at is None and done.is_done
    assert db.session.get(Reflection, done.id) is not None
    assert enrolment_of(everyone, ana).withdrawn_at is None
    assert enrolment_of(named, ana).withdrawn_at is None
    assert enrolment_of(for_it, ana) is not None

    mine = text(client_as(ana).get("/training"))
    assert "For IT" in mine
    assert "Half written" in mine and "Not for your new team" in mine  # her draft, kept
    assert front.module.title not in mine  # nothing typed in it: gone from her list

    # Withdrawn training is not counted, nor reminded.
    learner = client_as(ana)
    page = text(learner.get(f"/training/enrolments/{enrolment_of(front, ana).id}"))
    assert "no longer assigned to you" in page


def test_moving_back_gives_the_training_back(trainer, make_module, company):
    ana = company["ana"]
    front = assign(trainer, make_module(author=trainer), audience=Audience.FRONT_LINE)
    move(ana, company["it"])
    assert enrolment_of(front, ana).withdrawn_at is not None
    move(ana, company["stores"])
    back = enrolment_of(front, ana)
    assert back.withdrawn_at is None
    assert back.due_on == utcnow().date() + timedelta(days=14)


def test_withdrawn_training_leaves_coverage(trainer, make_module, company, client_as):
    module = make_module(author=trainer, title="Front only")
    assign(trainer, module, audience=Audience.FRONT_LINE)
    coverage = client_as(trainer).get(f"/training/coverage/modules/{module.id}.csv")
    assert "Ana Stores" in text(coverage)
    move(company["ana"], company["it"])
    coverage = client_as(trainer).get(f"/training/coverage/modules/{module.id}.csv")
    assert "Ana Stores" not in text(coverage)


def test_withdrawing_takes_one_statement_per_assignment_whatever_the_number_of_people(
    trainer, make_module, make_user, company
):
    for audience in (Audience.FRONT_LINE, Audience.EVERYONE):
        assign(trainer, make_module(author=trainer), audience=audience)
    assign(
        trainer,
        make_module(author=trainer),
        audience=Audience.DEPARTMENTS,
        departments=[company["stores"]],
    )

    def moved(count):
        movers = [make_user(department=company["stores"]) for _ in range(count)]
        services.enrol_new_members(movers)
        for person in movers:
            person.department = company["it"]
        db.session.flush()
        with count_queries() as log:
            withdrawn = services.withdraw_uncovered(movers)
        db.session.rollback()
        return withdrawn, log.count

    few, few_statements = moved(2)
    many, many_statements = moved(10)
    assert (few, many) == (4, 20)  # front line and Stores: two each
    assert few_statements == many_statements == 1 + 3  # the assignments, then one each


# The assign form


def test_the_assign_form_chooses_no_audience_and_refuses_none(client_as, trainer, make_module):
    module = make_module(author=trainer)
    client = client_as(trainer)
    form = text(client.get(f"/training/modules/{module.id}/assign"))
    radios = re.findall(r'<input[^>]*name="audience"[^>]*>', form)
    assert len(radios) == 5 and not any(" checked" in radio for radio in radios)
    response = client.post(
        f"/training/modules/{module.id}/assign",
        data={"due_kind": "relative", "due_days": "14", "repeat": "none"},
    )
    assert response.status_code == 303
    shown = text(client.get(response.headers["Location"]))
    assert "Choose who this is for." in shown
    assert db.session.scalar(sa.select(sa.func.count(Enrolment.id))) == 0


def test_the_assign_form_shows_each_departments_kind(client_as, trainer, make_module, company):
    module = make_module(author=trainer)
    form = text(client_as(trainer).get(f"/training/modules/{module.id}/assign"))
    assert "IT (back office)" in form and "Stores (front line)" in form
    assert "All back-office teams" in form and "All front-line teams" in form


def test_a_trainer_assigns_to_all_back_office_teams_through_the_form(
    client_as, trainer, make_module, company
):
    module = make_module(author=trainer)
    client = client_as(trainer)
    response = client.post(
        f"/training/modules/{module.id}/assign",
        data={
            "audience": "back_office",
            "due_kind": "relative",
            "due_days": "14",
            "repeat": "none",
        },
    )
    assert response.status_code == 303
    assignments = text(client.get("/training/assignments"))
    assert "All back-office teams" in assignments
    assert "Assigned" in assignments and "1 person enrolled" in assignments


# Coverage by module


@pytest.fixture
def module_with_progress(trainer, make_module, make_user, company):
    module = make_module(author=trainer, title="Serve the store")
    assignment = assign(trainer, module, audience=Audience.EVERYONE)
    cy = make_user(department=company["it"], name="Cy Done")
    services.enrol_new_members([cy])
    services.complete(cy, enrolment_of(assignment, cy), "")
    db.session.execute(  # Ana is behind: her enrolment was due yesterday
        sa.update(Enrolment)
        .where(Enrolment.user_id == company["ana"].id)
        .values(due_on=utcnow().date() - timedelta(days=1))
    )
    db.session.commit()
    return module


def test_coverage_by_module_lists_who_is_behind_and_who_is_done(
    client_as, trainer, module_with_progress
):
    client = client_as(trainer)
    overview = text(client.get("/training/coverage"))
    assert "By module" in overview and "Serve the store" in overview
    url = f"/training/coverage/modules/{module_with_progress.id}"
    behind = text(client.get(url))
    assert "Ana Stores" in behind and "Cy Done" not in behind
    assert "Back office" in behind and "Front line" in behind
    done = text(client.get(f"{url}?show=done"))
    assert "Cy Done" in done and "Ana Stores" not in done
    assert client.get(f"{url}?show=nonsense").status_code == 400


def test_the_module_csv_has_labels_and_is_named_for_its_module(
    client_as, trainer, module_with_progress
):
    response = client_as(trainer).get(f"/training/coverage/modules/{module_with_progress.id}.csv")
    assert response.status_code == 200
    disposition = response.headers["Content-Disposition"]
    assert f"training-coverage-of-serve-the-store-{utcnow().date()}.csv" in disposition
    rows = list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    assert rows[0] == ["Name", "Department", "Kind of team", "Period", "Due", "Completed", "Status"]
    by_name = {row[0]: row for row in rows[1:]}
    assert by_name["Ana Stores"][2] == "Front line" and by_name["Ana Stores"][6] == "Overdue"
    assert by_name["Cy Done"][2] == "Back office" and by_name["Cy Done"][6] == "Done"
    assert by_name["Cy Done"][3] == "Once"


def test_module_coverage_takes_the_same_queries_whatever_the_number_of_people(
    client_as, trainer, make_module, make_user, company
):
    module = make_module(author=trainer)
    assign(trainer, module, audience=Audience.EVERYONE)
    client = client_as(trainer)
    url = f"/training/coverage/modules/{module.id}"

    def queries_for(path):
        with count_queries() as log:
            assert client.get(path).status_code == 200
        return log.count

    before = [queries_for(url), queries_for(f"{url}?show=to_do"), queries_for(f"{url}.csv")]
    before.append(queries_for("/training/coverage"))
    for n in range(8):
        department = company["it"] if n % 2 else company["stores"]
        services.enrol_new_members([make_user(department=department)])
    db.session.commit()
    after = [queries_for(url), queries_for(f"{url}?show=to_do"), queries_for(f"{url}.csv")]
    after.append(queries_for("/training/coverage"))
    assert after == before
