"""Forms for signing in and for the admin pages."""

from __future__ import annotations

from typing import Any

from flask_wtf.file import FileField, FileSize
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    PasswordField,
    RadioField,
    SearchField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, EqualTo, InputRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from serviceideas.errors import RuleViolation
from serviceideas.forms import Form, SelectChoice, stripped
from serviceideas.people import queries, staff_import
from serviceideas.people.models import (
    DEPARTMENT_NAME_MAX,
    EMAIL_MAX,
    GRANTABLE_ROLES,
    NAME_MAX,
    DepartmentKind,
    Role,
)

KIND_CHOICES = [SelectChoice(kind.value, kind.label) for kind in DepartmentKind]
ROLE_CHOICES = [SelectChoice(role.value, role.label) for role in GRANTABLE_ROLES]


def department_choices() -> list[SelectChoice]:
    """Every department by name, for a select (values are ids)."""
    return [
        SelectChoice(department.id, department.name) for department in queries.departments_by_name()
    ]


def department_filter_choices() -> list[SelectChoice]:
    """ "All departments", then every department by name, for a filter read from the address
    (values are ids as text, as the address carries them)."""
    return [SelectChoice("", "All departments")] + [
        SelectChoice(str(choice.value), choice.label) for choice in department_choices()
    ]


class CheckboxesField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class LoginForm(Form):
    email = EmailField("Email", validators=[DataRequired(), Length(max=EMAIL_MAX)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=256)])
    remember = BooleanField("Keep me signed in on this device")
    next = HiddenField()
    submit = SubmitField("Sign in")


class SetPasswordForm(Form):
    password = PasswordField("New password", validators=[DataRequired(), Length(max=256)])
    confirm = PasswordField(
        "Type it again",
        validators=[DataRequired(), EqualTo("password", "The two passwords are not the same.")],
    )
    submit = SubmitField("Set password")


class DepartmentForm(Form):
    name = StringField("Name", validators=[DataRequired(), Length(max=DEPARTMENT_NAME_MAX)])
    kind = RadioField("Kind", choices=KIND_CHOICES, validators=[InputRequired()])
    submit = SubmitField("Save department")


class PersonForm(Form):
    """Name, department and roles: what an admin edits. The email is set once, at creation."""

    name = StringField("Name", validators=[DataRequired(), Length(max=NAME_MAX)])
    department = SelectField("Department", coerce=int, validators=[InputRequired()])
    roles = CheckboxesField("Roles besides employee", choices=ROLE_CHOICES)
    submit = SubmitField("Save")

    def chosen_roles(self) -> set[Role]:
        return {Role(value) for value in self.roles.data or ()}


class NewPersonForm(PersonForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=EMAIL_MAX)])
    submit = SubmitField("Add person")


class PeopleFilterForm(Form):
    """The filters of the people list; read from the query string, so no CSRF token."""

    class Meta:
        csrf = False

    q = SearchField("Search name or email", validators=[Optional(), Length(max=200)])
    department = SelectField("Department", validators=[Optional()], filters=[stripped])
    role = SelectField(
        "Role",
        choices=[SelectChoice("", "Any role"), *ROLE_CHOICES],
        validators=[Optional()],
        filters=[stripped],
    )
    status = SelectField(
        "Status",
        choices=[
            SelectChoice("active", "Active"),
            SelectChoice("inactive", "Deactivated"),
            SelectChoice("all", "Everyone"),
        ],
        default="active",
        validators=[Optional()],
        filters=[stripped],
    )

    def department_id(self) -> int | None:
        return int(self.department.data) if self.department.data else None

    def chosen_role(self) -> Role | None:
        return Role(self.role.data) if self.role.data else None

    def wants_active(self) -> bool | None:
        """True for active people, False for deactivated ones, None for everyone."""
        return None if self.status.data == "all" else self.status.data != "inactive"


class StaffImportForm(Form):
    file = FileField("CSV file", validators=[FileSize(max_size=4 * 1024 * 1024)])
    text = TextAreaField("…or paste the CSV here", validators=[Optional()])
    preview = SubmitField("Preview")
    apply = SubmitField("Import")

    def validate(self, extra_validators: Any = None) -> bool:
        """Valid when there is CSV text to import: the uploaded file's (which must be UTF-8),
        else what was pasted. The file's text goes into the text box, so that after a preview
        the page holds it, ready to import."""
        if not super().validate(extra_validators):
            return False
        upload = self.file.data
        if upload and upload.filename:
            try:
                self.text.data = staff_import.decode(upload.read())
            except RuleViolation as error:
                self.file.errors = [*self.file.errors, error.message]
                return False
        if not self.csv_text().strip():
            self.file.errors = [*self.file.errors, "Choose a CSV file or paste its contents."]
            return False
        return True

    def csv_text(self) -> str:
        return self.text.data or ""

    def file_name(self) -> str:
        """The uploaded file's name, or what it was instead."""
        upload = self.file.data
        return upload.filename if upload and upload.filename else "pasted text"
