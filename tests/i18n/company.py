"""A small company whose every written text is Cyrillic, for the language tests.

Content people write is never translated, so the pseudo-language (tests/i18n/pseudo.py) would
count it as English left over if it had Latin letters: here names, departments, ideas,
comments, notes, modules, reflections and feedback are Russian, and only e-mail addresses and
links (which the harness allows) are Latin. What is left with a Latin letter on a page is
therefore interface text that missed the catalogue.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa

from serviceideas.database import utcnow
from serviceideas.extensions import db
from serviceideas.i18n import LANGUAGE_NAMES
from serviceideas.ideas import services as ideas
from serviceideas.ideas import stage_services
from serviceideas.ideas.models import Compass, Idea, Lens, Status
from serviceideas.notifications.models import Category
from serviceideas.notifications.services import calendar_token, unsubscribe_token
from serviceideas.people.models import Department, DepartmentKind, Role, User
from serviceideas.people.services import create_department, create_user, update_user
from serviceideas.training import services as training
from serviceideas.training.models import (
    Assignment,
    Audience,
    Enrolment,
    Module,
    ModuleKind,
    Reflection,
)
from tests.conftest import FAST_PASSWORD_HASH, PASSWORD, add_failed_delivery
from tests.i18n import pseudo

# Shown as they are, in any language: each language's own name for itself (the language
# setting, a module's language), and the machine identifiers the data set stores.
UNTRANSLATED = [*LANGUAGE_NAMES.values(), "msg_languages", "scim_0000000"]


@dataclass
class Company:
    employee: User
    colleague: User
    manager: User
    trainer: User
    admin: User
    sales: Department
    back_office: Department
    idea: Idea  # the employee's, in progress: votes, comments, an owner, history, progress
    comment_id: int  # the employee's own comment on it
    implemented: Idea
    stalled: Idea
    reading: Module
    reflection: Module
    draft: Module
    enrolment: Enrolment  # the employee's reflection, done, with feedback
    open_enrolment: Enrolment  # the employee's reading, to do
    assignment_id: int
    calendar_token: str
    endpoint_id: int
    delivery_id: int
    scim_token_id: int
    unsubscribe_token: str  # the employee's, for idea notifications
    stage_id: int


def _person(email: str, name: str, department: Department, *roles: Role) -> User:
    from werkzeug.security import generate_password_hash

    person = create_user(email=email, name=name, department=department, roles=roles)
    person.password_hash = generate_password_hash(PASSWORD, method=FAST_PASSWORD_HASH)
    # They chose the pseudo-language: what is written for them away from their requests
    # (notifications, e-mails) is in it too.
    person.locale = pseudo.PSEUDO
    return person


def build() -> Company:
    """The company, committed. Call inside the test's app context (the `app` fixture)."""
    now = utcnow()
    today = now.date()
    sales = create_department("Отдел продаж", DepartmentKind.FRONT_LINE)
    back_office = create_department("Бухгалтерия", DepartmentKind.BACK_OFFICE)
    admin = _person("admin@example.com", "Дина Козлова", back_office, Role.ADMIN)
    employee = _person("anna@example.com", "Анна Иванова", sales)
    colleague = _person("boris@example.com", "Борис Петров", back_office)
    manager = _person("vera@example.com", "Вера Смирнова", sales, Role.MANAGER)
    trainer = _person("gleb@example.com", "Глеб Орлов", back_office, Role.TRAINER)
    # A role given and taken back by an admin: the role changes page lists both.
    update_user(
        colleague, name=colleague.name, department=back_office, roles={Role.TRAINER}, acting=admin
    )
    update_user(colleague, name=colleague.name, department=back_office, roles=(), acting=admin)
    stage = stage_services.add_stage(admin, "Оплата", "Клиент платит нам.")
    stage_services.add_stage(admin, "Доставка", "Мы привозим заказ.")

    def submit(author: User, title: str, when: timedelta = timedelta(0)) -> Idea:
        return ideas.submit_idea(
            author,
            ideas.IdeaDraft(
                title=title,
                problem="Клиенты долго ждут на линии.",
                proposal="Перезванивать им в удобное время.",
                lens=Lens.CARE,
                beneficiary=back_office,
                journey_stage_id=stage.id,
                compass=Compass.EMOTION,
            ),
            now=now - when,
        )

    idea = submit(employee, "Перезванивать клиентам", timedelta(days=3))
    ideas.set_vote(colleague, idea, True)
    ideas.set_vote(manager, idea, True)
    ideas.add_comment(colleague, idea, "У нас то же самое по пятницам.")
    comment = ideas.add_comment(employee, idea, "Спасибо, добавлю в описание.")
    for step, note in [
        (Status.UNDER_REVIEW, "Смотрим на этой неделе."),
        (Status.APPROVED, "Да, без пилота."),
        (Status.IN_PROGRESS, "Подключаем телефонию."),
    ]:
        ideas.change_status(manager, idea, ideas.Decision(step, note=note))
    ideas.set_owner(manager, idea, colleague)
    ideas.record_progress(
        colleague,
        idea,
        ideas.Progress(
            next_step="Договориться с колл-центром",
            target_date=today + timedelta(days=10),
            note="Первый звонок прошёл хорошо.",
        ),
    )

    implemented = submit(colleague, "Печатать чеки крупнее", timedelta(days=20))
    for step in (Status.UNDER_REVIEW, Status.APPROVED, Status.IN_PROGRESS, Status.IMPLEMENTED):
        ideas.change_status(
            manager,
            implemented,
            ideas.Decision(
                step,
                note="Жалоб стало меньше." if step is Status.IMPLEMENTED else "Хорошо.",
                implemented_on=today if step is Status.IMPLEMENTED else None,
            ),
        )
    declined = submit(colleague, "Убрать очередь", timedelta(days=5))
    ideas.change_status(manager, declined, ideas.Decision(Status.DECLINED, note="Пробовали."))
    merged = submit(employee, "Звонить клиентам сами", timedelta(days=2))
    ideas.change_status(
        manager, merged, ideas.Decision(Status.MERGED, note="То же самое.", merge_into=idea)
    )
    # Waiting for a decision far longer than STALLED_AFTER_DAYS.
    stalled = submit(colleague, "Меню для детей", timedelta(days=90))

    def module(kind: ModuleKind, title: str, *, publish: bool = True) -> Module:
        made = training.create_module(
            trainer,
            training.ModuleDraft(
                title=title,
                summary="Что значит приносить пользу другим.",
                body="Каждый кому-то служит.\n\n* первое\n* второе",
                kind=kind,
                prompt=None if kind is ModuleKind.READING else "Что вы заметили?",
                minutes=15,
            ),
        )
        if publish:
            training.publish(trainer, made)
        return made

    reading = module(ModuleKind.READING, "Кому мы служим")
    reflection = module(ModuleKind.REFLECTION, "Один день клиента")
    activity = module(ModuleKind.ACTIVITY, "Пройти путь клиента")
    draft = module(ModuleKind.READING, "Черновик модуля", publish=False)
    assignment = training.create_assignment(
        trainer,
        reading,
        training.AssignmentDraft(Audience.DEPARTMENTS, departments=[sales], due_days=14),
    )
    training.create_assignment(
        trainer,
        reflection,
        training.AssignmentDraft(Audience.PEOPLE, people=[employee, colleague], due_days=7),
    )
    # Due long ago: overdue for the employee.
    training.create_assignment(
        trainer,
        activity,
        training.AssignmentDraft(Audience.PEOPLE, people=[employee], due_days=5),
        today=today - timedelta(days=30),
    )

    def enrolment_in(module: Module, learner: User) -> Enrolment:
        return db.session.scalars(
            sa.select(Enrolment)
            .join(Enrolment.assignment)
            .where(Enrolment.user_id == learner.id)
            .where(Assignment.module_id == module.id)
        ).one()

    done = enrolment_in(reflection, employee)
    training.complete(
        employee, done, "Я заметила, что клиенты ценят, когда им перезванивают вовремя."
    )
    training.give_feedback(
        trainer, db.session.get_one(Reflection, done.id), "Отличное наблюдение, спасибо."
    )
    training.complete(
        colleague,
        enrolment_in(reflection, colleague),
        "Я заметил, что коллеги из зала знают клиентов лучше нас.",
    )

    from serviceideas.scim.models import ScimToken

    delivery = add_failed_delivery("Отчёты", admin, "msg_languages")
    endpoint = delivery.endpoint
    scim_token = ScimToken(
        name="Каталог", token_hash="0" * 64, prefix="scim_0000000", created_by=admin
    )
    db.session.add(scim_token)
    token = calendar_token(employee)
    db.session.commit()
    return Company(
        employee=employee,
        colleague=colleague,
        manager=manager,
        trainer=trainer,
        admin=admin,
        sales=sales,
        back_office=back_office,
        idea=idea,
        comment_id=comment.id,
        implemented=implemented,
        stalled=stalled,
        reading=reading,
        reflection=reflection,
        draft=draft,
        enrolment=done,
        open_enrolment=enrolment_in(reading, employee),
        assignment_id=assignment.id,
        calendar_token=token,
        endpoint_id=endpoint.id,
        delivery_id=delivery.id,
        scim_token_id=scim_token.id,
        unsubscribe_token=unsubscribe_token(employee.id, Category.IDEAS),
        stage_id=stage.id,
    )


def today() -> date:
    return utcnow().date()
