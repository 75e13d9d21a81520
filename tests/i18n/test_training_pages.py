"""Every text of the training pages went through the catalogue: a learner's, a trainer's and
the coverage pages, rendered in the pseudo-language (tests/i18n/pseudo.py) over training whose
content is Cyrillic, leave no English outside ⟦ ⟧; nor do the coverage CSVs' headers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from serviceideas.database import utcnow
from serviceideas.extensions import db
from serviceideas.i18n import LANGUAGE_NAMES
from serviceideas.people.models import DepartmentKind, Role, User
from serviceideas.training import services as training
from serviceideas.training.models import (
    Assignment,
    Audience,
    Enrolment,
    Module,
    ModuleKind,
    Repeat,
)
from tests.i18n import pseudo

# Languages are named in their own language, like the language setting: not translated.
LANGUAGES = list(LANGUAGE_NAMES.values())


@dataclass
class Training:
    learner: User
    trainer: User
    modules: dict[ModuleKind, Module]
    draft: Module
    department_id: int
    done: Enrolment  # a reflection, answered, with feedback
    open: Enrolment  # a reading, to do
    overdue: Enrolment  # an activity, overdue, with a draft of the answer
    withdrawn: Enrolment  # withdrawn while the learner had a draft
    assignment_id: int


@pytest.fixture
def data(make_user: Callable[..., User], make_department: Callable[..., Any]) -> Training:
    today = utcnow().date()
    sales = make_department("Отдел продаж", DepartmentKind.FRONT_LINE)
    back_office = make_department("Бухгалтерия", DepartmentKind.BACK_OFFICE)
    learner = make_user(email="anna@example.com", name="Анна Иванова", department=sales)
    trainer = make_user(
        Role.TRAINER, email="gleb@example.com", name="Глеб Орлов", department=back_office
    )

    def module(kind: ModuleKind, title: str, language: str | None, publish: bool = True) -> Module:
        made = training.create_module(
            trainer,
            training.ModuleDraft(
                title=title,
                summary="Что значит приносить пользу другим.",
                body="Каждый кому-то служит.\n\n* первое\n* второе",
                kind=kind,
                prompt=None if kind is ModuleKind.READING else "Что вы заметили?",
                minutes=15,
                language=language,
            ),
        )
        if publish:
            training.publish(trainer, made)
        return made

    modules = {
        ModuleKind.READING: module(ModuleKind.READING, "Кому мы служим", "de"),
        ModuleKind.REFLECTION: module(ModuleKind.REFLECTION, "Один день клиента", None),
        ModuleKind.ACTIVITY: module(ModuleKind.ACTIVITY, "Пройти путь клиента", "es"),
    }
    draft = module(ModuleKind.READING, "Черновик модуля", None, publish=False)
    monthly = training.create_assignment(
        trainer,
        modules[ModuleKind.READING],
        training.AssignmentDraft(
            Audience.DEPARTMENTS, departments=[sales], due_days=14, repeat=Repeat.MONTHLY
        ),
    )
    training.create_assignment(
        trainer,
        modules[ModuleKind.REFLECTION],
        training.AssignmentDraft(Audience.PEOPLE, people=[learner], due_on=today),
    )
    training.create_assignment(
        trainer,
        modules[ModuleKind.ACTIVITY],
        training.AssignmentDraft(Audience.EVERYONE, due_days=5),
        today=today - timedelta(days=30),
    )
    withdrawn = training.create_assignment(
        trainer,
        module(ModuleKind.REFLECTION, "Отозванный модуль", None),
        training.AssignmentDraft(Audience.FRONT_LINE, due_days=20),
    )

    def enrolment_in(module: Module) -> Enrolment:
        return db.session.scalars(
            sa.select(Enrolment)
            .join(Enrolment.assignment)
            .where(Enrolment.user_id == learner.id, Assignment.module_id == module.id)
        ).one()

    done = enrolment_in(modules[ModuleKind.REFLECTION])
    training.complete(learner, done, "Я заметила, что клиенты ценят, когда им перезванивают.")
    reflection = done.id
    training.give_feedback(
        trainer, db.session.get_one(training.Reflection, reflection), "Спасибо, очень точно."
    )
    overdue = enrolment_in(modules[ModuleKind.ACTIVITY])
    training.save_draft(learner, overdue, "Черновик ответа")
    gone = enrolment_in(withdrawn.module)
    training.save_draft(learner, gone, "Мой черновик")
    training.withdraw(trainer, withdrawn)
    db.session.commit()
    return Training(
        learner=learner,
        trainer=trainer,
        modules=modules,
        draft=draft,
        department_id=sales.id,
        done=done,
        open=enrolment_in(modules[ModuleKind.READING]),
        overdue=overdue,
        withdrawn=gone,
        assignment_id=monthly.id,
    )


def _english(
    client: FlaskClient, url: str, post: dict[str, str] | None = None, status: int = 200
) -> list[str]:
    """The English left on the page at `url`; with `post`, on the page a form sent there
    leads to (its flash, or the form again with the reasons beside its fields: 422)."""
    if post is not None:
        response = client.post(url, data=post, follow_redirects=True)
    else:
        response = client.get(url)
    assert response.status_code == status, url
    return pseudo.untranslated(response.get_data(as_text=True), content=LANGUAGES)


def test_a_learners_training_pages_are_all_translated(
    data: Training, pseudo_as: Callable[[User | None], FlaskClient]
) -> None:
    client = pseudo_as(data.learner)
    urls = ["/training"] + [
        f"/training/enrolments/{enrolment.id}"
        for enrolment in (data.done, data.open, data.overdue, data.withdrawn)
    ]
    assert {url: left for url in urls if (left := _english(client, url))} == {}
    # A refused answer, shown again beside its field; a draft saved; a reading completed.
    overdue = f"/training/enrolments/{data.overdue.id}/complete"
    assert _english(client, overdue, {"answer": "Коротко"}, status=422) == []
    assert _english(client, overdue, {"answer": "Коротко", "save_draft": "1"}) == []
    assert _english(client, f"/training/enrolments/{data.open.id}/complete", {}) == []


def test_a_trainers_training_pages_are_all_translated(
    data: Training, pseudo_as: Callable[[User | None], FlaskClient]
) -> None:
    client = pseudo_as(data.trainer)
    modules = [*data.modules.values(), data.draft]
    reading = data.modules[ModuleKind.READING]
    urls = [
        "/training/modules",
        "/training/modules/new",
        *(f"/training/modules/{module.id}" for module in modules),
        f"/training/modules/{reading.id}/edit",
        f"/training/modules/{reading.id}/assign",
        "/training/assignments",
        f"/training/assignments/{data.assignment_id}/withdraw",
        "/training/reflections?show=all",
        "/training/coverage",
        f"/training/coverage/departments/{data.department_id}",
        *(f"/training/coverage/modules/{reading.id}?show={show}" for show in ("behind", "to_do")),
        f"/training/coverage/modules/{data.modules[ModuleKind.REFLECTION].id}?show=done",
    ]
    assert {url: left for url in urls if (left := _english(client, url))} == {}
    refused = {
        # The new-module form with its errors, and an unknown language refused beside it.
        "/training/modules/new": ({"title": "", "kind": "reflection", "language": "xx"}, 422),
        f"/training/modules/{reading.id}/assign": (
            {"audience": "people", "due_kind": "fixed"},
            422,
        ),
        # Publishing a module: its flash.
        f"/training/modules/{data.draft.id}/publish": ({}, 200),
    }
    sent = {
        url: left
        for url, (form, status) in refused.items()
        if (left := _english(client, url, form, status))
    }
    assert sent == {}


def test_the_coverage_csv_headers_are_translated(
    data: Training, pseudo_as: Callable[[User | None], FlaskClient]
) -> None:
    client = pseudo_as(data.trainer)
    reading = data.modules[ModuleKind.READING]
    for url in ["/training/coverage.csv", f"/training/coverage/modules/{reading.id}.csv"]:
        header = client.get(url).get_data(as_text=True).lstrip("\ufeff").splitlines()[0]
        assert pseudo.untranslated_text(header) == [], url
