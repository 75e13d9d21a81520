"""Admin pages: departments, people and their roles, and the staff import."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from serviceideas.extensions import db
from serviceideas.forms import EmptyForm
from serviceideas.pagination import Page
from serviceideas.people import queries, services, staff_import
from serviceideas.people.forms import (
    DepartmentForm,
    NewPersonForm,
    PeopleFilterForm,
    PersonForm,
    StaffImportForm,
    department_choices,
    department_filter_choices,
)
from serviceideas.people.models import Department, DepartmentKind, RoleChangeSource, User
from serviceideas.people.policies import can_administer, can_change_roles_of, requires
from serviceideas.urls import absolute
from serviceideas.writes import commit_or_refuse

bp = Blueprint("admin", __name__, url_prefix="/admin")

Rendered = tuple[str, int] | str


# Departments


@bp.route("/departments", methods=["GET", "POST"])
@requires(can_administer)
def departments() -> Response | Rendered:
    form = DepartmentForm()
    if form.validate_on_submit():
        added = commit_or_refuse(
            lambda: services.create_department(
                form.name.data or "", DepartmentKind(form.kind.data)
            ),
            form=form,
            field="name",
        )
        if added:
            flash(f"Department {added.kept.name} added.", "success")
            return redirect(url_for("admin.departments"), code=303)
    return render_template(
        "admin/departments.html",
        form=form,
        departments=queries.departments_with_headcount(),
    ), 422 if form.errors else 200


@bp.route("/departments/<id:department_id>", methods=["GET", "POST"])
@requires(can_administer)
def edit_department(department_id: int) -> Response | Rendered:
    department = db.get_or_404(Department, department_id)
    form = DepartmentForm(data={"name": department.name, "kind": department.kind.value})
    if form.validate_on_submit():
        saved = commit_or_refuse(
            lambda: services.update_department(
                department, form.name.data or "", DepartmentKind(form.kind.data)
            ),
            form=form,
            field="name",
        )
        if saved:
            flash(f"Department {department.name} saved.", "success")
            return redirect(url_for("admin.departments"), code=303)
    status = 422 if form.errors else 200
    return render_template("admin/department_edit.html", form=form, department=department), status


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
def new_user() -> Response | Rendered:
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
            flash(f"{user.name} added. Give them a password-set link to sign in.", "success")
            return redirect(url_for("admin.edit_user", user_id=user.id), code=303)
    return render_template("admin/user_new.html", form=form), 422 if form.errors else 200


@bp.route("/users/<id:user_id>", methods=["GET", "POST"])
@requires(can_administer)
def edit_user(user_id: int) -> Response | Rendered:
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
            flash(f"{user.name} saved.", "success")
            return redirect(url_for("admin.edit_user", user_id=user.id), code=303)
    return render_template(
        "admin/user_edit.html",
        form=form,
        person=user,
        button=EmptyForm(),
        may_switch_off=can_change_roles_of(current_user, user),
    ), 422 if form.errors else 200


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
        state = "reactivated: they can sign in again" if active else "deactivated"
        flash(f"{user.name} is {state}. Nothing they wrote has been removed.", "success")
    return redirect(url_for("admin.edit_user", user_id=user.id), code=303)


@bp.route("/users/<id:user_id>/password-link", methods=["POST"])
@requires(can_administer)
def password_link(user_id: int) -> Response | Rendered:
    user = db.get_or_404(User, user_id)
    if not user.is_active:
        flash("Reactivate this person before giving them a password link.", "error")
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
def import_staff() -> Rendered:
    form = StaffImportForm()
    report = None
    if form.validate_on_submit():
        report = commit_or_refuse(
            lambda: staff_import.import_staff(
                form.csv_text(), acting=current_user, apply=bool(form.apply.data)
            ),
            form=form,
            field="file",
        ).value
    status = 422 if form.errors or (report and report.problems) else 200
    return render_template("admin/import.html", form=form, report=report), status
