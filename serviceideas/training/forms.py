"""Forms for modules, assignments, completing training, feedback and the inbox filters."""

from __future__ import annotations

from flask import current_app
from flask_babel import lazy_gettext
from wtforms import (
    DateField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from serviceideas.forms import Form, SelectChoice, stripped
from serviceideas.i18n import language_name
from serviceideas.people.forms import CheckboxesField
from serviceideas.submissions import token_field
from serviceideas.training.models import (
    ANSWER_MAX,
    BODY_MAX,
    FEEDBACK_MAX,
    PROMPT_MAX,
    REPEAT_LABELS,
    SUMMARY_MAX,
    TITLE_MAX,
    Audience,
    ModuleKind,
    Repeat,
)
from serviceideas.training.queries import PROGRESS_LABELS, Progress


class ModuleForm(Form):
    title = StringField(lazy_gettext("Title"), validators=[DataRequired(), Length(max=TITLE_MAX)])
    summary = TextAreaField(
        lazy_gettext("Summary"),
        validators=[DataRequired(), Length(max=SUMMARY_MAX)],
        render_kw={"rows": 2},
    )
    body = TextAreaField(
        lazy_gettext("Text (Markdown)"),
        validators=[DataRequired(), Length(max=BODY_MAX)],
        render_kw={"rows": 14},
    )
    kind = RadioField(
        lazy_gettext("Kind"),
        choices=[
            SelectChoice(
                ModuleKind.READING.value,
                lazy_gettext("Reading — the learner confirms they read it"),
            ),
            SelectChoice(
                ModuleKind.REFLECTION.value,
                lazy_gettext("Reflection — a written answer to the prompt"),
            ),
            SelectChoice(
                ModuleKind.ACTIVITY.value,
                lazy_gettext("Activity — do something real, then write what you learnt"),
            ),
        ],
        validators=[InputRequired(lazy_gettext("Choose what kind of module this is."))],
    )
    prompt = TextAreaField(
        lazy_gettext("Prompt for the written answer"),
        validators=[Optional(), Length(max=PROMPT_MAX)],
        render_kw={"rows": 3},
    )
    minutes = IntegerField(
        lazy_gettext("Estimated minutes"),
        validators=[
            InputRequired(lazy_gettext("Estimate the minutes it takes.")),
            NumberRange(min=1, max=600),
        ],
    )
    # Its choices depend on the LANGUAGES setting: `language_choices()`, given per request.
    # An unknown code is refused by the service (services.module_language), beside the field.
    language = SelectField(
        lazy_gettext("Language"),
        validate_choice=False,
        filters=[stripped],
    )
    # The module's revision when the form was shown: a change saved since then is not
    # overwritten unseen (services.update_module). Named apart from the ideas' `version`
    # fields, so ids stay unique on every page.
    revision = HiddenField()
    # A new module's form: sent twice, it still makes one module (serviceideas/submissions.py).
    submission_token = token_field()
    submit = SubmitField(lazy_gettext("Save module"))


def language_choices() -> list[SelectChoice]:
    """ "Not said", then each language the app speaks, by its own name (read per request: the
    LANGUAGES setting)."""
    return [SelectChoice("", NOT_SAID)] + [
        SelectChoice(code, language_name(code)) for code in current_app.config["LANGUAGES"]
    ]


# Translators: a module's language, when its trainer has not said which it is.
NOT_SAID = lazy_gettext("Not said")


class AssignmentForm(Form):
    # No choice is made for the trainer: they say who, or are asked to.
    audience = RadioField(
        lazy_gettext("Who"),
        choices=[
            SelectChoice(
                Audience.EVERYONE.value,
                lazy_gettext("Everyone, including people who join later"),
            ),
            SelectChoice(
                Audience.FRONT_LINE.value,
                lazy_gettext(
                    "All front-line teams, including teams created later and who joins them"
                ),
            ),
            SelectChoice(
                Audience.BACK_OFFICE.value,
                lazy_gettext(
                    "All back-office teams, including teams created later and who joins them"
                ),
            ),
            SelectChoice(
                Audience.DEPARTMENTS.value,
                lazy_gettext("These departments (and who joins them)"),
            ),
            SelectChoice(Audience.PEOPLE.value, lazy_gettext("These people")),
        ],
        validators=[InputRequired(lazy_gettext("Choose who this is for."))],
    )
    departments = CheckboxesField(lazy_gettext("Departments"), coerce=int)
    people = TextAreaField(
        lazy_gettext("People's emails"),
        validators=[Optional(), Length(max=20_000)],
        description=lazy_gettext("One per line, or separated by commas."),
        render_kw={"rows": 3},
    )
    due_kind = RadioField(
        lazy_gettext("Due"),
        choices=[
            SelectChoice(
                "relative",
                lazy_gettext("A number of days after each person is enrolled"),
            ),
            SelectChoice("fixed", lazy_gettext("On a fixed date")),
        ],
        validators=[InputRequired(lazy_gettext("Choose how the due date is set."))],
    )
    due_days = IntegerField(
        lazy_gettext("Days after enrolment"),
        validators=[Optional(), NumberRange(1, 365)],
    )
    due_on = DateField(lazy_gettext("Due date"), validators=[Optional()])
    repeat = SelectField(
        lazy_gettext("Repeat"),
        choices=[SelectChoice(r.value, REPEAT_LABELS[r.value]) for r in Repeat],
        default=Repeat.NONE.value,
        validators=[InputRequired()],
    )
    # Sent twice (a double click), it still makes one assignment (serviceideas/submissions.py).
    submission_token = token_field()
    submit = SubmitField(lazy_gettext("Assign"))


class CompleteForm(Form):
    answer = TextAreaField(
        lazy_gettext("Your answer"),
        validators=[Optional(), Length(max=ANSWER_MAX)],
        render_kw={"rows": 8},
    )
    # The module version the page showed: the completion records the version the learner
    # read, not whatever it is when they press the button.
    module_version = HiddenField()
    submit = SubmitField(lazy_gettext("Complete"))
    save_draft = SubmitField(lazy_gettext("Save as draft"))


def whole_number(field: HiddenField) -> int | None:
    """A hidden field's number, or None when it is missing or not a sensible number (an old
    page, or a hand-made request): the service then falls back to the current value."""
    text = (field.data or "").strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) < 10 else None


class WithdrawForm(Form):
    """The confirmation page's form: a withdrawal is sent only from there."""

    confirmed = HiddenField()  # "yes", set by the confirmation page
    submit = SubmitField(lazy_gettext("Withdraw it"))


class FeedbackForm(Form):
    # Which reflection the form answers: the inbox shows many, and a refused one is shown
    # again beside its own reflection.
    reflection = HiddenField()
    feedback = TextAreaField(
        lazy_gettext("Your feedback"),
        validators=[DataRequired(), Length(max=FEEDBACK_MAX)],
        render_kw={"rows": 3},
    )
    submit = SubmitField(lazy_gettext("Send feedback"))


class InboxFilterForm(Form):
    class Meta:
        csrf = False

    module = SelectField(lazy_gettext("Module"), validators=[Optional()], filters=[stripped])
    department = SelectField(
        lazy_gettext("Department"), validators=[Optional()], filters=[stripped]
    )
    show = SelectField(
        lazy_gettext("Show"),
        choices=[
            SelectChoice("waiting", lazy_gettext("Waiting for feedback")),
            SelectChoice("all", lazy_gettext("All")),
        ],
        default="waiting",
        validators=[Optional()],
        filters=[stripped],
    )


class ModuleCoverageFilterForm(Form):
    """Whom a module's coverage page lists: those behind, those with it still to do, or
    those who have done it."""

    class Meta:
        csrf = False

    show = SelectField(
        lazy_gettext("Show"),
        choices=[
            SelectChoice(progress.value, PROGRESS_LABELS[progress.value]) for progress in Progress
        ],
        default=Progress.BEHIND.value,
        validators=[Optional()],
        filters=[stripped],
    )
