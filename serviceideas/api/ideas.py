"""The API's ideas (docs/product.md, "Resources"): the list with the ideas page's filters, sorts
and keyset pages; one idea with its history; submitting; voting; comments.

Each view parses (api/idea_schemas.py), calls the query, policy or service the pages call, and
answers; a write is committed, or refused with nothing stored (problem details).
"""

from __future__ import annotations

from collections.abc import Callable
from http import HTTPStatus
from typing import Any, TypeVar

import marshmallow as ma
from flask import Response, url_for
from flask.typing import ResponseReturnValue
from flask.views import MethodView
from flask_babel import gettext

from serviceideas.api import paging, problems, resource_blueprint
from serviceideas.api.auth import acting_user, requires
from serviceideas.api.idea_schemas import (
    IDEMPOTENCY_KEY,
    CommentListSchema,
    CommentSchema,
    IdeaListArgsSchema,
    IdeaPageSchema,
    IdeaSchema,
    IdempotencySchema,
    NewCommentSchema,
    NewIdeaSchema,
    VoteStateSchema,
    comment_data,
    idea_data,
    summary_data,
)
from serviceideas.api.models import Scope
from serviceideas.errors import RuleViolation
from serviceideas.extensions import db
from serviceideas.ideas import queries, services
from serviceideas.ideas.models import Idea
from serviceideas.ideas.queries import IdeaFilters, Sort
from serviceideas.people.models import Department
from serviceideas.urls import absolute
from serviceideas.writes import Outcome, commit_or_refuse

blp = resource_blueprint(
    "api_ideas",
    __name__,
    "Ideas: the list (the ideas page's filters, sorts and pages), one idea with its history,"
    " submitting, votes and comments.",
)

T = TypeVar("T")

# The services' (and the forms') field names, as the API's bodies name them.
FIELDS = {"journey_stage": "journey_stage_id"}


def _idea(idea_id: int) -> Idea:
    idea: Idea = db.get_or_404(Idea, idea_id)
    return idea


def _written(action: Callable[[], T]) -> Outcome[T]:
    """Run one service call and commit it, or roll it back (nothing stored) when a rule
    refuses it: the view answers the refusal."""
    return commit_or_refuse(action, flash_refusal=False)


def _refusal(outcome: Outcome[Any]) -> RuleViolation:
    """Why a write that was not kept was refused."""
    if outcome.refusal is None:
        raise RuntimeError("the write was kept")  # a bug in the view
    return outcome.refusal


def _refused(error: RuleViolation, status: int = HTTPStatus.UNPROCESSABLE_ENTITY) -> Response:
    """A rule's refusal as a problem, its message under the body's field it is about."""
    field = FIELDS.get(error.field, error.field) if error.field else None
    return problems.refusal(RuleViolation(error.message, field), status)


def _idea_url(idea_id: int) -> str:
    return absolute(url_for("api_ideas.IdeaById", idea_id=idea_id))


Answer = tuple[dict[str, Any], int, dict[str, str]]


def _new_idea(idea: Idea) -> Answer:
    """An idea just submitted (or submitted before, for a replay), as the caller may see it,
    with its address."""
    return _idea_data(idea), HTTPStatus.CREATED, {"Location": _idea_url(idea.id)}


def _idea_data(idea: Idea) -> dict[str, Any]:
    """The idea as the caller may see it."""
    return idea_data(queries.idea_story(idea, acting_user()))


def _filters(args: dict[str, Any]) -> IdeaFilters:
    """The ideas page's filters from the query: a search with no sort chosen is sorted by best
    match, as on the page."""
    searched = bool(args["q"] and args["q"].strip())
    default = Sort.BEST_MATCH if searched else Sort.VOTES
    return IdeaFilters(
        status=args["status"],
        lens=args["lens"],
        department_id=args["department_id"],
        kind=args["kind"],
        beneficiary=args["beneficiary"],
        q=args["q"],
        sort=Sort(args["sort"]) if args["sort"] else default,
        open_only=args["open_only"],
        author_id=args["author_id"],
        journey_stage_id=args["journey_stage_id"],
        compass=args["compass"],
    )


@blp.route("/ideas")
class Ideas(MethodView):
    @requires(Scope.READ)
    @blp.arguments(IdeaListArgsSchema, location="query", as_kwargs=True, unknown=ma.RAISE)
    @blp.response(HTTPStatus.OK, IdeaPageSchema)
    def get(self, **args: Any) -> ResponseReturnValue:
        """The ideas, as the ideas page lists them: filtered, sorted, a page at a time.

        An author who hid their name is shown as on the page: "Name not shown", no id, to
        colleagues; managers, admins and the author see it."""
        try:
            page = queries.list_ideas(
                _filters(args),
                acting_user(),
                after=args["after"],
                limit=paging.page_size(args),
            )
        except RuleViolation as error:  # a broken cursor: a read, nothing to roll back
            return problems.refusal(error)
        return paging.paged([summary_data(card) for card in page.cards], page.next_cursor)

    @requires(Scope.WRITE)
    @blp.arguments(IdempotencySchema, location="headers")
    @blp.arguments(NewIdeaSchema)
    @blp.response(HTTPStatus.CREATED, IdeaSchema)
    def post(self, headers: dict[str, Any], new: dict[str, Any]) -> ResponseReturnValue:
        """Submit an idea, as the submit form does. Send an `Idempotency-Key` header to make a
        retry safe: the same key and content again submit nothing new and answer the first
        idea (with `Idempotent-Replayed: true`); the same key with other content is refused."""
        beneficiary = None
        if new["beneficiary_department_id"] is not None:
            beneficiary = db.session.get(Department, new["beneficiary_department_id"])
            if beneficiary is None:
                return problems.refusal(
                    RuleViolation(
                        gettext("There is no such department."), "beneficiary_department_id"
                    )
                )
        author = acting_user()
        draft = services.IdeaDraft(
            title=new["title"],
            problem=new["problem"],
            proposal=new["proposal"],
            lens=new["lens"],
            beneficiary=beneficiary,
            journey_stage_id=new["journey_stage_id"],
            compass=new["compass"],
            submission_token=headers["idempotency_key"],
            name_hidden=new["name_hidden"],
        )
        submitted = _written(lambda: services.submit_idea(author, draft))
        if submitted:
            return _new_idea(submitted.kept)
        refusal = _refusal(submitted)
        if isinstance(refusal, services.AlreadySubmitted):
            body, status, headers_out = _new_idea(_idea(refusal.record_id))
            return body, status, {**headers_out, "Idempotent-Replayed": "true"}
        if isinstance(refusal, services.SentBeforeWithOtherText):
            return problems.refusal(
                RuleViolation(
                    gettext(
                        "This %(header)s already submitted idea #%(number)s with other content:"
                        " send a new key to submit this as another idea.",
                        header=IDEMPOTENCY_KEY,
                        number=refusal.first_id,
                    ),
                    IDEMPOTENCY_KEY,
                )
            )
        return _refused(refusal)


@blp.route("/ideas/<id:idea_id>")
class IdeaById(MethodView):
    @requires(Scope.READ)
    @blp.response(HTTPStatus.OK, IdeaSchema)
    def get(self, idea_id: int) -> ResponseReturnValue:
        """One idea with its history, as its page shows it (a merged idea too: it says where
        it went)."""
        return _idea_data(_idea(idea_id))


def _vote(idea_id: int, wanted: bool) -> ResponseReturnValue:
    """Vote, or take the vote back: idempotent. Refused (409, nothing changed) on one's own
    idea and once voting has closed, as on the idea's page."""
    idea = _idea(idea_id)
    voter = acting_user()
    voted = _written(lambda: services.set_vote(voter, idea, wanted))
    if voted.refusal is not None:
        return problems.refusal(voted.refusal, HTTPStatus.CONFLICT)
    return {"voted": voted.kept, "vote_count": idea.vote_count}


@blp.route("/ideas/<id:idea_id>/vote")
class IdeaVote(MethodView):
    @requires(Scope.WRITE)
    @blp.response(HTTPStatus.OK, VoteStateSchema)
    @blp.alt_response(HTTPStatus.CONFLICT, response=HTTPStatus.CONFLICT.name)
    def put(self, idea_id: int) -> ResponseReturnValue:
        """Vote for the idea (once: voting again changes nothing)."""
        return _vote(idea_id, True)

    @requires(Scope.WRITE)
    @blp.response(HTTPStatus.OK, VoteStateSchema)
    @blp.alt_response(HTTPStatus.CONFLICT, response=HTTPStatus.CONFLICT.name)
    def delete(self, idea_id: int) -> ResponseReturnValue:
        """Take your vote back (none to take back changes nothing)."""
        return _vote(idea_id, False)


@blp.route("/ideas/<id:idea_id>/comments")
class IdeaComments(MethodView):
    @requires(Scope.READ)
    @blp.response(HTTPStatus.OK, CommentListSchema)
    def get(self, idea_id: int) -> ResponseReturnValue:
        """The idea's comments, oldest first: all of them, as its page shows them, in one page
        (links.next is null)."""
        idea = _idea(idea_id)
        return paging.paged([comment_data(item) for item in queries.comments_on(idea.id)], None)

    @requires(Scope.WRITE)
    @blp.arguments(IdempotencySchema, location="headers")
    @blp.arguments(NewCommentSchema)
    @blp.response(HTTPStatus.CREATED, CommentSchema)
    def post(
        self, headers: dict[str, Any], new: dict[str, Any], idea_id: int
    ) -> ResponseReturnValue:
        """Comment on the idea. An `Idempotency-Key` header makes a retry post it once."""
        idea = _idea(idea_id)
        author = acting_user()
        token = headers["idempotency_key"]
        added = _written(
            lambda: services.add_comment(author, idea, new["body"], submission_token=token)
        )
        if added:
            return comment_data(queries.comment_item(added.kept.id))
        refusal = _refusal(added)
        if isinstance(refusal, services.AlreadySubmitted):
            return comment_data(queries.comment_item(refusal.record_id)), {
                "Idempotent-Replayed": "true"
            }
        if isinstance(refusal, services.CommentSentBeforeWithOtherText):
            return problems.refusal(
                RuleViolation(
                    gettext(
                        "This %(header)s already posted comment #%(number)s, on this or another"
                        " idea, with other text: send a new key to post this as another comment.",
                        header=IDEMPOTENCY_KEY,
                        number=refusal.first_id,
                    ),
                    IDEMPOTENCY_KEY,
                )
            )
        return _refused(refusal)
