"""Training pages: my training, modules, assignments, the reflections inbox and coverage.

Each view parses, calls one query or service, and renders; writes finish through
`commit_or_refuse` (docs/architecture.md, "Finishing a write").
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import get_locale, gettext, ngettext
from flask_login import current_user
from werkzeug.wrappers import Response as Redirect
from wtforms import Field

from serviceideas import refusals
from serviceideas.database import utcnow
from serviceideas.downloads import csv_download
from serviceideas.extensions import db
from serviceideas.figures import remembered
from serviceideas.forms import EmptyForm, SelectChoice
from serviceideas.htmx import is_fragment_request
from serviceideas.pagination import Page
from serviceideas.people.forms import department_choices
from serviceideas.people.models import Department, DepartmentKind, User
from serviceideas.people.policies import is_active_person, requires
from serviceideas.people.queries import departments_by_name
from serviceideas.people.services import find_user
from serviceideas.training import queries, services
from serviceideas.training.forms import (
    AssignmentForm,
    CompleteForm,
    FeedbackForm,
    InboxFilterForm,
    ModuleCoverageFilterForm,
    ModuleForm,
    WithdrawForm,
    language_choices,
    whole_number,
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
from serviceideas.writes import commit_or_refuse

bp = Blueprint("training", __name__, url_prefix="/training")

Rendered = tuple[str, int]


def _today() -> date:
    return utcnow().date()


def _refuse(field: Field, message: str) -> None:
    """Show `message` beside `field`, as its validators would."""
    field.errors = [*field.errors, message]


# My training


@bp.route("")
@requires(is_active_person)
def mine() -> str:
    """Reads only: new periods of repeating assignments are started by the daily
    `enrol-training` command and for joiners by a signal (docs/product.md, "Assignments")."""
    today = _today()
    locale = get_locale()
    training = queries.my_training(
        current_user, today, language=locale.language if locale is not None else None
    )
    return render_template("training/mine.html", training=training, today=today)


def _load_enrolment(enrolment_id: int) -> Enrolment:
    enrolment = db.get_or_404(Enrolment, enrolment_id)
    if not can_work_on(current_user, enrolment):
        abort(403)
    return enrolment


def _enrolment_page(enrolment: Enrolment, form: CompleteForm) -> str:
    module = enrolment.assignment.module
    draft = None if enrolment.is_done else queries.draft_of(enrolment)
    # What changed since the version the learner answered (or wrote their draft against).
    since = enrolment.completed_version or (draft.module_version if draft else None)
    return render_template(
        "training/enrolment.html",
        enrolment=enrolment,
        module=module,
        reflection=queries.reflection_on(enrolment) if enrolment.is_done else None,
        draft=draft,
        changes=queries.changes_since(module, since) if since else None,
        form=form,
        today=_today(),
    )


@bp.route("/enrolments/<id:enrolment_id>")
@requires(is_active_person)
def enrolment(enrolment_id: int) -> str:
    """The module and the learner's answer form: refilled from a refused submission (the
    address says which), else from their draft."""
    enrolment = _load_enrolment(enrolment_id)
    form = CompleteForm()
    if not refusals.restore(form):
        draft = queries.draft_of(enrolment)
        form.answer.data = draft.text if draft else None
        form.module_version.data = str(enrolment.assignment.module.version)
    return _enrolment_page(enrolment, form)


@bp.route("/enrolments/<id:enrolment_id>/complete", methods=["POST"])
@requires(is_active_person)
def complete(enrolment_id: int) -> ResponseReturnValue:
    """Submit the answer (or, with "Save as draft", keep it for later). A refused answer is
    shown again on the enrolment's own page (serviceideas/refusals.py), never lost."""
    enrolment = _load_enrolment(enrolment_id)
    form = CompleteForm()
    page = url_for("training.enrolment", enrolment_id=enrolment.id)
    version = whole_number(form.module_version)
    if not form.validate_on_submit():
        return refusals.refuse(form, page)
    if form.save_draft.data:
        saved = commit_or_refuse(
            lambda: services.save_draft(current_user, enrolment, form.answer.data, version=version),
            form=form,
            field="answer",
        )
        if not saved:
            return refusals.refuse(form, page)
        flash(gettext("Draft saved. Only you can read it: come back to finish it."), "success")
        return redirect(f"{page}#complete", code=303)

    def finish() -> services.Completion:
        completion = services.complete(current_user, enrolment, form.answer.data, version=version)
        refusals.forget(current_user.id, page)  # the refused copies of a private answer
        return completion

    outcome = commit_or_refuse(finish, form=form, field="answer")
    if not outcome:
        if enrolment.is_done:  # finished in another tab: there is no form to show it beside
            flash(" ".join(form.answer.errors), "error")
            return redirect(page, code=303)
        return refusals.refuse(form, page)
    module = enrolment.assignment.module
    if outcome.kept is services.Completion.KEPT_AS_DRAFT:
        flash(
            gettext(
                "This training was withdrawn while you were writing. Your answer is kept below "
                "as a draft only you can read: copy it, or turn it into a service idea."
            ),
            "info",
        )
    elif outcome.kept is services.Completion.WITHDRAWN:
        flash(gettext("This training was withdrawn: there is nothing left to complete."), "info")
    else:
        if enrolment.was_late:
            done = gettext(
                "Done: %(title)s. It was late, and that is fine: it counts.", title=module.title
            )
        else:
            done = gettext("Done: %(title)s.", title=module.title)
        flash(done, "success")
        if enrolment.completed_version != module.version:
            flash(
                gettext(
                    "This module changed while you were working on it: your answer is recorded "
                    "against version %(answered)d, the one you read (it is now version "
                    "%(now)d). See what changed below.",
                    answered=enrolment.completed_version,
                    now=module.version,
                ),
                "info",
            )
    return redirect(page, code=303)


# Modules


def _draft(form: ModuleForm) -> services.ModuleDraft:
    return services.ModuleDraft(
        title=form.title.data,
        summary=form.summary.data,
        body=form.body.data,
        kind=ModuleKind(form.kind.data),
        prompt=form.prompt.data,
        minutes=form.minutes.data,
        submission_token=form.submission_token.data or None,
        language=form.language.data or None,
    )


def _module_form(**kwargs: object) -> ModuleForm:
    """The form, its languages those the app speaks now (the LANGUAGES setting)."""
    form = ModuleForm(**kwargs)
    form.language.choices = language_choices()
    return form


@bp.route("/modules")
@requires(can_train)
def modules() -> str:
    return render_template(
        "training/modules.html", rows=queries.modules_with_active_assignments(), button=EmptyForm()
    )


@bp.route("/modules/new", methods=["GET", "POST"])
@requires(can_train)
def new_module() -> ResponseReturnValue:
    form = _module_form()
    if request.method == "POST":
        if form.validate_on_submit() and (
            created := commit_or_refuse(
                lambda: services.create_module(current_user, _draft(form)),
                form=form,
                field="title",
            )
        ):
            flash(gettext("Draft saved. Check the preview, then publish it."), "success")
            return redirect(url_for("training.module", module_id=created.kept.id), code=303)
        return refusals.refuse(form, url_for("training.new_module"))
    refusals.restore(form)
    return render_template("training/module_form.html", form=form, module=None)


@bp.route("/modules/<id:module_id>")
@requires(can_train)
def module(module_id: int) -> str:
    """The module as learners will see it: the preview before publishing."""
    module = db.get_or_404(Module, module_id)
    return render_template(
        "training/module.html",
        module=module,
        button=EmptyForm(),
        started_ideas=queries.ideas_started_in(module.id),
    )


@bp.route("/modules/<id:module_id>/edit", methods=["GET", "POST"])
@requires(can_train)
def edit_module(module_id: int) -> ResponseReturnValue:
    """The form carries the module's revision it was shown at: saving over a colleague's
    newer change is refused, with the editor's text kept and what is saved now beside it."""
    module = db.get_or_404(Module, module_id)
    page = url_for("training.edit_module", module_id=module.id)
    if request.method == "POST":
        form = _module_form()
        version = module.version
        if form.validate_on_submit() and commit_or_refuse(
            lambda: services.update_module(
                current_user, module, _draft(form), opened_at=whole_number(form.revision)
            ),
            form=form,
            field="title",
        ):
            if module.version != version:
                saved = gettext("Module saved. It is now version %(now)d.", now=module.version)
            else:
                saved = gettext("Module saved.")
            flash(saved, "success")
            return redirect(url_for("training.module", module_id=module.id), code=303)
        return refusals.refuse(form, page)
    form = _module_form(
        data={
            "title": module.title,
            "summary": module.summary,
            "body": module.body,
            "kind": module.kind.value,
            "prompt": module.prompt,
            "minutes": module.minutes,
            "language": module.language or "",
            "revision": str(module.revision),
        }
    )
    if refusals.restore(form) and form.revision.errors:
        # The editor now sees what is saved: saving again replaces it, knowingly.
        form.revision.data = str(module.revision)
    return render_template("training/module_form.html", form=form, module=module)


@bp.route("/modules/<id:module_id>/publish", methods=["POST"])
@requires(can_train)
def publish_module(module_id: int) -> Redirect:
    return _module_action(
        module_id,
        services.publish,
        lambda title: gettext("%(title)s is published: you can assign it now.", title=title),
    )


@bp.route("/modules/<id:module_id>/archive", methods=["POST"])
@requires(can_train)
def archive_module(module_id: int) -> Redirect:
    return _module_action(
        module_id, services.archive, lambda title: gettext("%(title)s is archived.", title=title)
    )


def _module_action(
    module_id: int, action: Callable[[User, Module], None], done: Callable[[str], str]
) -> Redirect:
    """A button on the module's page: run `action`, say what became of the module (or why
    not), and go back to the page."""
    module = db.get_or_404(Module, module_id)
    if EmptyForm().validate_on_submit() and commit_or_refuse(lambda: action(current_user, module)):
        flash(done(module.title), "success")
    return redirect(url_for("training.module", module_id=module.id), code=303)


# Assignments


def _assignment_form() -> AssignmentForm:
    """The form, its departments listed by name, each with its kind beside it."""
    form = AssignmentForm()
    # One message per kind: lower case in English inside brackets, as each language writes it.
    kinds = {
        # Translators: a department in the assign form's list, with its kind of team.
        DepartmentKind.FRONT_LINE: gettext("%(department)s (front line)"),
        # Translators: a department in the assign form's list, with its kind of team.
        DepartmentKind.BACK_OFFICE: gettext("%(department)s (back office)"),
    }
    form.departments.choices = [
        SelectChoice(department.id, kinds[department.kind] % {"department": department.name})
        for department in departments_by_name()
    ]
    return form


def _people_from(text: str | None) -> tuple[list[User], list[str]]:
    found: list[User] = []
    unknown: list[str] = []
    for email in filter(None, (e.strip() for e in re.split(r"[\s,;]+", text or ""))):
        person = find_user(email)
        if person is None:
            unknown.append(email)
        elif person not in found:
            found.append(person)
    return found, unknown


def _assignment_draft(form: AssignmentForm) -> services.AssignmentDraft | None:
    """The draft the form describes, or None with the reason beside the field."""
    people, unknown = _people_from(form.people.data)
    if unknown and form.audience.data == Audience.PEOPLE:
        _refuse(
            form.people,
            gettext("Nobody has these email addresses: %(emails)s.", emails=", ".join(unknown)),
        )
    relative = form.due_kind.data == "relative"
    if relative and form.due_days.data is None:
        _refuse(form.due_days, gettext("Give the number of days."))
    if not relative and form.due_on.data is None:
        _refuse(form.due_on, gettext("Give the due date."))
    if form.errors:
        return None
    return services.AssignmentDraft(
        audience=Audience(form.audience.data),
        departments=queries.departments_by_id(form.departments.data or []),
        people=people,
        due_on=None if relative else form.due_on.data,
        due_days=form.due_days.data if relative else None,
        repeat=Repeat(form.repeat.data),
        submission_token=form.submission_token.data or None,
    )


@bp.route("/modules/<id:module_id>/assign", methods=["GET", "POST"])
@requires(can_train)
def assign(module_id: int) -> ResponseReturnValue:
    module = db.get_or_404(Module, module_id)
    form = _assignment_form()
    if request.method == "POST":
        if form.validate_on_submit() and (draft := _assignment_draft(form)) is not None:
            assigned = commit_or_refuse(
                lambda: services.create_assignment(current_user, module, draft),
                form=form,
                field="audience",
            )
            if assigned:
                enrolled = queries.people_enrolled_in(assigned.kept)
                flash(
                    ngettext(
                        "Assigned %(title)s: %(num)d person enrolled.",
                        "Assigned %(title)s: %(num)d people enrolled.",
                        enrolled,
                        title=module.title,
                    ),
                    "success",
                )
                return redirect(url_for("training.assignments"), code=303)
        return refusals.refuse(form, url_for("training.assign", module_id=module.id))
    if not refusals.restore(form):  # no audience chosen for the trainer
        form.due_kind.data = "relative"
        form.due_days.data = 14
    return render_template("training/assign.html", form=form, module=module)


@bp.route("/assignments")
@requires(can_train)
def assignments() -> str:
    return render_template("training/assignments.html", rows=queries.assignments_with_progress())


@bp.route("/assignments/<id:assignment_id>/withdraw", methods=["GET", "POST"])
@requires(can_train)
def withdraw(assignment_id: int) -> ResponseReturnValue:
    """GET: the confirmation, saying how many people have it unfinished or started. POST:
    withdraw, only when sent from that page; a POST without its confirmation (an old page, a
    stray request) gets the confirmation again, saying nothing was done (422)."""
    assignment = db.get_or_404(Assignment, assignment_id)
    form = WithdrawForm()
    if not (form.validate_on_submit() and form.confirmed.data == "yes"):
        form.confirmed.data = "yes"
        return refusals.confirmation(
            lambda: render_template(
                "training/withdraw.html",
                assignment=assignment,
                stakes=queries.withdrawal_stakes(assignment),
                form=form,
            )
        )
    if commit_or_refuse(lambda: services.withdraw(current_user, assignment)):
        flash(
            gettext(
                "Withdrawn: %(title)s. Completed work stays on record, and drafts stay with the "
                "people who wrote them.",
                title=assignment.module.title,
            ),
            "success",
        )
    return redirect(url_for("training.assignments"), code=303)


# Reflections inbox


@bp.route("/reflections")
@requires(can_read_reflections)
def reflections() -> str | Rendered:
    filters = InboxFilterForm(request.args)
    filters.module.choices = [SelectChoice("", gettext("All modules"))] + [
        SelectChoice(str(m.id), m.title) for m in queries.modules_with_written_answers()
    ]
    filters.department.choices = [SelectChoice("", gettext("All departments"))] + [
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
    # Feedback refused without JavaScript comes back here, beside its reflection.
    refused = FeedbackForm()
    refused_for = whole_number(refused.reflection) if refusals.restore(refused) else None
    return render_template(
        "training/reflections.html",
        filters=filters,
        page=page,
        feedback_form=FeedbackForm(formdata=None),
        became_ideas=queries.ideas_from_reflections(list(page.items), current_user),
        refused_feedback=refused,
        refused_for=refused_for,
    )


def _inbox_address() -> str:
    """The inbox as the trainer was reading it (its filters and page), from the address the
    form was sent from; the plain inbox when that was another page."""
    inbox = url_for("training.reflections")
    came_from = urlsplit(request.headers.get("HX-Current-URL") or request.referrer or "")
    if came_from.path == inbox and came_from.query:
        return f"{inbox}?{came_from.query}"
    return inbox


@bp.route("/reflections/<id:enrolment_id>/feedback", methods=["POST"])
@requires(can_read_reflections)
def feedback(enrolment_id: int) -> ResponseReturnValue:
    reflection = db.get_or_404(Reflection, enrolment_id)
    form = FeedbackForm()
    if form.validate_on_submit() and commit_or_refuse(
        lambda: services.give_feedback(current_user, reflection, form.feedback.data),
        form=form,
        field="feedback",
    ):
        if not is_fragment_request():
            flash(
                gettext("Feedback sent to %(name)s.", name=reflection.enrolment.user.name),
                "success",
            )
            return redirect(url_for("training.reflections"), code=303)
        response = make_response(
            render_template(
                "training/_reflection.html",
                reflection=reflection,
                feedback_form=FeedbackForm(formdata=None),
                became_ideas=queries.ideas_from_reflections([reflection], current_user),
            )
        )
        inbox = _inbox_address()
        if inbox != refusals.without_refusal(inbox):
            # Sent after a refusal: the address loses its token, so Reload shows the inbox as
            # it is (htmx leaves the address alone).
            response.headers["HX-Replace-Url"] = refusals.without_refusal(
                f"{inbox}#reflection-{reflection.enrolment_id}"
            )
        return response
    return refusals.refuse(
        form,
        f"{_inbox_address()}#reflection-{reflection.enrolment_id}",
        fragment=lambda: render_template(
            "training/_reflection.html", reflection=reflection, feedback_form=form
        ),
    )


# Coverage


@bp.route("/coverage")
@requires(can_see_coverage)
def coverage() -> str:
    today = _today()
    return render_template(
        "training/coverage.html",
        departments=remembered(queries.coverage_by_department, today),
        kinds=remembered(queries.coverage_by_kind, today),
        modules=remembered(queries.coverage_by_module, today),
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
    return csv_download(queries.coverage_csv_rows(today), f"training-coverage-{today}.csv")


@bp.route("/coverage/modules/<id:module_id>")
@requires(can_see_coverage)
def module_coverage(module_id: int) -> ResponseReturnValue:
    """One module's coverage: per kind of team and per team, and who is behind, has it to do
    or has done it (the `show` filter)."""
    module = db.get_or_404(Module, module_id)
    filters = ModuleCoverageFilterForm(request.args)
    if not filters.validate():
        return render_template(
            "training/module_coverage.html", module=module, filters=filters, coverage=None
        ), 400
    today = _today()
    show = queries.Progress(filters.show.data or queries.Progress.BEHIND.value)
    return render_template(
        "training/module_coverage.html",
        module=module,
        filters=filters,
        show=show,
        coverage=queries.module_coverage(module.id, today),
        people=queries.module_people(module.id, today, show),
        today=today,
    )


@bp.route("/coverage/modules/<id:module_id>.csv")
@requires(can_see_coverage)
def module_coverage_csv(module_id: int) -> Response:
    module = db.get_or_404(Module, module_id)
    today = _today()
    name = re.sub(r"[^a-z0-9]+", "-", module.title.lower()).strip("-")[:60] or "module"
    return csv_download(
        queries.module_coverage_csv_rows(module.id, today),
        f"training-coverage-of-{name}-{today}.csv",
    )
