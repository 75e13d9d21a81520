"""Forms for the customer's side of an idea: the admin's journey stages, and the stage and
compass point an idea names (docs/product.md, "Journey stages and the compass")."""

from __future__ import annotations

from collections.abc import Iterable

from flask_babel import gettext, lazy_gettext
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

NOT_SURE = ""
COMPASS_VALUES = [point.value for point in Compass] + [NOT_SURE]


def compass_choices() -> list[SelectChoice]:
    """The four points, then "not sure", in the request's language: each with its line of
    explanation (`compass_help`, which the template puts beside each choice, as the lens
    radios have theirs)."""
    return [SelectChoice(point.value, point.label) for point in Compass] + [
        SelectChoice(NOT_SURE, gettext("Not sure"))
    ]


def compass_help() -> dict[str, str]:
    return {point.value: point.explanation for point in Compass} | {
        NOT_SURE: gettext("Leave it open: it can be chosen later.")
    }


def stage_field() -> SelectField:
    """An optional stage, by id. Any id passes here: the service says why a stage that is
    retired (or gone) cannot be chosen, beside this field."""
    return SelectField(
        lazy_gettext("Stage of the customer's journey"),
        validators=[Regexp(r"^(?:[1-9][0-9]{0,8})?$", message=lazy_gettext("Not a valid choice."))],
        filters=[stripped],
        default="",
        validate_choice=False,
    )


def compass_field() -> RadioField:
    return RadioField(
        lazy_gettext("What it does for the guest"),
        choices=compass_choices,
        default=NOT_SURE,
        validators=[AnyOf(COMPASS_VALUES, lazy_gettext("Not a valid choice."))],
        validate_choice=False,
    )


def stage_choices(
    stages: Iterable[JourneyStage | StageName], *, blank: str | None = None
) -> list[SelectChoice]:
    """The stages to choose from, after a blank choice ("None chosen" unless `blank` says
    otherwise); a retired one says so."""
    return [SelectChoice("", gettext("None chosen") if blank is None else blank)] + [
        SelectChoice(
            str(stage.id),
            gettext("%(stage)s (retired)", stage=stage.name) if stage.is_retired else stage.name,
        )
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
    submit = SubmitField(lazy_gettext("Save stage and compass"))


class StageForm(Form):
    name = StringField(
        lazy_gettext("Name"),
        validators=[DataRequired(), Length(max=STAGE_NAME_MAX)],
        render_kw={"maxlength": STAGE_NAME_MAX},
    )
    explanation = StringField(
        lazy_gettext("Explanation"),
        validators=[DataRequired(), Length(max=STAGE_EXPLANATION_MAX)],
        render_kw={"maxlength": STAGE_EXPLANATION_MAX},
    )
    submit = SubmitField(lazy_gettext("Save stage"))


class MoveForm(Form):
    direction = HiddenField(
        validators=[InputRequired(), AnyOf([direction.value for direction in Direction])]
    )
