"""Forms for ideas, votes, comments and reviews."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from flask_babel import gettext, lazy_gettext
from wtforms import (
    BooleanField,
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
from wtforms.validators import (
    AnyOf,
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
)
from wtforms.widgets import HiddenInput

from serviceideas.forms import Form, SelectChoice, stripped
from serviceideas.ideas.models import (
    COMMENT_MAX,
    FAST_TRACK_FROM,
    NEXT_STEP_MAX,
    NOTE_MAX,
    TEXT_MAX,
    TITLE_MAX,
    TRANSITIONS,
    Compass,
    JourneyStage,
    Lens,
    Status,
)
from serviceideas.ideas.queries import EXTERNAL, Sort
from serviceideas.ideas.stage_forms import compass_field, stage_choices, stage_field
from serviceideas.people.models import DepartmentKind
from serviceideas.submissions import token_field


def lens_choices() -> list[SelectChoice]:
    """The lenses, labelled in the request's language (choices are read per form)."""
    return [SelectChoice(lens.value, lens.label) for lens in Lens]


class IdeaForm(Form):
    title = StringField(
        lazy_gettext("Title"),
        validators=[DataRequired(), Length(max=TITLE_MAX)],
        render_kw={"maxlength": TITLE_MAX},
    )
    problem = TextAreaField(
        lazy_gettext("The problem, as the customer (or the colleague) experiences it"),
        validators=[DataRequired(), Length(max=TEXT_MAX)],
    )
    proposal = TextAreaField(
        lazy_gettext("What we could change"),
        validators=[DataRequired(), Length(max=TEXT_MAX)],
    )
    lens = RadioField(
        lazy_gettext("Lens"),
        choices=lens_choices,
        validators=[InputRequired(lazy_gettext("Choose a lens."))],
    )
    # Both optional (docs/product.md, "Journey stages and the compass"); the view offers the
    # stages that are not retired (`offer_stages`).
    journey_stage = stage_field()
    compass = compass_field()
    beneficiary = SelectField(lazy_gettext("Who benefits"), validators=[InputRequired()])
    # Colleagues see "Name not shown"; managers, admins and the author still see it
    # (docs/product.md, "Speaking up safely").
    name_hidden = BooleanField(lazy_gettext("Don't show my name to colleagues"))
    # Where the idea came from, e.g. "module:12" (training). Kept through validation errors.
    origin = HiddenField(validators=[Optional(), Length(max=40)])
    # New for each form shown: sending the form twice submits one idea.
    submission_token = token_field()
    submit = SubmitField(lazy_gettext("Submit idea"))

    # The stages offered, for the form to explain each beside the choice.
    stages_offered: tuple[JourneyStage, ...] = ()

    def offer_stages(self, stages: list[JourneyStage]) -> None:
        """Offer `stages` (those not retired, in order) to choose from."""
        self.journey_stage.choices = stage_choices(stages)
        self.stages_offered = tuple(stages)


class VoteForm(Form):
    vote = HiddenField(validators=[InputRequired()])
    # Which button was pressed ("top", "side" or "card"), and for a card the list to go back
    # to without JavaScript.
    place = HiddenField(validators=[Optional(), Length(max=10)])
    back = HiddenField(validators=[Optional(), Length(max=2000)])


class FollowForm(Form):
    follow = HiddenField(validators=[InputRequired(), AnyOf(["1", "0"])])


class CommentForm(Form):
    body = TextAreaField(
        lazy_gettext("Your comment"),
        validators=[DataRequired(), Length(max=COMMENT_MAX)],
    )
    # New for each form shown: sending the form twice posts one comment.
    submission_token = token_field()
    submit = SubmitField(lazy_gettext("Post comment"))


class EditCommentForm(Form):
    body = TextAreaField(
        lazy_gettext("Edit your comment"),
        validators=[DataRequired(), Length(max=COMMENT_MAX)],
    )
    submit = SubmitField(lazy_gettext("Save comment"))


class StatusForm(Form):
    """A manager's decision on an idea (docs/product.md, "The pipeline").

    `to` offers the steps open from the idea's status (`step_choices`), the pipeline's next
    step first and nothing chosen; any status is accepted here, so that the service says why a
    step is refused, after first asking whether the page was out of date."""

    to = SelectField(
        lazy_gettext("Move to"),
        validators=[
            InputRequired(lazy_gettext("Choose where the idea goes next.")),
            AnyOf(
                [status.value for status in Status],
                message=lazy_gettext("Not a valid choice."),
            ),
        ],
        validate_choice=False,
    )
    note = TextAreaField(
        lazy_gettext("Note"),
        validators=[Optional(), Length(max=NOTE_MAX)],
        description=lazy_gettext("Shown in the history."),
    )
    # Both labels say when they apply: without JavaScript every field shows.
    implemented_on = DateField(
        lazy_gettext("Put into practice on (only for Implemented)"),
        validators=[Optional()],
    )
    # The idea that stays, found by typing words from its title (htmx offers the open ideas
    # that match, each a button that sends the form with it) or its number, as 12 or #12.
    merge_into = StringField(
        lazy_gettext("Merge into (only for Merged)"),
        validators=[Optional(), Length(max=TITLE_MAX)],
        render_kw={"maxlength": TITLE_MAX},
    )
    # The idea picked from the matches (its id): it wins over what was typed.
    merge_choice = HiddenField(validators=[Optional(), Regexp(r"^[1-9][0-9]{0,9}$")])
    # The last step of the history the page showed (0: none): a decision taken since then
    # wins, and this one is shown again beside it rather than saved.
    seen_change = IntegerField(
        widget=HiddenInput(), validators=[InputRequired(), NumberRange(min=0, max=2**63 - 1)]
    )
    submit = SubmitField(lazy_gettext("Change status"))


NOBODY = "nobody"


class OwnerForm(Form):
    """Who makes the idea happen: typed as part of a name (htmx offers the people who match,
    each a button that sends the form with them) or, without JavaScript, as an e-mail address
    or a whole name; a name several people share is answered with them to choose from."""

    owner = StringField(
        lazy_gettext("Owner"),
        validators=[Optional(), Length(max=254)],
        description=lazy_gettext("Leave empty for nobody."),
    )
    # The person picked from the matches (their e-mail): it wins over what was typed.
    choice = HiddenField(validators=[Optional(), Length(max=254)])
    # The owner the page showed (a person's id, or "nobody"): only a change of owner made
    # since then stops this one; a status decision does not.
    seen_owner = HiddenField(
        validators=[InputRequired(), Regexp(rf"^(?:{NOBODY}|[1-9][0-9]{{0,17}})$")]
    )
    submit = SubmitField(lazy_gettext("Set owner"))

    def seen_owner_id(self) -> int | None:
        """The owner the page showed, once validated: their id, or None for nobody."""
        value = self.seen_owner.data or NOBODY
        return None if value == NOBODY else int(value)


def step_choices(status: Status) -> list[SelectChoice]:
    """Where an idea can go from `status`, in the pipeline's order, so the next step comes
    before declining or merging, under an empty first choice: nothing is decided by default.
    Implemented before the idea is in progress is the fast track, and says so."""
    return [SelectChoice("", gettext("Choose…"))] + [
        SelectChoice(
            step.value,
            gettext("Put into practice (it already happened)")
            if step is Status.IMPLEMENTED and status in FAST_TRACK_FROM
            else step.label,
        )
        for step in Status
        if step in TRANSITIONS[status]
    ]


class ProgressForm(Form):
    """The owner's (or a manager's) word on the work: the next step, its target date, and a
    note for the history. Each field is optional; an empty next step or date clears it."""

    next_step = StringField(
        lazy_gettext("Next step"),
        validators=[Optional(), Length(max=NEXT_STEP_MAX)],
        render_kw={"maxlength": NEXT_STEP_MAX},
    )
    target_date = DateField(lazy_gettext("Target date"), validators=[Optional()])
    note = TextAreaField(
        lazy_gettext("Progress so far"),
        validators=[Optional(), Length(max=NOTE_MAX)],
        description=lazy_gettext("Shown in the history."),
    )
    submit = SubmitField(lazy_gettext("Save progress"))


class IdeaFilterForm(Form):
    """The list's filters, read from the query string: shareable, so no CSRF token."""

    class Meta:
        csrf = False

    q = SearchField(lazy_gettext("Search"), validators=[Optional(), Length(max=200)])
    status = SelectField(
        lazy_gettext("Status"),
        choices=lambda: (
            [SelectChoice("", gettext("Any status"))]
            + [SelectChoice(s.value, s.label) for s in Status]
        ),
        validators=[Optional()],
        filters=[stripped],
    )
    lens = SelectField(
        lazy_gettext("Lens"),
        choices=lambda: [SelectChoice("", gettext("Any lens")), *lens_choices()],
        validators=[Optional()],
        filters=[stripped],
    )
    # Retired stages too: ideas keep them (the view fills the choices).
    stage = SelectField(lazy_gettext("Journey stage"), validators=[Optional()], filters=[stripped])
    compass = SelectField(
        lazy_gettext("Compass"),
        choices=lambda: (
            [SelectChoice("", gettext("Any compass point"))]
            + [SelectChoice(point.value, point.label) for point in Compass]
        ),
        validators=[Optional()],
        filters=[stripped],
    )
    department = SelectField(
        lazy_gettext("Department"), validators=[Optional()], filters=[stripped]
    )
    kind = SelectField(
        lazy_gettext("Kind"),
        choices=lambda: (
            [SelectChoice("", gettext("Front line and back office"))]
            + [SelectChoice(k.value, k.label) for k in DepartmentKind]
        ),
        validators=[Optional()],
        filters=[stripped],
    )
    beneficiary = SelectField(
        lazy_gettext("Who benefits"), validators=[Optional()], filters=[stripped]
    )
    # Best match ranks a search (docs/product.md, "Search"); without one it is most votes.
    sort = SelectField(
        lazy_gettext("Sort"),
        choices=lambda: [
            SelectChoice(s.value, s.label)
            for s in (Sort.VOTES, Sort.NEWEST, Sort.WAITING, Sort.BEST_MATCH)
        ],
        default=Sort.VOTES.value,
        validators=[Optional()],
        filters=[stripped],
    )

    def process(
        self,
        formdata: Any = None,
        obj: object | None = None,
        data: Mapping[str, Any] | None = None,
        extra_filters: Mapping[str, Sequence[Any]] | None = None,
        **kwargs: object,
    ) -> None:
        """Read the query string; a search with no sort chosen is sorted by best match."""
        super().process(formdata, obj, data=data, extra_filters=extra_filters, **kwargs)
        sort_chosen = formdata is not None and bool(formdata.get("sort"))
        if not sort_chosen and (self.q.data or "").strip():
            self.sort.data = Sort.BEST_MATCH.value


def beneficiary_choices(
    departments: list[SelectChoice], *, blank: str | None
) -> list[SelectChoice]:
    head = [SelectChoice("", blank)] if blank else []
    return [*head, SelectChoice(EXTERNAL, gettext("External customers"))] + [
        SelectChoice(
            str(choice.value), gettext("%(department)s (internal)", department=choice.label)
        )
        for choice in departments
    ]
