"""Forms for modules, assignments, completing training, feedback and the inbox filters."""

from __future__ import annotations

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
from serviceideas.people.forms import CheckboxesField
from serviceideas.submissions import token_field
from serviceideas.training.models import (
    ANSWER_MAX,
    BODY_MAX,
    FEEDBACK_MAX,
    PROMPT_MAX,
    SUMMARY_MAX,
    TITLE_MAX,
    Audience,
    ModuleKind,
    Repeat,
)
from serviceideas.training.queries import Progress


class ModuleForm(Form):
    title = StringField("Title", validators=[DataRequired(), Length(max=TITLE_MAX)])
    summary = TextAreaField(
        "Summary", validators=[DataRequired(), Length(max=SUMMARY_MAX)], render_kw={"rows": 2}
    )
    body = TextAreaField(
        "Text (Markdown)", validators=[DataRequired(), Length(max=BODY_MAX)], render_kw={"rows": 14}
    )
    kind = RadioField(
        "Kind",
        choices=[
            SelectChoice(ModuleKind.READING.value, "Reading — the learner confirms they read it"),
            SelectChoice(
                ModuleKind.REFLECTION.value, "Reflection — a written answer to the prompt"
            ),
            SelectChoice(
                ModuleKind.ACTIVITY.value,
                "Activity — do something real, then write what you learnt",
            ),
        ],
        validators=[InputRequired("Choose what kind of module this is.")],
    )
    prompt = TextAreaField(
        "Prompt for the written answer",
        validators=[Optional(), Length(max=PROMPT_MAX)],
        render_kw={"rows": 3},
    )
    minutes = IntegerField(
        "Estimated minutes",
        validators=[InputRequired("Estimate the minutes it takes."), NumberRange(min=1, max=600)],
    )
    # The module's revision when the form was shown: a change saved since then is not
    # overwritten unseen (services.update_module). Named apart from the ideas' `version`
    # fields, so ids stay unique on every page.
    revision = HiddenField()
    # A new module's form: sent twice, it still makes one module (serviceideas/submissions.py).
    submission_token = token_field()
    submit = SubmitField("Save module")


class AssignmentForm(Form):
    # No choice is made for the trainer: they say who, or are asked to.
    audience = RadioField(
        "Who",
        choices=[
            SelectChoice(Audience.EVERYONE.value, "Everyone, including people who join later"),
            SelectChoice(
                Audience.FRONT_LINE.value,
                "All front-line teams, including teams created later and who joins them",
            ),
            SelectChoice(
                Audience.BACK_OFFICE.value,
                "All back-office teams, including teams created later and who joins them",
            ),
            SelectChoice(Audience.DEPARTMENTS.value, "These departments (and who joins them)"),
            SelectChoice(Audience.PEOPLE.value, "These people"),
        ],
        validators=[InputRequired("Choose who this is for.")],
    )
    departments = CheckboxesField("Departments", coerce=int)
    people = TextAreaField(
        "People's emails",
        validators=[Optional(), Length(max=20_000)],
        description="One per line, or separated by commas.",
        render_kw={"rows": 3},
    )
    due_kind = RadioField(
        "Due",
        choices=[
            SelectChoice("relative", "A number of days after each person is enrolled"),
            SelectChoice("fixed", "On a fixed date"),
        ],
        validators=[InputRequired("Choose how the due date is set.")],
    )
    due_days = IntegerField("Days after enrolment", validators=[Optional(), NumberRange(1, 365)])
    due_on = DateField("Due date", validators=[Optional()])
    repeat = SelectField(
        "Repeat",
        choices=[SelectChoice(r.value, r.label) for r in Repeat],
        default=Repeat.NONE.value,
        validators=[InputRequired()],
    )
    # Sent twice (a double click), it still makes one assignment (serviceideas/submissions.py).
    submission_token = token_field()
    submit = SubmitField("Assign")


class CompleteForm(Form):
    answer = TextAreaField(
        "Your answer", validators=[Optional(), Length(max=ANSWER_MAX)], render_kw={"rows": 8}
    )
    # The module version the page showed: the completion records the version the learner
    # read, not whatever it is when they press the button.
    module_version = HiddenField()
    submit = SubmitField("Complete")
    save_draft = SubmitField("Save as draft")


def whole_number(field: HiddenField) -> int | None:
    """A hidden field's number, or None when it is missing or not a sensible number (an old
    page, or a hand-made request): the service then falls back to the current value."""
    text = (field.data or "").strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) < 10 else None


class WithdrawForm(Form):
    """The confirmation page's form: a withdrawal is sent only from there."""

    confirmed = HiddenField()  # "yes", set by the confirmation page
    submit = SubmitField("Withdraw it")


class FeedbackForm(Form):
    # Which reflection the form answers: the inbox shows many, and a refused one is shown
    # again beside its own reflection.
    reflection = HiddenField()
    feedback = TextAreaField(
        "Your feedback",
        validators=[DataRequired(), Length(max=FEEDBACK_MAX)],
        render_kw={"rows": 3},
    )
    submit = SubmitField("Send feedback")


class InboxFilterForm(Form):
    class Meta:
        csrf = False

    module = SelectField("Module", validators=[Optional()], filters=[stripped])
    department = SelectField("Department", validators=[Optional()], filters=[stripped])
    show = SelectField(
        "Show",
        choices=[SelectChoice("waiting", "Waiting for feedback"), SelectChoice("all", "All")],
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
        "Show",
        choices=[SelectChoice(progress.value, progress.label) for progress in Progress],
        default=Progress.BEHIND.value,
        validators=[Optional()],
        filters=[stripped],
    )
