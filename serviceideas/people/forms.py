"""Forms for signing in and for the admin pages."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask_babel import gettext, lazy_gettext
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
from serviceideas.i18n import LanguageSource, language_name
from serviceideas.people import queries, staff_import
from serviceideas.people.models import (
    DEPARTMENT_NAME_MAX,
    EMAIL_MAX,
    GRANTABLE_ROLES,
    KIND_LABELS,
    NAME_MAX,
    ROLE_LABELS,
    DepartmentKind,
    Role,
)

KIND_CHOICES = [SelectChoice(kind.value, KIND_LABELS[kind]) for kind in DepartmentKind]
ROLE_CHOICES = [SelectChoice(role.value, ROLE_LABELS[role]) for role in GRANTABLE_ROLES]


def department_choices() -> list[SelectChoice]:
    """Every department by name, for a select (values are ids)."""
    return [
        SelectChoice(department.id, department.name) for department in queries.departments_by_name()
    ]


def department_filter_choices() -> list[SelectChoice]:
    """ "All departments", then every department by name, for a filter read from the address
    (values are ids as text, as the address carries them)."""
    return [SelectChoice("", gettext("All departments"))] + [
        SelectChoice(str(choice.value), choice.label) for choice in department_choices()
    ]


class CheckboxesField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class LoginForm(Form):
    email = EmailField(lazy_gettext("Email"), validators=[DataRequired(), Length(max=EMAIL_MAX)])
    password = PasswordField(lazy_gettext("Password"), validators=[DataRequired(), Length(max=256)])
    remember = BooleanField(lazy_gettext("Keep me signed in on this device"))
    next = HiddenField()
    submit = SubmitField(lazy_gettext("Sign in"))


class SetPasswordForm(Form):
    password = PasswordField(
        lazy_gettext("New password"), validators=[DataRequired(), Length(max=256)]
    )
    confirm = PasswordField(
        lazy_gettext("Type it again"),
        validators=[
            DataRequired(),
            EqualTo("password", lazy_gettext("The two passwords are not the same.")),
        ],
    )
    submit = SubmitField(lazy_gettext("Set password"))


class DepartmentForm(Form):
    name = StringField(
        lazy_gettext("Name"),
        validators=[DataRequired(), Length(max=DEPARTMENT_NAME_MAX)],
    )
    kind = RadioField(lazy_gettext("Kind"), choices=KIND_CHOICES, validators=[InputRequired()])
    submit = SubmitField(lazy_gettext("Save department"))


class PersonForm(Form):
    """Name, department and roles: what an admin edits. The email is set once, at creation."""

    name = StringField(lazy_gettext("Name"), validators=[DataRequired(), Length(max=NAME_MAX)])
    department = SelectField(lazy_gettext("Department"), coerce=int, validators=[InputRequired()])
    roles = CheckboxesField(lazy_gettext("Roles besides employee"), choices=ROLE_CHOICES)
    submit = SubmitField(lazy_gettext("Save"))

    def chosen_roles(self) -> set[Role]:
        return {Role(value) for value in self.roles.data or ()}


class NewPersonForm(PersonForm):
    email = EmailField(lazy_gettext("Email"), validators=[DataRequired(), Length(max=EMAIL_MAX)])
    submit = SubmitField(lazy_gettext("Add person"))


class PeopleFilterForm(Form):
    """The filters of the people list; read from the query string, so no CSRF token."""

    class Meta:
        csrf = False

    q = SearchField(lazy_gettext("Search name or email"), validators=[Optional(), Length(max=200)])
    department = SelectField(
        lazy_gettext("Department"), validators=[Optional()], filters=[stripped]
    )
    role = SelectField(
        lazy_gettext("Role"),
        choices=[SelectChoice("", lazy_gettext("Any role")), *ROLE_CHOICES],
        validators=[Optional()],
        filters=[stripped],
    )
    status = SelectField(
        lazy_gettext("Status"),
        choices=[
            SelectChoice("active", lazy_gettext("Active")),
            SelectChoice("inactive", lazy_gettext("Deactivated")),
            SelectChoice("all", lazy_gettext("Everyone")),
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
    file = FileField(lazy_gettext("CSV file"), validators=[FileSize(max_size=4 * 1024 * 1024)])
    text = TextAreaField(lazy_gettext("…or paste the CSV here"), validators=[Optional()])
    preview = SubmitField(lazy_gettext("Preview"))
    apply = SubmitField(lazy_gettext("Import"))

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
            self.file.errors = [
                *self.file.errors,
                gettext("Choose a CSV file or paste its contents."),
            ]
            return False
        return True

    def csv_text(self) -> str:
        return self.text.data or ""

    def file_name(self) -> str:
        """The uploaded file's name, or what it was instead."""
        upload = self.file.data
        return upload.filename if upload and upload.filename else gettext("pasted text")


class LanguageForm(Form):
    """The language a person reads the app in. The choices are offered by the view (the
    automatic one says which language it gives now, and from where); the service checks the
    one sent."""

    # Checked by people.services.choose_language, which says why beside the field.
    language = RadioField(lazy_gettext("Language"), validate_choice=False)
    submit = SubmitField(lazy_gettext("Save language"))

    def offer(self, automatic: LanguageSource, languages: Iterable[str]) -> None:
        """`automatic`: the language read when none is chosen, and where it comes from (the
        company's directory, the browser or the company's default), which its option names."""
        name = language_name(automatic.language)
        if automatic.source == "directory":
            label = gettext("Your company directory's language (now: %(language)s)", language=name)
        elif automatic.source == "browser":
            label = gettext("Your browser's language (now: %(language)s)", language=name)
        else:
            label = gettext("The company's default language (now: %(language)s)", language=name)
        self.language.choices = [
            SelectChoice("", label),
            *(SelectChoice(code, language_name(code)) for code in languages),
        ]
