"""Admin pages: departments, people and their roles, and the staff import."""

from __future__ import annotations

import sqlalchemy as sa
from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from sqlalchemy.exc import IntegrityError
from wtforms.fields import SelectChoice

from serviceideas.database import contains_pattern, contains_text
from serviceideas.errors import RuleViolation
from serviceideas.extensions import db
from serviceideas.forms import EmptyForm
from serviceideas.pagination import Page
from serviceideas.people import services, staff_import
from serviceideas.people.forms import (
    DepartmentForm,
    NewPersonForm,
    PeopleFilterForm,
    PersonForm,
    StaffImportForm,
    department_choices,
)
from serviceideas.people.models import Department, DepartmentKind, Role, User, role_column
from serviceideas.people.policies import can_administer, can_change_roles_of, requires
from serviceideas.writes import show_refusal

bp = Blueprint("admin", __name__, url_prefix="/admin")

Rendered = tuple[str, int] | str


# Departments


@bp.route("/departments", methods=["GET", "POST"])
@requires(can_administer)
def departments() -> Response | Rendered:
    form = DepartmentForm()
    if form.validate_on_submit():
        try:
            department = services.create_department(form.name.data, DepartmentKind(form.kind.data))
            db.session.commit()
        except RuleViolation as error:
            db.session.rollback()
            show_refusal(form, error, "name")
        except IntegrityError:  # the same name, added by someone else a moment ago
            db.session.rollback()
            form.name.errors.append("There is already a department with this name.")
        else:
            flash(f"Department {department.name} added.", "success")
            return redirect(url_for("admin.departments"), code=303)
    return render_template(
        "admin/departments.html",
        form=form,
        departments=services.departments_with_headcount(),
    ), 422 if form.errors else 200


@bp.route("/departments/<id:department_id>", methods=["GET", "POST"])
@requires(can_administer)
def edit_department(department_id: int) -> Response | Rendered:
    department = db.get_or_404(Department, department_id)
    form = DepartmentForm(data={"name": department.name, "kind": department.kind.value})
    if form.validate_on_submit():
        try:
            services.update_department(department, form.name.data, DepartmentKind(form.kind.data))
        except RuleViolation as error:
            show_refusal(form, error, "name")
        else:
            db.session.commit()
            flash(f"Department {department.name} saved.", "success")
            return redirect(url_for("admin.departments"), code=303)
    status = 422 if form.errors else 200
    return render_template("admin/department_edit.html", form=form, department=department), status


# People


@bp.route("/users")
@requires(can_administer)
def users() -> Rendered:
    departments = department_choices()
    filters = PeopleFilterForm(request.args)
    filters.department.choices = [SelectChoice("", "All departments")] + [
        SelectChoice(str(choice.value), choice.label) for choice in departments
    ]
    if not filters.validate():
        return render_template("admin/users.html", filters=filters, page=None), 400

    query = sa.select(User).order_by(User.name, User.id)
    if filters.q.data:
        pattern = contains_pattern(filters.q.data)
        query = query.where(
            sa.or_(
                contains_text(User.name, pattern),
                User.email.like(pattern, escape="\\"),
            )
        )
    if filters.department.data:
        query = query.where(User.department_id == int(filters.department.data))
    if filters.role.data:
        query = query.where(role_column(Role(filters.role.data)).is_(True))
    if filters.status.data != "all":
        query = query.where(User.active.is_(filters.status.data != "inactive"))
    page = Page.of(query, request.args.get("page"), current_app.config["PAGE_SIZE"])
    return render_template("admin/users.html", filters=filters, page=page)


@bp.route("/users/new", methods=["GET", "POST"])
@requires(can_administer)
def new_user() -> Response | Rendered:
    form = NewPersonForm()
    form.department.choices = department_choices()
    if form.validate_on_submit():
        try:
            user = services.create_user(
                email=form.email.data,
                name=form.name.data,
                department=db.session.get_one(Department, form.department.data),
                roles=form.chosen_roles(),
            )
            db.session.commit()
        except RuleViolation as error:
            db.session.rollback()
            show_refusal(form, error, "email")
        except IntegrityError:  # the same email, added by someone else a moment ago
            db.session.rollback()
            form.email.errors.append("Someone with this email address already exists.")
        else:
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
        try:
            services.update_user(
                user,
                name=form.name.data,
                department=db.session.get_one(Department, form.department.data),
                roles=form.chosen_roles(),
                acting=current_user,
            )
        except RuleViolation as error:
            show_refusal(form, error, "name")
        else:
            db.session.commit()
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
    if EmptyForm().validate_on_submit():
        try:
            services.set_active(current_user, user, active)
        except RuleViolation as error:
            flash(error.message, "error")
        else:
            db.session.commit()
            state = "reactivated: they can sign in again" if active else "deactivated"
            flash(f"{user.name} is {state}. Nothing they wrote has been removed.", "success")
    return redirect(url_for("admin.edit_user", user_id=user.id), code=303)


@bp.route("/users/<id:user_id>/password-link", methods=["POST"])
@requires(can_administer)
def password_link(user_id: int) -> Response | Rendered:
    user = db.get_or_404(User, user_id)
    if not user.active:
        flash("Reactivate this person before giving them a password link.", "error")
        return redirect(url_for("admin.edit_user", user_id=user.id), code=303)
    if not EmptyForm().validate_on_submit():
        return redirect(url_for("admin.edit_user", user_id=user.id), code=303)
    link = url_for("auth.set_password", token=services.password_set_token(user), _external=True)
    hours = current_app.config["PASSWORD_LINK_MAX_AGE"] // 3600
    return render_template("admin/password_link.html", person=user, link=link, hours=hours)


# Staff import


@bp.route("/import", methods=["GET", "POST"])
@requires(can_administer)
def import_staff() -> Rendered:
    form = StaffImportForm()
    report = None
    if form.validate_on_submit():
        try:
            text = (
                staff_import.decode(form.file.data.read())
                if form.file.data and form.file.data.filename
                else form.text.data or ""
            )
        except RuleViolation as error:
            form.file.errors.append(error.message)
        else:
            if not text.strip():
                form.file.errors.append("Choose a CSV file or paste its contents.")
            else:
                apply = bool(form.apply.data)
                report = staff_import.import_staff(text, acting=current_user, apply=apply)
                if apply and not report.problems:
                    db.session.commit()
                else:
                    db.session.rollback()
                    report.applied = False
                form.text.data = text  # keep it on the page, ready to import after a preview
    status = 422 if form.errors or (report and report.problems) else 200
    return render_template("admin/import.html", form=form, report=report), status
