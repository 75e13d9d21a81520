"""Forms for ideas, votes, comments and reviews."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    HiddenField,
    IntegerField,
    RadioField,
    SearchField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import HiddenInput

from serviceideas.forms import SelectChoice, stripped
from serviceideas.ideas.models import COMMENT_MAX, NOTE_MAX, TEXT_MAX, TITLE_MAX, Lens, Status
from serviceideas.ideas.queries import EXTERNAL, Sort
from serviceideas.people.models import DepartmentKind

LENS_CHOICES = [
    SelectChoice(lens.value, lens.label, render_kw={"aria-describedby": f"lens-{lens.value}-help"})
    for lens in Lens
]


class IdeaForm(FlaskForm):
    title = StringField(
        "Title",
        validators=[DataRequired(), Length(max=TITLE_MAX)],
        render_kw={"maxlength": TITLE_MAX},
    )
    problem = TextAreaField(
        "The problem, as the customer (or the colleague) experiences it",
        validators=[DataRequired(), Length(max=TEXT_MAX)],
    )
    proposal = TextAreaField(
        "What we could change", validators=[DataRequired(), Length(max=TEXT_MAX)]
    )
    lens = RadioField("Lens", choices=LENS_CHOICES, validators=[InputRequired("Choose a lens.")])
    beneficiary = SelectField("Who benefits", validators=[InputRequired()])
    # Where the idea came from, e.g. "module:12" (training). Kept through validation errors.
    origin = HiddenField(validators=[Optional(), Length(max=40)])
    submit = SubmitField("Submit idea")


class VoteForm(FlaskForm):
    vote = HiddenField(validators=[InputRequired()])


class CommentForm(FlaskForm):
    body = TextAreaField("Your comment", validators=[DataRequired(), Length(max=COMMENT_MAX)])
    submit = SubmitField("Post comment")


class EditCommentForm(FlaskForm):
    body = TextAreaField("Edit your comment", validators=[DataRequired(), Length(max=COMMENT_MAX)])
    submit = SubmitField("Save comment")


class StatusForm(FlaskForm):
    to = SelectField("Move to", validators=[InputRequired()])
    note = TextAreaField(
        "Note", validators=[Optional(), Length(max=NOTE_MAX)], description="Shown in the history."
    )
    implemented_on = DateField("Put into practice on", validators=[Optional()])
    merge_into = IntegerField(
        "Merge into idea number", validators=[Optional(), NumberRange(min=1, max=2**31 - 1)]
    )
    # The idea's version when the page was shown: a change made since then wins, not this.
    version = IntegerField(widget=HiddenInput(), validators=[InputRequired()])
    submit = SubmitField("Change status")


class OwnerForm(FlaskForm):
    owner = StringField(
        "Owner's email",
        validators=[Optional(), Length(max=254)],
        description="Leave empty for nobody.",
    )
    version = IntegerField(widget=HiddenInput(), validators=[InputRequired()])
    submit = SubmitField("Set owner")


class IdeaFilterForm(FlaskForm):
    """The list's filters, read from the query string: shareable, so no CSRF token."""

    class Meta:
        csrf = False

    q = SearchField("Search", validators=[Optional(), Length(max=200)])
    status = SelectField(
        "Status",
        choices=[SelectChoice("", "Any status")] + [SelectChoice(s.value, s.label) for s in Status],
        validators=[Optional()],
        filters=[stripped],
    )
    lens = SelectField(
        "Lens",
        choices=[SelectChoice("", "Any lens")] + [SelectChoice(x.value, x.label) for x in Lens],
        validators=[Optional()],
        filters=[stripped],
    )
    department = SelectField("Department", validators=[Optional()], filters=[stripped])
    kind = SelectField(
        "Kind",
        choices=[SelectChoice("", "Front line and back office")]
        + [SelectChoice(k.value, k.label) for k in DepartmentKind],
        validators=[Optional()],
        filters=[stripped],
    )
    beneficiary = SelectField("Who benefits", validators=[Optional()], filters=[stripped])
    sort = SelectField(
        "Sort",
        choices=[SelectChoice(s.value, s.label) for s in (Sort.VOTES, Sort.NEWEST, Sort.WAITING)],
        default=Sort.VOTES.value,
        validators=[Optional()],
        filters=[stripped],
    )


def beneficiary_choices(
    departments: list[SelectChoice], *, blank: str | None
) -> list[SelectChoice]:
    head = [SelectChoice("", blank)] if blank else []
    return [*head, SelectChoice(EXTERNAL, "External customers")] + [
        SelectChoice(str(choice.value), f"{choice.label} (internal)") for choice in departments
    ]
