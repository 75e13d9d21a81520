"""Idea pages: the list, submitting, the idea page with votes and comments, and the review.

Each view parses the request, calls one service or query, and renders; every write ends
through `commit_or_refuse` (docs/architecture.md, "Finishing a write").
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from flask_login import current_user
from sqlalchemy.orm import lazyload
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from serviceideas import refusals
from serviceideas.database import utcnow
from serviceideas.errors import RuleViolation, render_error
from serviceideas.extensions import db
from serviceideas.forms import EmptyForm, SelectChoice
from serviceideas.htmx import hx_redirect, is_fragment_request, is_htmx_request
from serviceideas.i18n import format_time
from serviceideas.ideas import queries, search, services
from serviceideas.ideas.forms import (
    CommentForm,
    EditCommentForm,
    FollowForm,
    IdeaFilterForm,
    IdeaForm,
    OwnerForm,
    ProgressForm,
    StatusForm,
    VoteForm,
    beneficiary_choices,
    step_choices,
)
from serviceideas.ideas.models import (
    TITLE_MAX,
    TRANSITIONS,
    Comment,
    Compass,
    Idea,
    Lens,
    Stalled,
    Status,
    StatusChange,
    Waiting,
    is_past_target,
)
from serviceideas.ideas.policies import (
    can_change_comment,
    can_record_progress,
    can_remove_comment,
    can_review,
    can_show_name,
)
from serviceideas.ideas.queries import EXTERNAL, IdeaFilters, Sort
from serviceideas.ideas.stage_forms import (
    CustomerSideForm,
    chosen_compass,
    chosen_stage_id,
    compass_help,
    stage_choices,
)
from serviceideas.ideas.stage_queries import departments_and_stages, stages_in_order
from serviceideas.people.forms import department_choices
from serviceideas.people.models import Department, DepartmentKind, User
from serviceideas.people.policies import requires, signed_in
from serviceideas.people.services import find_user
from serviceideas.sessions import made_by_the_page
from serviceideas.submissions import new_token
from serviceideas.urls import DATABASE_INT_MAX, safe_next, url_for_each
from serviceideas.writes import commit_or_refuse

bp = Blueprint("ideas", __name__, url_prefix="/ideas")

Rendered = tuple[str, int] | str
# Similar ideas are looked for once the title holds this many characters.
SIMILAR_FROM = 3


def _viewer() -> User:
    """The signed-in person (every view here is guarded, so never the anonymous user)."""
    viewer: User = current_user._get_current_object()
    return viewer


@bp.app_context_processor
def idea_template_context() -> dict[str, object]:
    """Templates flag stalled ideas with the rule the review queue counts by
    (docs/product.md, "Stalled ideas")."""
    stalled = Stalled.as_configured(utcnow())

    def days_waiting(idea: Waiting) -> int:
        return (stalled.now - idea.status_changed_at).days

    def comment_links(idea_id: int) -> dict[str, Callable[[int], str]]:
        return {
            "edit": url_for_each("ideas.edit_comment", "comment_id", idea_id=idea_id),
            "remove": url_for_each("ideas.remove_comment", "comment_id", idea_id=idea_id),
        }

    return {
        "is_stalled": stalled,
        "days_waiting": days_waiting,
        "comment_links": comment_links,
        "stalled_days": stalled.days,
        "is_past_target": lambda idea: is_past_target(idea, stalled.now.date()),
        "lens_help": {lens.value: lens.explanation for lens in Lens},
        "compass_help": compass_help(),
        "format_time": format_time,
    }


# The list


def _filters_from(form: IdeaFilterForm) -> IdeaFilters:
    return IdeaFilters(
        status=Status(form.status.data) if form.status.data else None,
        lens=Lens(form.lens.data) if form.lens.data else None,
        department_id=int(form.department.data) if form.department.data else None,
        kind=DepartmentKind(form.kind.data) if form.kind.data else None,
        beneficiary=form.beneficiary.data or None,
        q=form.q.data or None,
        sort=Sort(form.sort.data or Sort.VOTES),
        journey_stage_id=int(form.stage.data) if form.stage.data else None,
        compass=Compass(form.compass.data) if form.compass.data else None,
    )


def _render_list(
    template: str,
    filters: IdeaFilters,
    *,
    per_card: Callable[[queries.IdeaPage], dict[str, object]] | None = None,
    **context: object,
) -> Rendered:
    """A list page, or just its next cards for htmx's "load more"; `per_card` reads what else
    the page's cards show, for the cards of each page."""
    after = request.args.get("after") or None
    try:
        page = queries.list_ideas(
            filters, _viewer(), after=after, limit=current_app.config["PAGE_SIZE"]
        )
    except RuleViolation as error:  # a broken "load more" link: a read, nothing to roll back
        return render_error(400, error.message)
    shown = per_card(page) if per_card else {}
    if after and is_fragment_request():
        return render_template("ideas/_cards.html", page=page, **shown)
    return render_template(template, page=page, **shown, **context)


@bp.route("")
@signed_in
def index() -> Rendered:
    departments, stages = departments_and_stages()
    form = IdeaFilterForm(request.args)
    form.department.choices = [SelectChoice("", gettext("All departments"))] + [
        SelectChoice(str(c.value), c.label) for c in departments
    ]
    form.beneficiary.choices = beneficiary_choices(departments, blank=gettext("Anyone"))
    form.stage.choices = stage_choices(stages, blank=gettext("Any stage"))
    if not form.validate():
        return render_template("ideas/index.html", form=form, page=None), 400
    return _render_list("ideas/index.html", _filters_from(form), form=form)


@bp.route("/mine")
@signed_in
def mine() -> Rendered:
    filters = IdeaFilters(sort=Sort.NEWEST, author_id=_viewer().id)
    return _render_list("ideas/mine.html", filters)


@bp.route("/owned")
@signed_in
def owned() -> Rendered:
    """Ideas I own, each with its next step and target date (docs/product.md, "The
    pipeline")."""
    return render_template("ideas/owned.html", ideas=queries.ideas_owned_by(_viewer()))


@bp.route("/review")
@requires(can_review)
def review() -> Rendered:
    stalled = queries.count_stalled(Stalled.as_configured(utcnow()), up_to=queries.COUNT_UP_TO)
    filters = IdeaFilters(sort=Sort.OLDEST, open_only=True)
    return _render_list(
        "ideas/review.html",
        filters,
        per_card=_likely_duplicates,
        stalled_count=stalled,
        stalled_counted_up_to=queries.COUNT_UP_TO,
    )


def _likely_duplicates(page: queries.IdeaPage) -> dict[str, object]:
    """Each card's likely duplicates, for the manager to merge (docs/product.md, "Similar ideas
    and duplicates"): one search for the whole page."""
    return {"duplicates": search.likely_duplicates([card.id for card in page.cards])}


# Submitting


def _idea_form() -> IdeaForm:
    form = IdeaForm(request.form if request.method == "POST" else MultiDict(request.args))
    form.beneficiary.choices = beneficiary_choices(department_choices(), blank=None)
    form.offer_stages(stages_in_order(with_retired=False))
    return form


def _draft(form: IdeaForm) -> services.IdeaDraft:
    """The idea as the (validated) form gives it."""
    beneficiary = (
        None
        if form.beneficiary.data == EXTERNAL
        else db.get_or_404(Department, int(form.beneficiary.data or 0))
    )
    return services.IdeaDraft(
        title=form.title.data or "",
        problem=form.problem.data or "",
        proposal=form.proposal.data or "",
        lens=Lens(form.lens.data),
        beneficiary=beneficiary,
        journey_stage_id=chosen_stage_id(form.journey_stage),
        compass=chosen_compass(form.compass),
        origin=form.origin.data or None,
        submission_token=form.submission_token.data or None,
        name_hidden=bool(form.name_hidden.data),
    )


def _to_idea(idea_id: int) -> Response:
    target = url_for("ideas.show", idea_id=idea_id)
    return hx_redirect(target) if is_htmx_request() else redirect(target, code=303)


@bp.route("/new", methods=["GET", "POST"])
@signed_in
def new() -> ResponseReturnValue:
    form = _idea_form()
    if request.method == "GET" and refusals.restore(form):
        # Back at a refused form (serviceideas/refusals.py): what was typed, with its token,
        # so that sending it again is still the same submission.
        return render_template("ideas/new.html", form=form)
    if request.method == "GET" or request.form.get("prefill") == "1":
        # A form to fill in, started empty or from fields another page posted (a reflection
        # posts its text rather than putting it in a URL); nothing is checked or saved yet.
        # Its token is its own, whatever the address or the other page passed.
        form.submission_token.data = new_token()
        return render_template("ideas/new.html", form=form)
    if form.validate():
        draft = _draft(form)
        submitted = commit_or_refuse(
            lambda: services.submit_idea(_viewer(), draft), form=form, field="title"
        )
        if submitted:
            flash(gettext("Thank you — your idea is in. Managers review every idea."), "success")
            return _to_idea(submitted.kept.id)
        if isinstance(submitted.refusal, services.AlreadySubmitted):
            # The same form again (a double click, a resend): the idea the first one made.
            flash(
                gettext("Thank you — your idea is in, once, although the form was sent twice."),
                "success",
            )
            return _to_idea(submitted.refusal.record_id)
        if isinstance(submitted.refusal, services.SentBeforeWithOtherText):
            form.submission_token.data = new_token()  # sent again, it is another idea
    elif form.submission_token.errors:
        form.submission_token.data = new_token()  # not one of ours: the form gets one
    # Shown again at an address the browser can go back to, with what was typed.
    return refusals.refuse(
        form,
        url_for("ideas.new"),
        fragment=lambda: render_template("ideas/_form.html", form=form),
        replacing={"submission_token": form.submission_token.data or new_token()},
    )


@bp.route("/similar")
@signed_in
@made_by_the_page
def similar() -> Rendered:
    """Ideas like the one whose title is being typed on the submit form (docs/product.md,
    "Similar ideas and duplicates"): the fragment htmx swaps in under the title field. Too
    little typed gives an empty list, never an error. `shown` is what the list showed before:
    only a changed list is read out."""
    typed = " ".join(request.args.get("title", "")[:TITLE_MAX].split())
    matches = search.similar_ideas(typed) if len(typed) >= SIMILAR_FROM else []
    similar = queries.with_viewer_stakes(matches, _viewer())
    listed = ",".join(str(idea.id) for idea in similar)
    announce = listed != request.args.get("shown", "")
    return render_template("ideas/_similar.html", similar=similar, announce=announce)


# One idea


def _load(idea_id: int, *, with_people: bool = True) -> Idea:
    """The idea or a 404; without its author and departments for a vote, which needs none."""
    options = () if with_people else (lazyload("*"),)
    idea: Idea = db.get_or_404(Idea, idea_id, options=options)
    return idea


def _story_page(
    idea: Idea,
    status: int = 200,
    *,
    comment_form: CommentForm | None = None,
    status_form: StatusForm | None = None,
    owner_form: OwnerForm | None = None,
    overtaken: Overtaken | None = None,
    owner_matches: list[queries.PersonMatch] | None = None,
    merge_matches: list[search.Match] | None = None,
    progress_form: ProgressForm | None = None,
    customer_side_form: CustomerSideForm | None = None,
) -> Rendered:
    """The idea's page, with the form that was sent (refused) as it came, and every other form
    as a GET shows it: built with formdata=None, since a form left to read the request would
    take the sent form's fields that share its names (both the decision and the progress form
    have a `note`)."""
    return render_template(
        "ideas/show.html",
        story=queries.idea_story(idea, _viewer()),
        idea=idea,
        vote_form=VoteForm(formdata=None),
        comment_form=comment_form or CommentForm(formdata=None),
        status_form=status_form or _status_form(idea),
        owner_form=owner_form
        or OwnerForm(formdata=None, data={"owner": idea.owner.name if idea.owner else ""}),
        overtaken=overtaken,
        owner_matches=owner_matches,
        merge_matches=merge_matches,
        progress_form=progress_form
        or ProgressForm(
            formdata=None, data={"next_step": idea.next_step, "target_date": idea.target_date}
        ),
        customer_side_form=customer_side_form
        or (_customer_side_form(idea) if can_review(_viewer()) else None),
    ), status


def _status_form(idea: Idea, formdata: MultiDict[str, str] | None = None) -> StatusForm:
    """The review panel's decision form. Its hidden `seen_change` is drawn by the page from the
    history it shows, like the owner form's `seen_owner`: whatever the page shows is what a
    decision taken on it saw."""
    form = StatusForm(formdata)
    form.to.choices = step_choices(idea.status)
    return form


@bp.route("/<id:idea_id>")
@signed_in
def show(idea_id: int) -> Rendered:
    comment_form = CommentForm()
    refusals.restore(comment_form)  # back at a refused comment: what was typed, and why
    return _story_page(_load(idea_id), comment_form=comment_form)


@bp.route("/<id:idea_id>/show-name", methods=["POST"])
@signed_in
def show_name(idea_id: int) -> Response | Rendered:
    """The author shows their hidden name on the idea, for good (docs/product.md, "Speaking
    up safely"); anyone else is refused."""
    idea = _load(idea_id)
    if not can_show_name(_viewer(), idea):
        abort(403)
    if not EmptyForm().validate_on_submit():
        return render_error(
            400, gettext("This form has expired: reload the idea's page and try again.")
        )
    shown = commit_or_refuse(lambda: services.show_author_name(_viewer(), idea))
    if shown:
        flash(gettext("Your name is now shown on this idea."), "success")
    return redirect(url_for("ideas.show", idea_id=idea.id), code=303)


# Where vote buttons stand, each with the others on the same page: the idea page has one by
# its title and one beside the facts; the list has one on each card.
VOTE_PLACES: dict[str, tuple[str, ...]] = {
    "top": ("top", "side"),
    "side": ("top", "side"),
    "card": ("card",),
    "similar": ("similar",),  # "vote for this instead", under the submit form's title
}


@bp.route("/<id:idea_id>/vote", methods=["POST"])
@signed_in
def vote(idea_id: int) -> Response | Rendered:
    idea = _load(idea_id, with_people=False)
    form = VoteForm()
    if not form.validate_on_submit() or form.vote.data not in {"1", "0"}:
        return render_error(400, gettext("The vote must be 1 (vote) or 0 (take it back)."))
    fragment = is_fragment_request()
    # Which of the page's vote buttons was pressed; the others on that page follow it.
    place = form.place.data if form.place.data in VOTE_PLACES else "side"
    others = [other for other in VOTE_PLACES[place] if other != place]

    def vote_and_draw() -> str | None:
        voted = services.set_vote(_viewer(), idea, form.vote.data == "1")
        if not fragment:
            return None
        # Drawn before the commit, from what this transaction wrote: after it, the idea and
        # the voter would be read again, in a second transaction that on SQLite queues for
        # the write lock once more. If the commit fails, the error page replaces this.
        return render_template(
            "ideas/_vote.html", idea=idea, voted=voted, place=place, others=others
        )

    outcome = commit_or_refuse(vote_and_draw, flash_refusal=not fragment)
    if fragment:
        if outcome:
            return outcome.kept or ""
        message = outcome.refusal.message if outcome.refusal else ""
        # Nothing changed: the vote stands as the page showed it (taking it back means it was).
        had_voted = form.vote.data == "0"
        return render_template(
            "ideas/_vote.html", idea=idea, voted=had_voted, place=place, others=[], message=message
        ), 409
    # Without JavaScript: back to the button pressed, on the list or on the idea's page.
    back = safe_next(form.back.data) if place == "card" else None
    if back:
        return redirect(f"{back}#idea-{idea.id}", code=303)
    anchor = ("vote-top" if place == "top" else "vote") if outcome else None
    return redirect(url_for("ideas.show", idea_id=idea.id, _anchor=anchor), code=303)


# Following


@bp.route("/<id:idea_id>/follow", methods=["POST"])
@signed_in
def follow(idea_id: int) -> Response | Rendered:
    """Follow or unfollow (docs/product.md, "Following an idea"): the button's fragment for
    htmx, or back to the button on the idea's page without JavaScript."""
    idea = _load(idea_id, with_people=False)
    form = FollowForm()
    if not form.validate_on_submit():
        return render_error(400, gettext("Follow must be 1 (follow) or 0 (unfollow)."))
    fragment = is_fragment_request()
    wanted = form.follow.data == "1"
    outcome = commit_or_refuse(
        lambda: services.set_following(_viewer(), idea, wanted), flash_refusal=not fragment
    )
    if fragment:
        following = wanted if outcome else not wanted
        message = outcome.refusal.message if outcome.refusal else None
        return render_template(
            "ideas/_follow.html", idea=idea, following=following, message=message, answer=True
        ), (200 if outcome else 409)
    return redirect(url_for("ideas.show", idea_id=idea.id, _anchor="follow"), code=303)


# Comments


def _comments_fragment(
    idea: Idea, form: CommentForm | None = None, status: int = 200, *, posted: bool = False
) -> Rendered:
    """The comments with the form: as sent (refused), or empty with a new token (`posted`)."""
    story = queries.idea_story(idea, _viewer())
    return render_template(
        "ideas/_comments.html",
        idea=idea,
        story=story,
        # formdata=None: a new, empty form, not one read from the request just answered.
        comment_form=form or CommentForm(formdata=None),
        posted=posted,
    ), status


@bp.route("/<id:idea_id>/comments", methods=["POST"])
@signed_in
def comment(idea_id: int) -> ResponseReturnValue:
    idea = _load(idea_id)
    form = CommentForm()
    if form.validate_on_submit():
        body = form.body.data or ""
        token = form.submission_token.data or None
        added = commit_or_refuse(
            lambda: services.add_comment(_viewer(), idea, body, submission_token=token),
            form=form,
            field="body",
        )
        # The same form sent twice (a double click) posted one comment: answer as the first.
        if added or isinstance(added.refusal, services.AlreadySubmitted):
            if is_fragment_request():
                return _comments_fragment(idea, posted=True)
            return redirect(url_for("ideas.show", idea_id=idea.id, _anchor="comments"), code=303)
        if isinstance(added.refusal, services.CommentSentBeforeWithOtherText):
            form.submission_token.data = new_token()  # sent again, it is another comment
    if form.submission_token.errors:
        form.submission_token.data = new_token()  # not one of ours: the form gets one
    if is_fragment_request():
        return _comments_fragment(idea, form, 422)
    # Without htmx, shown again at the idea's own address (serviceideas/refusals.py).
    return refusals.refuse(
        form,
        url_for("ideas.show", idea_id=idea.id, _anchor="comments"),
        replacing={"submission_token": form.submission_token.data or new_token()},
    )


def _load_comment(idea_id: int, comment_id: int) -> Comment:
    comment: Comment = db.get_or_404(Comment, comment_id)
    if comment.idea_id != idea_id:
        abort(404)
    return comment


def _comment_shown(idea_id: int, comment_id: int) -> Response | Rendered:
    """A comment after an edit or a removal: its fragment, or the idea's page at it."""
    if is_fragment_request():
        return render_template(
            "ideas/_comment.html", comment=queries.comment_item(comment_id), idea_id=idea_id
        )
    return redirect(url_for("ideas.show", idea_id=idea_id, _anchor=f"comment-{comment_id}"), 303)


@bp.route("/<id:idea_id>/comments/<id:comment_id>/edit", methods=["GET", "POST"])
@signed_in
def edit_comment(idea_id: int, comment_id: int) -> Response | Rendered:
    comment = _load_comment(idea_id, comment_id)
    if not can_change_comment(_viewer(), comment):
        abort(403)
    form = EditCommentForm(data={"body": comment.body})
    if form.validate_on_submit():
        body = form.body.data or ""
        edited = commit_or_refuse(
            lambda: services.edit_comment(_viewer(), comment, body), form=form, field="body"
        )
        if edited:
            return _comment_shown(idea_id, comment.id)
    status = 422 if form.errors else 200
    template = "ideas/_comment_edit.html" if is_fragment_request() else "ideas/comment_edit.html"
    return render_template(template, form=form, comment=comment, idea_id=idea_id), status


@bp.route("/<id:idea_id>/comments/<id:comment_id>/remove", methods=["POST"])
@signed_in
def remove_comment(idea_id: int, comment_id: int) -> Response | Rendered:
    comment = _load_comment(idea_id, comment_id)
    if not can_remove_comment(_viewer(), comment):
        abort(403)
    fragment = is_fragment_request()
    removed = commit_or_refuse(
        lambda: services.remove_comment(_viewer(), comment), flash_refusal=not fragment
    )
    if not removed and fragment and removed.refusal:
        return render_error(409, removed.refusal.message)
    return _comment_shown(idea_id, comment.id)


# Review


@dataclass(frozen=True, slots=True)
class Overtaken:
    """What another manager changed while this one was deciding, for the 409 page: the steps
    of the history their page had not shown (for a decision) or the owner it had not shown,
    and what they asked for, which was not saved but is kept in the form."""

    steps: list[StatusChange]
    wanted: Status | None = None  # the step they chose, if any
    note: str = ""

    @property
    def owner_changed(self) -> bool:
        return not self.steps

    @property
    def by(self) -> str:
        """Who took the steps, each named once."""
        return ", ".join(dict.fromkeys(step.actor.name for step in self.steps))


def _without_version(
    idea: Idea, *, status_form: StatusForm | None = None, owner_form: OwnerForm | None = None
) -> Rendered:
    """The review forms carry what the page showed (the last step of the history, the owner)
    in hidden fields; a form without them (or with broken ones) was not sent by our page, so
    nothing in it is used. Still no dead end: the idea's page as it is now, 400, with what was
    entered kept in the form, which now carries what this page shows."""
    flash(
        gettext(
            "This form came without what the idea's page showed, so nothing was changed. Here "
            "is the idea as it is now, with what you entered: check it and send it again."
        ),
        "error",
    )
    return _story_page(idea, 400, status_form=status_form, owner_form=owner_form)


@bp.route("/<id:idea_id>/status", methods=["POST"])
@requires(can_review)
def change_status(idea_id: int) -> Response | Rendered:
    idea = _load(idea_id)
    form = _status_form(idea, request.form)
    if form.validate_on_submit():
        seen_change = form.seen_change.data

        def decide() -> StatusChange:
            to = Status(form.to.data)
            decision = services.Decision(
                to=to,
                note=form.note.data or "",
                implemented_on=form.implemented_on.data,
                merge_into_number=_merge_target(form, idea) if to is Status.MERGED else None,
            )
            return services.change_status(_viewer(), idea, decision, seen_change=seen_change)

        decided = commit_or_refuse(decide, form=form, field="to")
        if decided:
            flash(
                gettext(
                    "Idea #%(number)s is now %(status)s.",
                    number=idea.id,
                    status=idea.status.in_sentence,
                ),
                "success",
            )
            return redirect(url_for("ideas.show", idea_id=idea.id, _anchor="history"), code=303)
        if isinstance(decided.refusal, ChooseMerge):
            return _decision_refused(_load(idea_id), form, merge_matches=decided.refusal.matches)
    elif form.seen_change.errors:
        return _without_version(idea, status_form=form)
    return _decision_refused(_load(idea_id), form)


class ChooseMerge(RuleViolation):
    """What was typed as the idea to merge into names no open idea, or several: refused beside
    the field, with the open ideas whose titles match to choose from."""

    def __init__(self, message: str, matches: list[search.Match]) -> None:
        super().__init__(message, "merge_into")
        self.matches = matches


# An idea's number as a reviewer types it: 12 or #12.
IDEA_NUMBER = re.compile(r"#?\s*([0-9]{1,12})")


def _merge_target(form: StatusForm, idea: Idea) -> int | None:
    """The number of the idea to merge `idea` into: picked from the matches, typed as a
    number, or the one open idea whose whole title was typed; None when nothing was typed
    (the pipeline then asks for one). Other words are refused with the open ideas whose titles
    match them, best first. Whether that idea may take the merge is the pipeline's to say."""
    if form.merge_choice.data:
        return int(form.merge_choice.data)
    typed = " ".join((form.merge_into.data or "").split())
    if not typed:
        return None
    number = IDEA_NUMBER.fullmatch(typed)
    if number:
        if int(number[1]) > DATABASE_INT_MAX:
            raise RuleViolation(
                gettext("There is no idea #%(number)s.", number=number[1]), "merge_into"
            )
        return int(number[1])
    matches = search.titles_matching(typed, exclude=(idea.id,), open_only=True)
    named = [match for match in matches if match.title.casefold() == typed.casefold()]
    if len(named) == 1:
        return named[0].id
    if not matches:
        raise ChooseMerge(
            gettext(
                "No open idea's title matches “%(typed)s”: type words from its title, or its "
                "number.",
                typed=typed,
            ),
            [],
        )
    raise ChooseMerge(
        gettext("Choose the idea to merge this one into (“%(typed)s”).", typed=typed), matches
    )


@bp.route("/<id:idea_id>/merge/matches")
@requires(can_review)
@made_by_the_page
def merge_matches(idea_id: int) -> Rendered:
    """The open ideas whose titles match what the manager is typing as the idea to merge
    into, best first and never this one, as buttons that merge into it (htmx swaps them in
    under the field). A number typed is no search: it is sent as it is."""
    idea = _load(idea_id, with_people=False)
    typed = " ".join(request.args.get("merge_into", "")[:TITLE_MAX].split())
    searched = len(typed) >= 2 and not IDEA_NUMBER.fullmatch(typed)
    matches = search.titles_matching(typed, exclude=(idea.id,), open_only=True) if searched else []
    return render_template(
        "ideas/_merge_matches.html", idea=idea, matches=matches, typed=typed, searched=searched
    )


def _decision_refused(
    idea: Idea, form: StatusForm, *, merge_matches: list[search.Match] | None = None
) -> Rendered:
    """The idea page after a refused decision, as the idea is now.

    When another manager moved the idea on since the page was shown, whatever else was wrong
    with the form: 409, saying who did what, with the reviewer's choice (if it is still a step
    open from the new status) and note kept, ready to send again. Otherwise 422, the reasons
    beside the fields."""
    history = queries.idea_story(idea, _viewer()).history
    unseen = [step for step in history if step.id > (form.seen_change.data or 0)]
    if not unseen:
        return _story_page(idea, 422, status_form=form, merge_matches=merge_matches)
    wanted = Status(form.to.data) if form.to.data in set(Status) else None
    kept = MultiDict(request.form)
    kept["to"] = wanted.value if wanted in TRANSITIONS[idea.status] else ""
    overtaken = Overtaken(unseen, wanted, (form.note.data or "").strip())
    flash(
        gettext(
            "Your decision was not saved: %(people)s changed this idea's status first. See "
            "what changed under “Review”; what you chose and wrote is kept there.",
            people=overtaken.by,
        ),
        "error",
    )
    return _story_page(idea, 409, status_form=_status_form(idea, kept), overtaken=overtaken)


class ChooseOwner(RuleViolation):
    """What was typed names nobody, or several people: refused beside the field, with the
    active people who match it to choose from."""

    def __init__(self, message: str, matches: list[queries.PersonMatch]) -> None:
        super().__init__(message, "owner")
        self.matches = matches


def _chosen_owner(form: OwnerForm) -> User | None:
    """The person picked from the matches, or typed as an e-mail address or a whole name;
    nobody for an empty field. Anything else is refused with the people who match it."""
    typed = " ".join((form.choice.data or form.owner.data or "").split())
    if not typed:
        return None
    owner = find_user(typed) if "@" in typed else None
    if owner is not None:
        return owner
    matches = queries.people_matching(typed)
    named = [match for match in matches if match.name.lower() == typed.lower()]
    if len(named) == 1:
        return db.get_or_404(User, named[0].id)
    if not matches:
        raise ChooseOwner(
            gettext("Nobody active matches “%(typed)s”: type part of a name.", typed=typed), []
        )
    raise ChooseOwner(gettext("Choose who you mean by “%(typed)s”.", typed=typed), matches)


@bp.route("/<id:idea_id>/owner/matches")
@requires(can_review)
@made_by_the_page
def owner_matches(idea_id: int) -> Rendered:
    """The active people whose name or e-mail holds what the manager is typing into the
    owner field, as buttons that set the owner (htmx swaps them in under the field)."""
    idea = _load(idea_id, with_people=False)
    typed = request.args.get("owner", "")[:254]
    matches = queries.people_matching(typed) if len(typed.strip()) >= 2 else []
    return render_template("ideas/_owner_matches.html", idea=idea, matches=matches, typed=typed)


@bp.route("/<id:idea_id>/owner", methods=["POST"])
@requires(can_review)
def set_owner(idea_id: int) -> Response | Rendered:
    idea = _load(idea_id)
    form = OwnerForm()
    if form.validate_on_submit():
        seen_owner_id = form.seen_owner_id()

        def choose() -> User | None:
            owner = _chosen_owner(form)
            services.set_owner(_viewer(), idea, owner, seen_owner_id=seen_owner_id)
            return owner

        chosen = commit_or_refuse(choose, form=form, field="owner")
        if chosen:
            owner = chosen.kept
            flash(
                gettext("Owner set to %(name)s.", name=owner.name)
                if owner
                else gettext("Owner cleared."),
                "success",
            )
            return redirect(url_for("ideas.show", idea_id=idea.id), code=303)
        if isinstance(chosen.refusal, ChooseOwner):
            return _story_page(
                _load(idea_id), 422, owner_form=form, owner_matches=chosen.refusal.matches
            )
    elif form.seen_owner.errors:
        return _without_version(idea, owner_form=form)
    return _owner_refused(_load(idea_id), form)


@bp.route("/<id:idea_id>/progress", methods=["POST"])
@signed_in
def record_progress(idea_id: int) -> Response | Rendered:
    """The owner (or a manager) sets the next step and its date, and adds a progress note."""
    idea = _load(idea_id)
    if not can_record_progress(_viewer(), idea):
        abort(403)
    form = ProgressForm()
    if form.validate_on_submit():
        progress = services.Progress(
            next_step=form.next_step.data,
            target_date=form.target_date.data,
            note=form.note.data or "",
        )
        recorded = commit_or_refuse(
            lambda: services.record_progress(_viewer(), idea, progress),
            form=form,
            field="next_step",
        )
        if recorded:
            flash(gettext("Progress saved."), "success")
            return redirect(url_for("ideas.show", idea_id=idea.id, _anchor="progress"), code=303)
    return _story_page(_load(idea_id), 422, progress_form=form)


def _owner_refused(idea: Idea, form: OwnerForm) -> Rendered:
    """The idea page after a refused choice of owner, as the idea is now: 409 when another
    manager changed the owner since the page was shown (what was typed kept, ready to send
    again), else 422 with the reason beside the field. A status decision meanwhile is no
    reason: it is shown, but does not stop the choice."""
    if idea.owner_id == form.seen_owner_id():
        return _story_page(idea, 422, owner_form=form)
    flash(
        gettext(
            "Your choice of owner was not saved: someone else changed the owner first. See "
            "who owns it now under “Review”; what you typed is kept there."
        ),
        "error",
    )
    return _story_page(idea, 409, owner_form=OwnerForm(request.form), overtaken=Overtaken(steps=[]))


# The customer's side (docs/product.md, "Journey stages and the compass")


def _customer_side_form(
    idea: Idea, formdata: MultiDict[str, str] | None = None
) -> CustomerSideForm:
    """The review panel's stage and compass form: the stages offered for new ideas, and the
    idea's own if it was retired since. Its hidden `seen_version` is drawn by the page from
    the idea it shows."""
    data = {
        "journey_stage": str(idea.journey_stage_id or ""),
        "compass": idea.compass.value if idea.compass else "",
    }
    form = CustomerSideForm(formdata, data=data)
    stages = stages_in_order(with_retired=True)
    form.journey_stage.choices = stage_choices(
        stage for stage in stages if not stage.is_retired or stage.id == idea.journey_stage_id
    )
    return form


@bp.route("/<id:idea_id>/customer-side", methods=["POST"])
@requires(can_review)
def set_customer_side(idea_id: int) -> Response | Rendered:
    """A manager names the stage of the customer's journey the idea improves, and its
    compass point. A change of the idea since the page was shown wins: 409, the idea as it is
    now, the manager's choice kept beside it."""
    idea = _load(idea_id)
    form = _customer_side_form(idea, request.form)
    if form.validate_on_submit():
        side = services.CustomerSide(
            chosen_stage_id(form.journey_stage), chosen_compass(form.compass)
        )
        seen_version = form.seen_version.data
        saved = commit_or_refuse(
            lambda: services.set_customer_side(_viewer(), idea, side, seen_version=seen_version),
            form=form,
            field="journey_stage",
        )
        if saved:
            flash(gettext("Stage and compass point saved."), "success")
            return redirect(
                url_for("ideas.show", idea_id=idea.id, _anchor="customer-side"), code=303
            )
        if isinstance(saved.refusal, services.ChangedMeanwhile):
            return _story_page(_load(idea_id), 409, customer_side_form=form)
    elif form.seen_version.errors:
        flash(
            gettext(
                "This form came without what the idea's page showed, so nothing was changed. "
                "Here is the idea as it is now, with what you chose: check it and send it again."
            ),
            "error",
        )
        return _story_page(_load(idea_id), 400, customer_side_form=form)
    return _story_page(_load(idea_id), 422, customer_side_form=form)
