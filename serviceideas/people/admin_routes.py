"""Admin pages: departments, people and their roles, and the staff import."""

from __future__ import annotations

import itertools

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from flask_login import current_user
from werkzeug.wrappers import Response

from serviceideas import refusals
from serviceideas.downloads import csv_download
from serviceideas.extensions import db
from serviceideas.forms import EmptyForm
from serviceideas.htmx import is_fragment_request
from serviceideas.pagination import Page
from serviceideas.people import import_jobs, queries, services, staff_import
from serviceideas.people.forms import (
    DepartmentForm,
    NewPersonForm,
    PeopleFilterForm,
    PersonForm,
    StaffImportForm,
    department_choices,
    department_filter_choices,
)
from serviceideas.people.models import (
    Department,
    DepartmentKind,
    RoleChangeSource,
    StaffImport,
    User,
)
from serviceideas.people.policies import (
    can_administer,
    can_change_roles_of,
    company_sign_in_name,
    may_sign_in_with_password,
    requires,
)
from serviceideas.urls import absolute
from serviceideas.writes import commit_or_refuse

bp = Blueprint("admin", __name__, url_prefix="/admin")

Rendered = tuple[str, int] | str


# Departments


@bp.route("/departments", methods=["GET", "POST"])
@requires(can_administer)
def departments() -> ResponseReturnValue:
    form = DepartmentForm()
    if request.method == "POST":
        if form.validate_on_submit():
            added = commit_or_refuse(
                lambda: services.create_department(
                    form.name.data or "", DepartmentKind(form.kind.data)
                ),
                form=form,
                field="name",
            )
            if added:
                flash(gettext("Department %(name)s added.", name=added.kept.name), "success")
                return redirect(url_for("admin.departments"), code=303)
        return refusals.refuse(form, url_for("admin.departments"))
    refusals.restore(form)
    return render_template(
        "admin/departments.html",
        form=form,
        departments=queries.departments_with_headcount(),
    )


@bp.route("/departments/<id:department_id>", methods=["GET", "POST"])
@requires(can_administer)
def edit_department(department_id: int) -> ResponseReturnValue:
    department = db.get_or_404(Department, department_id)
    form = DepartmentForm(data={"name": department.name, "kind": department.kind.value})
    page = url_for("admin.edit_department", department_id=department.id)
    if request.method == "POST":
        if form.validate_on_submit():
            saved = commit_or_refuse(
                lambda: services.update_department(
                    department, form.name.data or "", DepartmentKind(form.kind.data)
                ),
                form=form,
                field="name",
            )
            if saved:
                flash(gettext("Department %(name)s saved.", name=department.name), "success")
                return redirect(url_for("admin.departments"), code=303)
        return refusals.refuse(form, page)
    refusals.restore(form)
    return render_template("admin/department_edit.html", form=form, department=department)


# People


@bp.route("/users")
@requires(can_administer)
def users() -> Rendered:
    filters = PeopleFilterForm(request.args)
    filters.department.choices = department_filter_choices()
    if not filters.validate():
        return render_template("admin/users.html", filters=filters, page=None), 400
    query = queries.people_matching(
        text=filters.q.data,
        department_id=filters.department_id(),
        role=filters.chosen_role(),
        active=filters.wants_active(),
    )
    page = Page.of(query, request.args.get("page"), current_app.config["PAGE_SIZE"])
    return render_template("admin/users.html", filters=filters, page=page)


@bp.route("/users/new", methods=["GET", "POST"])
@requires(can_administer)
def new_user() -> ResponseReturnValue:
    form = NewPersonForm()
    form.department.choices = department_choices()
    if form.validate_on_submit():
        department = db.get_or_404(Department, form.department.data)
        added = commit_or_refuse(
            lambda: services.create_user(
                email=form.email.data or "",
                name=form.name.data or "",
                department=department,
                roles=form.chosen_roles(),
                acting=current_user,
                source=RoleChangeSource.ADMIN_PAGE,
            ),
            form=form,
            field="email",
        )
        if added:
            user = added.kept
            flash(how_they_sign_in(user), "success")
            return redirect(url_for("admin.edit_user", user_id=user.id), code=303)
    if request.method == "POST":
        return refusals.refuse(form, url_for("admin.new_user"))
    refusals.restore(form)
    return render_template("admin/user_new.html", form=form)


@bp.route("/users/<id:user_id>", methods=["GET", "POST"])
@requires(can_administer)
def edit_user(user_id: int) -> ResponseReturnValue:
    user = db.get_or_404(User, user_id)
    form = PersonForm(
        data={
            "name": user.name,
            "department": user.department_id,
            "roles": [role.value for role in user.granted_roles],
        }
    )
    form.department.choices = department_choices()
    if form.validate_on_submit():
        department = db.get_or_404(Department, form.department.data)
        saved = commit_or_refuse(
            lambda: services.update_user(
                user,
                name=form.name.data or "",
                department=department,
                roles=form.chosen_roles(),
                acting=current_user,
                source=RoleChangeSource.ADMIN_PAGE,
            ),
            form=form,
            field="name",
        )
        if saved:
            flash(gettext("%(name)s saved.", name=user.name), "success")
            return redirect(url_for("admin.edit_user", user_id=user.id), code=303)
    if request.method == "POST":
        return refusals.refuse(form, url_for("admin.edit_user", user_id=user.id))
    refusals.restore(form)
    return render_template(
        "admin/user_edit.html",
        form=form,
        person=user,
        button=EmptyForm(),
        may_switch_off=can_change_roles_of(current_user, user),
    )


@bp.route("/users/<id:user_id>/deactivate", methods=["POST"])
@requires(can_administer)
def deactivate_user(user_id: int) -> Response:
    return _set_active(user_id, False)


@bp.route("/users/<id:user_id>/reactivate", methods=["POST"])
@requires(can_administer)
def reactivate_user(user_id: int) -> Response:
    return _set_active(user_id, True)


def _set_active(user_id: int, active: bool) -> Response:
    user = db.get_or_404(User, user_id)
    if EmptyForm().validate_on_submit() and commit_or_refuse(
        lambda: services.set_active(current_user, user, active)
    ):
        if active:
            done = gettext(
                "%(name)s is reactivated: they can sign in again. Nothing they wrote has been "
                "removed.",
                name=user.name,
            )
        else:
            done = gettext(
                "%(name)s is deactivated. Nothing they wrote has been removed.", name=user.name
            )
        flash(done, "success")
    return redirect(url_for("admin.edit_user", user_id=user.id), code=303)


def how_they_sign_in(user: User) -> str:
    """That this person was added, and what the admin does next so they can sign in."""
    if may_sign_in_with_password(user):
        return gettext("%(name)s added. Give them a password-set link to sign in.", name=user.name)
    return gettext(
        "%(name)s added. They sign in with %(provider)s.",
        name=user.name,
        provider=company_sign_in_name(),
    )


@bp.route("/users/<id:user_id>/password-link", methods=["POST"])
@requires(can_administer)
def password_link(user_id: int) -> Response | Rendered:
    user = db.get_or_404(User, user_id)
    if not user.is_active:
        flash(gettext("Reactivate this person before giving them a password link."), "error")
        return redirect(url_for("admin.edit_user", user_id=user.id), code=303)
    if not may_sign_in_with_password(user):
        refused = gettext(
            "Password sign-in is off, so passwords and password-set links are only for the "
            "break-glass administrators (named in %(setting)s). %(name)s signs in with "
            "%(provider)s.",
            setting="SERVICEIDEAS_BREAK_GLASS_ADMINS",
            name=user.name,
            provider=company_sign_in_name(),
        )
        flash(refused, "error")
        return redirect(url_for("admin.edit_user", user_id=user.id), code=303)
    if not EmptyForm().validate_on_submit():
        return redirect(url_for("admin.edit_user", user_id=user.id), code=303)
    # From BASE_URL, never the request's Host header: a forged Host would send the token
    # elsewhere (SECURITY.md, "Links and hosts").
    link = absolute(url_for("auth.set_password", token=services.password_set_token(user)))
    hours = current_app.config["PASSWORD_LINK_MAX_AGE"] // 3600
    return render_template("admin/password_link.html", person=user, link=link, hours=hours)


@bp.route("/role-changes")
@requires(can_administer)
def role_changes() -> Rendered:
    """Every role given or taken away, newest first (docs/product.md, "Roles")."""
    page = Page.of(
        queries.role_changes_newest_first(),
        request.args.get("page"),
        current_app.config["PAGE_SIZE"],
    )
    return render_template("admin/role_changes.html", page=page)


# Staff import


@bp.route("/import", methods=["GET", "POST"])
@requires(can_administer)
def import_staff() -> Response | Rendered:
    """A file of one batch is imported (or previewed) in the request; a larger one runs in
    the background and its page shows how far it has got (docs/architecture.md, "Staff
    import")."""
    form = StaffImportForm()
    report = None
    if form.validate_on_submit():
        text, applies = form.csv_text(), bool(form.apply.data)
        if import_jobs.runs_in_background(text):
            started = commit_or_refuse(
                lambda: import_jobs.start(
                    text, file_name=form.file_name(), acting=current_user, applies=applies
                ),
                form=form,
                field="file",
            )
            if started:
                return _launched(started.kept)
        else:
            report = staff_import.import_staff(text, acting=current_user, apply=applies)
    status = 422 if form.errors or (report and report.problems) else 200
    return render_template(
        "admin/import.html",
        form=form,
        report=report,
        recent=import_jobs.recent(),
        inline_rows=import_jobs.INLINE_ROWS,
        max_rows=staff_import.MAX_ROWS,
    ), status


def _launched(job: StaffImport) -> Response:
    import_jobs.launch(job.id)
    return redirect(url_for("admin.import_job", job_id=job.id), code=303)


@bp.route("/import/<id:job_id>")
@requires(can_administer)
def import_job(job_id: int) -> Rendered:
    """A background import: its progress while it runs (the page asks again every second),
    then its report. An htmx request gets only the part that changes."""
    job = db.get_or_404(StaffImport, job_id)
    template = "admin/_import_job.html" if is_fragment_request() else "admin/import_job.html"
    return render_template(template, shown=import_jobs.progress(job), button=EmptyForm())


@bp.route("/import/<id:job_id>/report.csv")
@requires(can_administer)
def import_job_report(job_id: int) -> Response:
    job = db.get_or_404(StaffImport, job_id)
    rows = (
        (row.line, row.email, row.outcome.label, " ".join(row.messages.splitlines()))
        for row in db.session.scalars(import_jobs.report_rows(job))
    )
    kind = "import" if job.applies else "preview"
    return csv_download(
        itertools.chain(
            [(gettext("Line"), gettext("Email"), gettext("Result"), gettext("Details"))], rows
        ),
        f"staff-{kind}-{job.started_at:%Y-%m-%d}-report.csv",
    )


@bp.route("/import/<id:job_id>/resume", methods=["POST"])
@requires(can_administer)
def resume_import(job_id: int) -> Response:
    job = db.get_or_404(StaffImport, job_id)
    if EmptyForm().validate_on_submit():
        resumed = commit_or_refuse(lambda: import_jobs.resume(job))
        if resumed and resumed.kept:
            return _launched(job)
        if resumed:
            flash(gettext("Nothing to resume: it has finished, or it is running again."), "info")
    return redirect(url_for("admin.import_job", job_id=job.id), code=303)


@bp.route("/import/<id:job_id>/apply", methods=["POST"])
@requires(can_administer)
def apply_import(job_id: int) -> Response:
    """Import the file of a finished preview, without sending it again."""
    preview = db.get_or_404(StaffImport, job_id)
    if EmptyForm().validate_on_submit():
        started = commit_or_refuse(
            lambda: import_jobs.import_previewed(preview, acting=current_user)
        )
        if started:
            return _launched(started.kept)
    return redirect(url_for("admin.import_job", job_id=preview.id), code=303)
