"""Idea pages: the list, submitting, the idea page with votes and comments, and the review."""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import lazyload
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.datastructures import MultiDict
from wtforms.fields import SelectChoice

from serviceideas.database import utcnow
from serviceideas.errors import RuleViolation, render_error
from serviceideas.extensions import db
from serviceideas.htmx import hx_redirect, is_fragment_request, is_htmx_request
from serviceideas.ideas import queries, services
from serviceideas.ideas.forms import (
    CommentForm,
    EditCommentForm,
    IdeaFilterForm,
    IdeaForm,
    OwnerForm,
    StatusForm,
    VoteForm,
    beneficiary_choices,
)
from serviceideas.ideas.models import OPEN_STATUSES, TRANSITIONS, Comment, Idea, Lens, Status
from serviceideas.ideas.policies import can_change_comment, can_remove_comment, can_review
from serviceideas.ideas.queries import EXTERNAL, IdeaFilters, Sort
from serviceideas.ideas.signals import idea_submitted
from serviceideas.people.forms import department_choices
from serviceideas.people.models import Department, DepartmentKind, User
from serviceideas.people.policies import requires
from serviceideas.people.services import find_user
from serviceideas.urls import url_for_each
from serviceideas.writes import show_refusal

bp = Blueprint("ideas", __name__, url_prefix="/ideas")

Rendered = tuple[str, int] | str


def stalled_days() -> int:
    return current_app.config["STALLED_AFTER_DAYS"]


@bp.app_context_processor
def idea_template_context() -> dict[str, object]:
    """Templates flag stalled ideas with the same rule the queue uses."""
    now = utcnow()
    days = stalled_days()

    def is_stalled(idea: services.Waiting) -> bool:
        return services.is_stalled(idea, now, days)

    def days_waiting(idea: services.Waiting) -> int:
        return (now - idea.status_changed_at).days

    def comment_links(idea_id: int) -> dict[str, Callable[[int], str]]:
        return {
            "edit": url_for_each("ideas.edit_comment", "comment_id", idea_id=idea_id),
            "remove": url_for_each("ideas.remove_comment", "comment_id", idea_id=idea_id),
        }

    return {
        "is_stalled": is_stalled,
        "days_waiting": days_waiting,
        "comment_links": comment_links,
        "stalled_days": days,
        "lens_help": {lens.value: lens.explanation for lens in Lens},
    }


# The list


def _filters_from(form: IdeaFilterForm, **fixed: object) -> IdeaFilters:
    return IdeaFilters(
        status=Status(form.status.data) if form.status.data else None,
        lens=Lens(form.lens.data) if form.lens.data else None,
        department_id=int(form.department.data) if form.department.data else None,
        kind=DepartmentKind(form.kind.data) if form.kind.data else None,
        beneficiary=form.beneficiary.data or None,
        q=form.q.data or None,
        sort=Sort(form.sort.data or Sort.VOTES),
        **fixed,  # type: ignore[arg-type]
    )


def _render_list(template: str, filters: IdeaFilters, **context: object) -> Rendered:
    """A list page, or just its next cards for htmx's "load more"."""
    after = request.args.get("after") or None
    try:
        page = queries.list_ideas(
            filters, current_user, after=after, limit=current_app.config["PAGE_SIZE"]
        )
    except RuleViolation as error:
        return render_error(400, error.message)
    if after and is_fragment_request():
        return render_template("ideas/_cards.html", page=page)
    return render_template(template, page=page, **context)


@bp.route("")
@login_required
def index() -> Rendered:
    departments = department_choices()
    form = IdeaFilterForm(request.args)
    form.department.choices = [SelectChoice("", "All departments")] + [
        SelectChoice(str(c.value), c.label) for c in departments
    ]
    form.beneficiary.choices = beneficiary_choices(departments, blank="Anyone")
    if not form.validate():
        return render_template("ideas/index.html", form=form, page=None), 400
    return _render_list("ideas/index.html", _filters_from(form), form=form)


@bp.route("/mine")
@login_required
def mine() -> Rendered:
    return _render_list("ideas/mine.html", IdeaFilters(sort=Sort.NEWEST, author_id=current_user.id))


@bp.route("/review")
@requires(can_review)
def review() -> Rendered:
    stalled = db.session.scalar(
        sa.select(sa.func.count(Idea.id)).where(
            Idea.status.in_(OPEN_STATUSES),
            Idea.status_changed_at < services.stalled_before(utcnow(), stalled_days()),
        )
    )
    filters = IdeaFilters(sort=Sort.OLDEST, open_only=True)
    return _render_list("ideas/review.html", filters, stalled_count=stalled)


# Submitting


def _idea_form() -> IdeaForm:
    form = IdeaForm(request.form if request.method == "POST" else MultiDict(request.args))
    form.beneficiary.choices = beneficiary_choices(department_choices(), blank=None)
    return form


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new() -> Response | Rendered:
    form = _idea_form()
    if request.method == "GET" or request.form.get("prefill") == "1":
        # A form to fill in, started empty or from fields another page posted (a reflection
        # posts its text rather than putting it in a URL); nothing is checked or saved yet.
        return render_template("ideas/new.html", form=form)
    if form.validate():
        beneficiary = (
            None
            if form.beneficiary.data == EXTERNAL
            else db.session.get_one(Department, int(form.beneficiary.data))
        )
        draft = services.IdeaDraft(
            title=form.title.data,
            problem=form.problem.data,
            proposal=form.proposal.data,
            lens=Lens(form.lens.data),
            beneficiary=beneficiary,
        )
        try:
            idea = services.submit_idea(current_user, draft)
            idea_submitted.send(idea, origin=form.origin.data or None)
        except RuleViolation as error:
            db.session.rollback()
            show_refusal(form, error, "title")
        else:
            db.session.commit()
            flash("Thank you — your idea is in. Managers review every idea.", "success")
            target = url_for("ideas.show", idea_id=idea.id)
            return hx_redirect(target) if is_htmx_request() else redirect(target, code=303)
    if is_fragment_request():
        return render_template("ideas/_form.html", form=form), 422
    return render_template("ideas/new.html", form=form), 422


# One idea


def _load(idea_id: int, *, with_people: bool = True) -> Idea:
    """The idea or a 404; without its author and departments for a vote, which needs none."""
    options = () if with_people else (lazyload("*"),)
    return db.get_or_404(Idea, idea_id, options=options)


def _story_page(idea: Idea, status: int = 200, **forms: object) -> Rendered:
    story = queries.idea_story(idea, current_user._get_current_object())
    status_form = forms.pop("status_form", None) or _status_form(idea)
    owner_form = forms.pop("owner_form", None) or OwnerForm(
        data={"owner": idea.owner.email if idea.owner else "", "version": idea.version}
    )
    return render_template(
        "ideas/show.html",
        story=story,
        idea=idea,
        vote_form=VoteForm(),
        comment_form=forms.pop("comment_form", None) or CommentForm(),
        status_form=status_form,
        owner_form=owner_form,
        **forms,
    ), status


def _status_form(idea: Idea, formdata: MultiDict | None = None) -> StatusForm:
    form = StatusForm(formdata, data={"version": idea.version})
    form.to.choices = [SelectChoice(s.value, s.label) for s in sorted(TRANSITIONS[idea.status])]
    return form


@bp.route("/<id:idea_id>")
@login_required
def show(idea_id: int) -> Rendered:
    return _story_page(_load(idea_id))


@bp.route("/<id:idea_id>/vote", methods=["POST"])
@login_required
def vote(idea_id: int) -> Response | Rendered:
    idea = _load(idea_id, with_people=False)
    form = VoteForm()
    if not form.validate_on_submit() or form.vote.data not in {"1", "0"}:
        return render_error(400, "The vote must be 1 (vote) or 0 (take it back).")
    try:
        voted = services.set_vote(current_user, idea, form.vote.data == "1")
    except RuleViolation as error:
        db.session.rollback()
        if is_fragment_request():
            return render_template(
                "ideas/_vote.html", idea=idea, voted=False, vote_form=form, message=error.message
            ), 409
        flash(error.message, "error")
        return redirect(url_for("ideas.show", idea_id=idea.id), code=303)
    if is_fragment_request():
        # Drawn before the commit, from what this transaction wrote: after it, the idea and
        # the voter would be read again, in a second transaction that on SQLite queues for
        # the write lock once more. If the commit fails, the error page replaces this.
        fragment = render_template("ideas/_vote.html", idea=idea, voted=voted, vote_form=VoteForm())
        db.session.commit()
        return fragment
    db.session.commit()
    return redirect(url_for("ideas.show", idea_id=idea.id, _anchor="vote"), code=303)


# Comments


def _comments_fragment(idea: Idea, form: CommentForm | None = None, status: int = 200) -> Rendered:
    story = queries.idea_story(idea, current_user._get_current_object())
    return render_template(
        "ideas/_comments.html", idea=idea, story=story, comment_form=form or CommentForm()
    ), status


@bp.route("/<id:idea_id>/comments", methods=["POST"])
@login_required
def comment(idea_id: int) -> Response | Rendered:
    idea = _load(idea_id)
    form = CommentForm()
    if form.validate_on_submit():
        try:
            services.add_comment(current_user, idea, form.body.data)
        except RuleViolation as error:
            db.session.rollback()
            show_refusal(form, error, "body")
        else:
            db.session.commit()
            if is_fragment_request():
                return _comments_fragment(idea)
            return redirect(url_for("ideas.show", idea_id=idea.id, _anchor="comments"), code=303)
    if is_fragment_request():
        return _comments_fragment(idea, form, 422)
    return _story_page(idea, 422, comment_form=form)


def _load_comment(idea_id: int, comment_id: int) -> Comment:
    comment = db.get_or_404(Comment, comment_id)
    if comment.idea_id != idea_id:
        abort(404)
    return comment


@bp.route("/<id:idea_id>/comments/<id:comment_id>/edit", methods=["GET", "POST"])
@login_required
def edit_comment(idea_id: int, comment_id: int) -> Response | Rendered:
    comment = _load_comment(idea_id, comment_id)
    if not can_change_comment(current_user, comment):
        abort(403)
    form = EditCommentForm(data={"body": comment.body})
    if form.validate_on_submit():
        try:
            services.edit_comment(current_user, comment, form.body.data)
        except RuleViolation as error:
            db.session.rollback()
            show_refusal(form, error, "body")
        else:
            db.session.commit()
            if is_fragment_request():
                return render_template(
                    "ideas/_comment.html", comment=queries.comment_item(comment.id), idea_id=idea_id
                )
            return redirect(
                url_for("ideas.show", idea_id=idea_id, _anchor=f"comment-{comment.id}"), code=303
            )
    status = 422 if form.errors else 200
    template = "ideas/_comment_edit.html" if is_fragment_request() else "ideas/comment_edit.html"
    return render_template(template, form=form, comment=comment, idea_id=idea_id), status


@bp.route("/<id:idea_id>/comments/<id:comment_id>/remove", methods=["POST"])
@login_required
def remove_comment(idea_id: int, comment_id: int) -> Response | Rendered:
    comment = _load_comment(idea_id, comment_id)
    if not can_remove_comment(current_user, comment):
        abort(403)
    services.remove_comment(current_user, comment)
    db.session.commit()
    if is_fragment_request():
        return render_template(
            "ideas/_comment.html", comment=queries.comment_item(comment.id), idea_id=idea_id
        )
    return redirect(
        url_for("ideas.show", idea_id=idea_id, _anchor=f"comment-{comment.id}"), code=303
    )


# Review


def _without_version() -> Rendered:
    """The review forms carry the idea's version in a hidden field; a form without it (or with
    a broken one) was not sent by our page."""
    return render_error(
        400, "This form came without the idea's version. Reload the idea's page and try again."
    )


def _changed_meanwhile() -> Rendered:
    return render_error(
        409,
        "Someone else changed this idea since you opened it. Reload it to see what changed, "
        "then decide again.",
    )


@bp.route("/<id:idea_id>/status", methods=["POST"])
@requires(can_review)
def change_status(idea_id: int) -> Response | Rendered:
    idea = _load(idea_id)
    form = _status_form(idea, request.form)
    if form.validate_on_submit():
        if form.version.data != idea.version:
            return _changed_meanwhile()
        merge_into = None
        if form.to.data == Status.MERGED and form.merge_into.data:
            merge_into = db.session.get(Idea, form.merge_into.data)
            if merge_into is None:
                form.merge_into.errors.append(f"There is no idea #{form.merge_into.data}.")
        if not form.errors:
            decision = services.Decision(
                to=Status(form.to.data),
                note=form.note.data or "",
                implemented_on=form.implemented_on.data,
                merge_into=merge_into,
            )
            try:
                services.change_status(current_user, idea, decision)
                db.session.commit()
            except RuleViolation as error:
                db.session.rollback()
                show_refusal(form, error, "to")
            except (StaleDataError, IntegrityError):
                db.session.rollback()
                return _changed_meanwhile()
            else:
                flash(f"Idea #{idea.id} is now {idea.status.label.lower()}.", "success")
                return redirect(url_for("ideas.show", idea_id=idea.id, _anchor="history"), code=303)
    db.session.rollback()
    if form.version.errors:
        return _without_version()
    return _story_page(_load(idea_id), 422, status_form=form)


@bp.route("/<id:idea_id>/owner", methods=["POST"])
@requires(can_review)
def set_owner(idea_id: int) -> Response | Rendered:
    idea = _load(idea_id)
    form = OwnerForm()
    if form.validate_on_submit():
        if form.version.data != idea.version:
            return _changed_meanwhile()
        owner: User | None = None
        if form.owner.data and form.owner.data.strip():
            owner = find_user(form.owner.data)
            if owner is None:
                form.owner.errors.append(f"Nobody has the email address {form.owner.data.strip()}.")
        if not form.errors:
            try:
                services.set_owner(current_user, idea, owner)
                db.session.commit()
            except RuleViolation as error:
                db.session.rollback()
                show_refusal(form, error, "owner")
            except StaleDataError:
                db.session.rollback()
                return _changed_meanwhile()
            else:
                flash(f"Owner set to {owner.name}." if owner else "Owner cleared.", "success")
                return redirect(url_for("ideas.show", idea_id=idea.id), code=303)
    if form.version.errors:
        return _without_version()
    return _story_page(idea, 422, owner_form=form)
