"""Training pages: my training, modules, assignments, the reflections inbox and coverage."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date

import sqlalchemy as sa
from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import selectinload
from wtforms.fields import SelectChoice

from serviceideas.database import utcnow
from serviceideas.downloads import csv_download
from serviceideas.errors import RuleViolation
from serviceideas.extensions import db
from serviceideas.figures import remembered
from serviceideas.forms import EmptyForm
from serviceideas.htmx import is_fragment_request
from serviceideas.pagination import Page
from serviceideas.people.forms import department_choices
from serviceideas.people.models import Department, User
from serviceideas.people.policies import requires
from serviceideas.people.services import find_user
from serviceideas.training import queries, services
from serviceideas.training.forms import (
    AssignmentForm,
    CompleteForm,
    FeedbackForm,
    InboxFilterForm,
    ModuleForm,
)
from serviceideas.training.models import (
    Assignment,
    Audience,
    Enrolment,
    Module,
    ModuleKind,
    Reflection,
    Repeat,
)
from serviceideas.training.policies import (
    can_read_reflections,
    can_see_coverage,
    can_train,
    can_work_on,
)
from serviceideas.writes import show_refusal

bp = Blueprint("training", __name__, url_prefix="/training")

Rendered = tuple[str, int] | str


def _today() -> date:
    return utcnow().date()


# My training


@bp.route("")
@login_required
def mine() -> str:
    try:
        # Best effort: the daily `enrol-training` command is what guarantees new periods.
        if services.enrol_current_periods(today=_today(), only=current_user):
            db.session.commit()
    except OperationalError:
        db.session.rollback()
    return render_template(
        "training/mine.html", training=queries.my_training(current_user, _today()), today=_today()
    )


def _load_enrolment(enrolment_id: int) -> Enrolment:
    enrolment = db.get_or_404(Enrolment, enrolment_id)
    if not can_work_on(current_user, enrolment):
        abort(403)
    return enrolment


def _enrolment_page(enrolment: Enrolment, form: CompleteForm, status: int = 200) -> Rendered:
    reflection = db.session.get(Reflection, enrolment.id)
    return render_template(
        "training/enrolment.html",
        enrolment=enrolment,
        module=enrolment.assignment.module,
        reflection=reflection,
        form=form,
        today=_today(),
    ), status


@bp.route("/enrolments/<id:enrolment_id>")
@login_required
def enrolment(enrolment_id: int) -> Rendered:
    return _enrolment_page(_load_enrolment(enrolment_id), CompleteForm())


@bp.route("/enrolments/<id:enrolment_id>/complete", methods=["POST"])
@login_required
def complete(enrolment_id: int) -> Response | Rendered:
    enrolment = _load_enrolment(enrolment_id)
    form = CompleteForm()
    if form.validate_on_submit():
        try:
            services.complete(current_user, enrolment, form.answer.data)
        except RuleViolation as error:
            db.session.rollback()
            show_refusal(form, error, "answer")
        else:
            db.session.commit()
            late = " It was late, and that is fine: it counts." if enrolment.was_late else ""
            flash(f"Done: {enrolment.assignment.module.title}.{late}", "success")
            return redirect(url_for("training.enrolment", enrolment_id=enrolment.id), code=303)
    return _enrolment_page(enrolment, form, 422)


# Modules


def _draft(form: ModuleForm) -> services.ModuleDraft:
    return services.ModuleDraft(
        title=form.title.data,
        summary=form.summary.data,
        body=form.body.data,
        kind=ModuleKind(form.kind.data),
        prompt=form.prompt.data,
        minutes=form.minutes.data,
    )


@bp.route("/modules")
@requires(can_train)
def modules() -> str:
    assigned = (
        sa.select(sa.func.count(Assignment.id))
        .where(Assignment.module_id == Module.id, Assignment.withdrawn_at.is_(None))
        .scalar_subquery()
    )
    rows = db.session.execute(
        sa.select(Module, assigned).order_by(Module.status, Module.title)
    ).all()
    return render_template("training/modules.html", rows=rows, button=EmptyForm())


@bp.route("/modules/new", methods=["GET", "POST"])
@requires(can_train)
def new_module() -> Response | Rendered:
    form = ModuleForm()
    if form.validate_on_submit():
        try:
            module = services.create_module(current_user, _draft(form))
        except RuleViolation as error:
            db.session.rollback()
            show_refusal(form, error, "title")
        else:
            db.session.commit()
            flash("Draft saved. Check the preview, then publish it.", "success")
            return redirect(url_for("training.module", module_id=module.id), code=303)
    return render_template("training/module_form.html", form=form, module=None), (
        422 if form.errors else 200
    )


@bp.route("/modules/<id:module_id>")
@requires(can_train)
def module(module_id: int) -> str:
    """The module as learners will see it: the preview before publishing."""
    module = db.get_or_404(Module, module_id)
    return render_template("training/module.html", module=module, button=EmptyForm())


@bp.route("/modules/<id:module_id>/edit", methods=["GET", "POST"])
@requires(can_train)
def edit_module(module_id: int) -> Response | Rendered:
    module = db.get_or_404(Module, module_id)
    form = ModuleForm(
        data={
            "title": module.title,
            "summary": module.summary,
            "body": module.body,
            "kind": module.kind.value,
            "prompt": module.prompt,
            "minutes": module.minutes,
        }
    )
    if form.validate_on_submit():
        version = module.version
        try:
            services.update_module(current_user, module, _draft(form))
        except RuleViolation as error:
            db.session.rollback()
            show_refusal(form, error, "title")
        else:
            db.session.commit()
            raised = f" It is now version {module.version}." if module.version != version else ""
            flash(f"Module saved.{raised}", "success")
            return redirect(url_for("training.module", module_id=module.id), code=303)
    return render_template("training/module_form.html", form=form, module=module), (
        422 if form.errors else 200
    )


@bp.route("/modules/<id:module_id>/publish", methods=["POST"])
@requires(can_train)
def publish_module(module_id: int) -> Response:
    return _module_action(module_id, services.publish, "published: you can assign it now")


@bp.route("/modules/<id:module_id>/archive", methods=["POST"])
@requires(can_train)
def archive_module(module_id: int) -> Response:
    return _module_action(module_id, services.archive, "archived")


def _module_action(module_id: int, action, done: str) -> Response:  # type: ignore[no-untyped-def]
    module = db.get_or_404(Module, module_id)
    if EmptyForm().validate_on_submit():
        try:
            action(current_user, module)
        except RuleViolation as error:
            db.session.rollback()
            flash(error.message, "error")
        else:
            db.session.commit()
            flash(f"{module.title} is {done}.", "success")
    return redirect(url_for("training.module", module_id=module.id), code=303)


# Assignments


def _assignment_form() -> AssignmentForm:
    form = AssignmentForm()
    form.departments.choices = department_choices()
    return form


def _people_from(text: str | None) -> tuple[list[User], list[str]]:
    found, unknown = [], []
    for email in filter(None, (e.strip() for e in re.split(r"[\s,;]+", text or ""))):
        person = find_user(email)
        if person is None:
            unknown.append(email)
        elif person not in found:
            found.append(person)
    return found, unknown


@bp.route("/modules/<id:module_id>/assign", methods=["GET", "POST"])
@requires(can_train)
def assign(module_id: int) -> Response | Rendered:
    module = db.get_or_404(Module, module_id)
    form = _assignment_form()
    if request.method == "GET":
        form.audience.data = form.audience.data or Audience.EVERYONE.value
        form.due_kind.data = form.due_kind.data or "relative"
        form.due_days.data = form.due_days.data or 14
    if form.validate_on_submit():
        people, unknown = _people_from(form.people.data)
        if unknown and form.audience.data == Audience.PEOPLE:
            form.people.errors.append(f"Nobody has these email addresses: {', '.join(unknown)}.")
        relative = form.due_kind.data == "relative"
        if relative and form.due_days.data is None:
            form.due_days.errors.append("Give the number of days.")
        if not relative and form.due_on.data is None:
            form.due_on.errors.append("Give the due date.")
        if not form.errors:
            departments = [
                db.session.get_one(Department, department_id)
                for department_id in form.departments.data or []
            ]
            draft = services.AssignmentDraft(
                audience=Audience(form.audience.data),
                departments=departments,
                people=people,
                due_on=None if relative else form.due_on.data,
                due_days=form.due_days.data if relative else None,
                repeat=Repeat(form.repeat.data),
            )
            try:
                assignment = services.create_assignment(current_user, module, draft)
            except RuleViolation as error:
                db.session.rollback()
                show_refusal(form, error, "audience")
            else:
                db.session.commit()
                enrolled = db.session.scalar(
                    sa.select(sa.func.count(Enrolment.id)).where(
                        Enrolment.assignment_id == assignment.id
                    )
                )
                flash(f"Assigned {module.title}: {enrolled} people enrolled.", "success")
                return redirect(url_for("training.assignments"), code=303)
    return render_template("training/assign.html", form=form, module=module), (
        422 if form.errors else 200
    )


@bp.route("/assignments")
@requires(can_train)
def assignments() -> str:
    enrolled = sa.func.count(Enrolment.id)
    done = sa.func.count(Enrolment.completed_at)
    counts = dict(
        (assignment_id, (total, completed))
        for assignment_id, total, completed in db.session.execute(
            sa.select(Enrolment.assignment_id, enrolled, done).group_by(Enrolment.assignment_id)
        )
    )
    rows = db.session.scalars(
        sa.select(Assignment)
        .options(selectinload(Assignment.departments), selectinload(Assignment.people))
        .order_by(Assignment.withdrawn_at.is_not(None), Assignment.id.desc())
    ).all()
    return render_template(
        "training/assignments.html", rows=rows, counts=counts, button=EmptyForm()
    )


@bp.route("/assignments/<id:assignment_id>/withdraw", methods=["POST"])
@requires(can_train)
def withdraw(assignment_id: int) -> Response:
    assignment = db.get_or_404(Assignment, assignment_id)
    if EmptyForm().validate_on_submit():
        try:
            services.withdraw(current_user, assignment)
        except RuleViolation as error:
            db.session.rollback()
            flash(error.message, "error")
        else:
            db.session.commit()
            flash(
                f"Withdrawn: {assignment.module.title}. Completed work stays on record.", "success"
            )
    return redirect(url_for("training.assignments"), code=303)


# Reflections inbox


@bp.route("/reflections")
@requires(can_read_reflections)
def reflections() -> Rendered:
    filters = InboxFilterForm(request.args)
    filters.module.choices = [SelectChoice("", "All modules")] + [
        SelectChoice(str(m.id), m.title)
        for m in db.session.scalars(
            sa.select(Module).where(Module.kind != ModuleKind.READING).order_by(Module.title)
        )
    ]
    filters.department.choices = [SelectChoice("", "All departments")] + [
        SelectChoice(str(c.value), c.label) for c in department_choices()
    ]
    if not filters.validate():
        return render_template("training/reflections.html", filters=filters, page=None), 400
    query = queries.inbox_query(
        queries.InboxFilters(
            module_id=int(filters.module.data) if filters.module.data else None,
            department_id=int(filters.department.data) if filters.department.data else None,
            waiting_only=(filters.show.data or "waiting") == "waiting",
        )
    )
    page = Page.of(query, request.args.get("page"), current_app.config["PAGE_SIZE"])
    return render_template(
        "training/reflections.html", filters=filters, page=page, feedback_form=FeedbackForm()
    )


@bp.route("/reflections/<id:enrolment_id>/feedback", methods=["POST"])
@requires(can_read_reflections)
def feedback(enrolment_id: int) -> Response | Rendered:
    reflection = db.get_or_404(Reflection, enrolment_id)
    form = FeedbackForm()
    status = 200
    if form.validate_on_submit():
        try:
            services.give_feedback(current_user, reflection, form.feedback.data)
        except RuleViolation as error:
            db.session.rollback()
            show_refusal(form, error, "feedback")
        else:
            db.session.commit()
            if not is_fragment_request():
                flash(f"Feedback sent to {reflection.enrolment.user.name}.", "success")
                return redirect(url_for("training.reflections"), code=303)
            form = FeedbackForm(formdata=None)
    if form.errors:
        status = 422
        if not is_fragment_request():
            flash(" ".join(form.feedback.errors), "error")
            return redirect(url_for("training.reflections"), code=303)
    return render_template(
        "training/_reflection.html", reflection=reflection, feedback_form=form
    ), status


# Coverage


@bp.route("/coverage")
@requires(can_see_coverage)
def coverage() -> str:
    today = _today()
    return render_template(
        "training/coverage.html",
        departments=remembered(queries.coverage_by_department, today),
        kinds=remembered(queries.coverage_by_kind, today),
        today=today,
    )


@bp.route("/coverage/departments/<id:department_id>")
@requires(can_see_coverage)
def department_coverage(department_id: int) -> str:
    department = db.get_or_404(Department, department_id)
    return render_template(
        "training/department_coverage.html",
        department=department,
        people=queries.people_coverage(department.id, _today()),
    )


@bp.route("/coverage.csv")
@requires(can_see_coverage)
def coverage_csv() -> Response:
    today = _today()

    def rows() -> Iterator[list[object]]:
        yield ["name", "department", "kind", "module", "period", "due", "completed", "late"]
        for row in db.session.execute(queries.enrolment_rows(today)):
            completed = row.completed_at.date() if row.completed_at else None
            late = (completed or today) > row.due_on
            yield [
                row.name,
                row.department,
                row.kind.value,
                row.title,
                row.period_start.isoformat(),
                row.due_on.isoformat(),
                completed.isoformat() if completed else "",
                "yes" if late else "no",
            ]

    return csv_download(rows(), f"training-coverage-{today}.csv")
