"""Forms for the customer's side of an idea: the admin's journey stages, and the stage and
compass point an idea names (docs/product.md, "Journey stages and the compass")."""

from __future__ import annotations

from collections.abc import Iterable

from wtforms import HiddenField, IntegerField, RadioField, SelectField, StringField, SubmitField
from wtforms.validators import AnyOf, DataRequired, InputRequired, Length, NumberRange, Regexp
from wtforms.widgets import HiddenInput

from serviceideas.forms import Form, SelectChoice, stripped
from serviceideas.ideas.models import (
    STAGE_EXPLANATION_MAX,
    STAGE_NAME_MAX,
    Compass,
    JourneyStage,
)
from serviceideas.ideas.stage_queries import StageName
from serviceideas.ideas.stage_services import Direction

STAGE_LABEL = "Stage of the customer's journey"
NO_STAGE = SelectChoice("", "None chosen")
NOT_SURE = ""

# The four points, then "not sure": each with its line of explanation (`COMPASS_HELP`, which
# the template puts beside each choice, as the lens radios have theirs).
COMPASS_CHOICES = [SelectChoice(point.value, point.label) for point in Compass] + [
    SelectChoice(NOT_SURE, "Not sure")
]
COMPASS_HELP = {point.value: point.explanation for point in Compass} | {
    NOT_SURE: "Leave it open: it can be chosen later."
}


def stage_field() -> SelectField:
    """An optional stage, by id. Any id passes here: the service says why a stage that is
    retired (or gone) cannot be chosen, beside this field."""
    return SelectField(
        STAGE_LABEL,
        validators=[Regexp(r"^(?:[1-9][0-9]{0,8})?$", message="Not a valid choice.")],
        filters=[stripped],
        default="",
        validate_choice=False,
    )


def compass_field() -> RadioField:
    return RadioField(
        "What it does for the guest",
        choices=COMPASS_CHOICES,
        default=NOT_SURE,
        validators=[AnyOf([choice.value for choice in COMPASS_CHOICES], "Not a valid choice.")],
        validate_choice=False,
    )


def stage_choices(
    stages: Iterable[JourneyStage | StageName], *, blank: str = NO_STAGE.label
) -> list[SelectChoice]:
    """The stages to choose from, after a blank choice; a retired one says so."""
    return [SelectChoice("", blank)] + [
        SelectChoice(str(stage.id), f"{stage.name} (retired)" if stage.is_retired else stage.name)
        for stage in stages
    ]


def chosen_stage_id(field: SelectField) -> int | None:
    """The stage a validated `stage_field` names, or None."""
    return int(field.data) if field.data else None


def chosen_compass(field: RadioField) -> Compass | None:
    """The point a validated `compass_field` names, or None for "not sure"."""
    return Compass(field.data) if field.data else None


class CustomerSideForm(Form):
    """A manager's change of an idea's stage and compass point. `seen_version` is the idea's
    version the page showed: a change made since then (another manager's, or a status
    decision) wins, and this one is shown again beside it rather than saved."""

    journey_stage = stage_field()
    compass = compass_field()
    seen_version = IntegerField(
        widget=HiddenInput(), validators=[InputRequired(), NumberRange(min=1, max=2**31 - 1)]
    )
    submit = SubmitField("Save stage and compass")


class StageForm(Form):
    name = StringField(
        "Name",
        validators=[DataRequired(), Length(max=STAGE_NAME_MAX)],
        render_kw={"maxlength": STAGE_NAME_MAX},
    )
    explanation = StringField(
        "Explanation",
        validators=[DataRequired(), Length(max=STAGE_EXPLANATION_MAX)],
        render_kw={"maxlength": STAGE_EXPLANATION_MAX},
    )
    submit = SubmitField("Save stage")


class MoveForm(Form):
    direction = HiddenField(
        validators=[InputRequired(), AnyOf([direction.value for direction in Direction])]
    )
