"""What can be done with ideas: submit, vote, comment, review, merge. Functions flush, never commit.

Every function takes the acting person and, where time matters, `now` (tests and the demo pass
it; otherwise it is the current time).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal

import sqlalchemy as sa
from flask_babel import gettext, lazy_gettext
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError

from serviceideas.database import (
    insert_ignoring_duplicates,
    utcnow,
    violates_check,
    violates_unique,
)
from serviceideas.errors import Refusals, RuleViolation, required_text
from serviceideas.extensions import db
from serviceideas.ideas import search
from serviceideas.ideas.models import (
    COMMENT_MAX,
    NEXT_STEP_MAX,
    NOTE_MAX,
    OPEN_STATUSES,
    TEXT_MAX,
    TITLE_MAX,
    TRANSITIONS,
    VOTABLE_STATUSES,
    Comment,
    Compass,
    Duplicate,
    Follower,
    Idea,
    Lens,
    ProgressNote,
    Status,
    StatusChange,
    Vote,
)
from serviceideas.ideas.policies import (
    can_change_comment,
    can_record_progress,
    can_remove_comment,
    can_review,
    can_show_name,
)
from serviceideas.ideas.signals import comment_added, idea_submitted, owner_named, status_changed
from serviceideas.ideas.stage_services import offered_stage
from serviceideas.people.models import Department, User

# Submitting


@dataclass(frozen=True)
class IdeaDraft:
    title: str
    problem: str
    proposal: str
    lens: Lens
    beneficiary: Department | None  # None: external customers
    # The customer's side, both optional (docs/product.md, "Journey stages and the compass"):
    # the id of a stage that is not retired, and a compass point.
    journey_stage_id: int | None = None
    compass: Compass | None = None
    # What the idea grew from, as the submit form says (e.g. "module:12"), or None.
    origin: str | None = None
    # The token of the form it came in (serviceideas/submissions.py), or None.
    submission_token: str | None = None
    # Colleagues do not see the author's name (docs/product.md, "Speaking up safely").
    name_hidden: bool = False


class AlreadySubmitted(RuleViolation):
    """The form that sent this idea (or comment) was sent before, and that first request
    recorded it: nothing new is recorded, and the person is shown the first one."""

    def __init__(self, record_id: int) -> None:
        super().__init__(gettext("You sent this already; nothing was added twice."))
        self.record_id = record_id


class SentBeforeWithOtherText(RuleViolation):
    """This form already sent an idea, and now comes back with other text (the person went
    back and changed it): neither the first idea nor what they typed is lost or merged."""

    def __init__(self, first_id: int) -> None:
        super().__init__(
            gettext(
                "This form already sent idea #%(number)d. To submit this text as another idea, "
                "send the form again.",
                number=first_id,
            ),
            "title",
        )
        self.first_id = first_id


class CommentSentBeforeWithOtherText(RuleViolation):
    """This comment form already posted a comment, and now comes back with other text or on
    another idea: the first comment stays, and what was typed is not dropped as if it were it."""

    def __init__(self, first_id: int) -> None:
        super().__init__(
            gettext(
                "This form already posted a comment. To post this text as another comment, send"
                " the form again."
            ),
            "body",
        )
        self.first_id = first_id


def submit_idea(author: User, draft: IdeaDraft, *, now: datetime | None = None) -> Idea:
    """Record a new idea from `author`, credited to the department they are in today, and tell
    other features where it grew from (`idea_submitted`).

    A draft whose `submission_token` an earlier idea of the author's already carries is that
    same form sent again (a double click, a resent request): refused with AlreadySubmitted,
    naming the first idea, and nothing is recorded or told twice. The database's unique
    constraint decides when both requests arrive at once. The same form sent again with other
    text (edited after going back) is refused beside the title instead: the view gives the
    form a new token, so sending it once more submits it as a new idea.
    """
    now = now or utcnow()
    stage = offered_stage(draft.journey_stage_id)
    idea = Idea(
        title=" ".join(
            required_text(draft.title, "title", gettext("the title"), TITLE_MAX).split()
        ),
        problem=required_text(draft.problem, "problem", gettext("the problem"), TEXT_MAX),
        proposal=required_text(
            draft.proposal, "proposal", gettext("the proposed change"), TEXT_MAX
        ),
        lens=draft.lens,
        journey_stage=stage,
        compass=draft.compass,
        beneficiary_department=draft.beneficiary,
        author=author,
        author_department_id=author.department_id,
        status=Status.SUBMITTED,
        created_at=now,
        status_changed_at=now,
        submission_token=draft.submission_token,
        name_hidden=draft.name_hidden,
    )
    if draft.submission_token is not None:
        _refuse_if_sent_before(idea)
    try:
        with db.session.begin_nested():
            db.session.add(idea)
            db.session.flush()
    except IntegrityError as error:
        if draft.submission_token is None or not violates_unique(error):
            raise
        _refuse_if_sent_before(idea)  # the other request has committed: it is found now
        raise  # not found after all: not this constraint, so a bug
    db.session.add(
        StatusChange(
            idea_id=idea.id, actor_id=author.id, to_status=Status.SUBMITTED, changed_at=now
        )
    )
    _follow_automatically(author, idea, now)
    _store_duplicates(idea.id, idea.title, idea.problem)
    db.session.flush()
    idea_submitted.send(idea, origin=draft.origin)
    return idea


def _store_duplicates(idea_id: int, title: str, problem: str) -> int:
    """Store the idea's likely duplicates among older ideas (docs/product.md, "Similar ideas
    and duplicates"): a few statements, whatever the company's size. Returns how many."""
    found = search.duplicates_of(idea_id, title, problem)
    if found:
        db.session.execute(
            sa.insert(Duplicate),
            [{"idea_id": idea_id, "duplicate_id": other, "score": score} for other, score in found],
        )
    return len(found)


def find_duplicates(after: int = 0, *, batch: int = 200) -> tuple[int | None, int]:
    """Judge afresh the likely duplicates of the next `batch` ideas numbered above `after`,
    as if each had just been written (`flask find-duplicates`, for ideas written before
    duplicates were stored). Returns the last idea judged (None when there were none) and
    how many pairs were stored. Running it again gives the same pairs."""
    ideas = db.session.execute(
        sa.select(Idea.id, Idea.title, Idea.problem)
        .where(Idea.id > after)
        .order_by(Idea.id)
        .limit(batch)
    ).all()
    if not ideas:
        return None, 0
    db.session.execute(sa.delete(Duplicate).where(Duplicate.idea_id.in_([i.id for i in ideas])))
    pairs = sum(_store_duplicates(idea_id, title, problem) for idea_id, title, problem in ideas)
    db.session.flush()
    return ideas[-1].id, pairs


def show_author_name(author: User, idea: Idea) -> None:
    """The author shows their name on an idea they sent with it hidden (docs/product.md,
    "Speaking up safely"). There is no way back: colleagues may have seen it by then. Showing
    a name already shown changes nothing. One conditional UPDATE, without the idea's version:
    a name shown is no reason to refuse a manager's decision taken at the same moment."""
    if not can_show_name(author, idea):
        raise RuleViolation(gettext("Only the person who wrote an idea can show their name on it."))
    db.session.execute(
        sa.update(Idea)
        .where(Idea.id == idea.id, Idea.author_id == author.id, Idea.name_hidden.is_(True))
        .values(name_hidden=False)
        .execution_options(synchronize_session=False)
    )
    set_committed_value(idea, "name_hidden", False)


def _refuse_if_sent_before(idea: Idea) -> None:
    """Refuse `idea` (not yet recorded) if its author already sent an idea with its token:
    as that same idea if every field submitted is the same, else as other text (any field:
    a changed lens or a hidden name answered with the first idea would be dropped unseen)."""
    first = db.session.execute(
        sa.select(
            Idea.id,
            Idea.title,
            Idea.problem,
            Idea.proposal,
            Idea.lens,
            Idea.beneficiary_department_id,
            Idea.journey_stage_id,
            Idea.compass,
            Idea.name_hidden,
        ).where(
            Idea.author_id == idea.author.id,
            Idea.submission_token == idea.submission_token,
        )
    ).first()
    if first is None:
        return
    beneficiary = idea.beneficiary_department
    stage = idea.journey_stage
    sent = (
        idea.title,
        idea.problem,
        idea.proposal,
        idea.lens,
        beneficiary.id if beneficiary is not None else None,
        stage.id if stage is not None else None,
        idea.compass,
        idea.name_hidden,
    )
    if tuple(first)[1:] != sent:
        raise SentBeforeWithOtherText(first.id)
    raise AlreadySubmitted(first.id)


# Votes

# The votes table itself, for INSERT … ON CONFLICT DO NOTHING (the model's __table__ is typed
# as any FROM clause).
VOTES = Vote.metadata.tables[Vote.__tablename__]


def set_vote(voter: User, idea: Idea, wanted: bool, *, now: datetime | None = None) -> bool:
    """Make `voter`'s vote on `idea` be `wanted` (idempotent, so a double click is harmless).

    The count is moved by the database in the same statement that checks the idea is still
    open for votes, so a vote can neither be counted twice nor land on a closed idea.
    Returns whether the voter's vote now stands.
    """
    if voter.id == idea.author_id:
        raise RuleViolation(gettext("You cannot vote on your own idea."))
    if not idea.status.accepts_votes:
        raise RuleViolation(
            gettext("Voting has closed: this idea is %(status)s.", status=idea.status.in_sentence)
        )
    if wanted:
        added = db.session.execute(
            insert_ignoring_duplicates(VOTES, db.session.get_bind().dialect.name)
            .values(idea_id=idea.id, user_id=voter.id, created_at=now or utcnow())
            .returning(Vote.idea_id)  # no row: already voted, the primary key said so
        ).first()
        if added:
            _move_count(idea, +1)
            _follow_automatically(voter, idea, now or utcnow())
    else:
        removed = db.session.execute(
            sa.delete(Vote)
            .where(Vote.idea_id == idea.id, Vote.user_id == voter.id)
            .returning(Vote.idea_id)  # no row: there was no vote to take back
        ).first()
        if removed:
            _move_count(idea, -1)
    return wanted


def _move_count(idea: Idea, step: int) -> None:
    count = db.session.scalar(
        sa.update(Idea)
        .where(Idea.id == idea.id, Idea.status.in_(VOTABLE_STATUSES))
        .values(vote_count=Idea.vote_count + step)
        .returning(Idea.vote_count)
        .execution_options(synchronize_session=False)
    )
    if count is None:
        raise RuleViolation(gettext("Voting on this idea has closed."))
    set_committed_value(idea, "vote_count", count)  # as read: not a change to write back


# Followers (docs/product.md, "Following an idea")

# The followers table itself, for INSERT … ON CONFLICT DO NOTHING, as VOTES above.
FOLLOWERS = Follower.metadata.tables[Follower.__tablename__]


def _insert_follower() -> sa.Insert:
    return insert_ignoring_duplicates(FOLLOWERS, db.session.get_bind().dialect.name)


def _follow_automatically(person: User, idea: Idea, now: datetime) -> None:
    """The author, a voter or a commenter follows the idea. Nothing changes for someone who
    follows it already, or who unfollowed it: an explicit choice sticks."""
    db.session.execute(
        _insert_follower().values(idea_id=idea.id, user_id=person.id, followed_at=now)
    )


def _followers_follow(target: Idea, merged: Idea) -> None:
    """The followers of an idea merged into `target` follow `target` too (their votes moved
    there), in one statement; anyone who unfollowed `target` stays unfollowed."""
    db.session.execute(
        _insert_follower().from_select(
            ["idea_id", "user_id", "followed_at", "automatic"],
            sa.select(
                sa.literal(target.id), Follower.user_id, sa.literal(utcnow()), sa.true()
            ).where(Follower.idea_id == merged.id, Follower.unfollowed_at.is_(None)),
        )
    )


def set_following(person: User, idea: Idea, wanted: bool, *, now: datetime | None = None) -> bool:
    """Make `person` follow `idea`, or stop following it (idempotent: a double click is
    harmless). An unfollow is remembered, so voting or commenting later does not make them
    follow again. Returns whether they now follow it."""
    if not person.is_active:
        raise RuleViolation(gettext("Your account is deactivated."))
    now = now or utcnow()
    db.session.execute(
        _insert_follower().values(
            idea_id=idea.id,
            user_id=person.id,
            followed_at=now,
            automatic=False,
            unfollowed_at=None if wanted else now,
        )
    )  # nothing when they have a row already: then the UPDATE below decides
    mine = sa.update(Follower).where(Follower.idea_id == idea.id, Follower.user_id == person.id)
    if wanted:
        mine = mine.where(Follower.unfollowed_at.is_not(None)).values(
            unfollowed_at=None, automatic=False, followed_at=now
        )
    else:
        mine = mine.where(Follower.unfollowed_at.is_(None)).values(unfollowed_at=now)
    db.session.execute(mine.execution_options(synchronize_session=False))
    return wanted


# Comments


def add_comment(
    author: User,
    idea: Idea,
    body: str,
    *,
    submission_token: str | None = None,
    now: datetime | None = None,
) -> Comment:
    """Add `author`'s comment to `idea` and tell whoever follows it (`comment_added`).

    A comment form sent twice (its `submission_token` already on a comment of the author's)
    adds nothing the second time: refused with AlreadySubmitted, as for ideas; sent again on
    another idea or with other text, refused with CommentSentBeforeWithOtherText.
    """
    comment = Comment(
        idea_id=idea.id,
        author=author,
        body=required_text(body, "body", gettext("your comment"), COMMENT_MAX),
        created_at=now or utcnow(),
        submission_token=submission_token,
    )
    if submission_token is not None:
        _refuse_comment_sent_before(comment)
    try:
        with db.session.begin_nested():
            db.session.add(comment)
            db.session.flush()
    except IntegrityError as error:
        if submission_token is None or not violates_unique(error):
            raise
        _refuse_comment_sent_before(comment)
        raise
    _follow_automatically(author, idea, comment.created_at)
    comment_added.send(comment, idea=idea)
    return comment


def _refuse_comment_sent_before(comment: Comment) -> None:
    """Refuse `comment` (not yet recorded) if its author already posted one with its token:
    as that same comment if on the same idea with the same text, else as other text."""
    first = db.session.execute(
        sa.select(Comment.id, Comment.idea_id, Comment.body).where(
            Comment.author_id == comment.author.id,
            Comment.submission_token == comment.submission_token,
        )
    ).first()
    if first is None:
        return
    if (first.idea_id, first.body) != (comment.idea_id, comment.body):
        raise CommentSentBeforeWithOtherText(first.id)
    raise AlreadySubmitted(first.id)


def edit_comment(editor: User, comment: Comment, body: str) -> None:
    if not can_change_comment(editor, comment):
        raise RuleViolation(gettext("Only its author can edit a comment."))
    comment.body = required_text(body, "body", gettext("your comment"), COMMENT_MAX)
    comment.edited_at = utcnow()
    db.session.flush()


def remove_comment(remover: User, comment: Comment) -> None:
    """Soft delete: the page shows who removed it; the text stays for the record."""
    if not can_remove_comment(remover, comment):
        raise RuleViolation(gettext("You cannot remove this comment."))
    if comment.removed_at is None:
        comment.removed_at = utcnow()
        comment.removed_by_id = remover.id
        db.session.flush()


# The review pipeline


class ChangedMeanwhile(RuleViolation):
    """Another manager changed what this decision is about since the reviewer's page showed
    it (or won a race to change it): the reviewer must see the idea as it is now and decide
    again. The view answers 409 with the idea as it stands and the reviewer's input kept."""

    def __init__(self, message: str) -> None:
        super().__init__(message)


STATUS_CHANGED_MEANWHILE = lazy_gettext(
    "Someone else changed this idea's status since you opened it; your decision was not saved."
)
OWNER_CHANGED_MEANWHILE = lazy_gettext(
    "Someone else changed this idea's owner since you opened it; your choice was not saved."
)


def _check_history_unchanged(idea: Idea, seen_change: int | None) -> None:
    """Refuse a decision taken on a page whose last step of the history (`seen_change`, 0 for
    none) is no longer the last: the status moved on since. An owner change does not count."""
    if seen_change is None:
        return
    last = db.session.scalar(
        sa.select(sa.func.coalesce(sa.func.max(StatusChange.id), 0)).where(
            StatusChange.idea_id == idea.id
        )
    )
    if last != seen_change:
        raise ChangedMeanwhile(str(STATUS_CHANGED_MEANWHILE))


def _flush_unless_changed_meanwhile() -> None:
    """Flush a reviewer's status change; the version column (StaleDataError) or the history's
    legal-step CHECK (IntegrityError) says when a concurrent decision got there first. Only
    status changes move the version: the owner is set by a conditional UPDATE of its own.

    No savepoint: the whole decision is void then, and the caller rolls it all back (as
    `commit_or_refuse` does with any refusal)."""
    try:
        db.session.flush()
    except StaleDataError:
        raise ChangedMeanwhile(str(STATUS_CHANGED_MEANWHILE)) from None
    except IntegrityError as error:
        if not violates_check(error, "legal_transition"):
            raise  # not a race: a bug, which must not pass as "someone else changed it"
        raise ChangedMeanwhile(str(STATUS_CHANGED_MEANWHILE)) from None


def _evidence_refusals(
    idea: Idea, note: str, implemented_on: date | None, now: datetime
) -> list[RuleViolation]:
    """What is missing or wrong in the evidence that `idea` was put into practice (what
    changed, and when): every piece at once, each for its own field."""
    refusals: list[RuleViolation] = []
    if not note:
        refusals.append(RuleViolation(gettext("Say what changed and what value it added."), "note"))
    if implemented_on is None:
        refusals.append(
            RuleViolation(gettext("Give the date it was put into practice."), "implemented_on")
        )
    # "Today" somewhere on Earth: a manager east of UTC may already be on tomorrow.
    elif implemented_on > (now + timedelta(hours=14)).date():
        refusals.append(
            RuleViolation(
                gettext("The implementation date cannot be in the future."), "implemented_on"
            )
        )
    elif implemented_on < idea.created_at.date():
        refusals.append(
            RuleViolation(
                gettext("The implementation date cannot be before the idea was submitted."),
                "implemented_on",
            )
        )
    return refusals


@dataclass(frozen=True)
class Decision:
    to: Status
    note: str = ""
    implemented_on: date | None = None
    merge_into: Idea | None = None
    # The number a reviewer typed for the idea to merge into, when `merge_into` is not given:
    # looked up only once the decision is known to be taken on the idea as it stands.
    merge_into_number: int | None = None


def change_status(
    reviewer: User,
    idea: Idea,
    decision: Decision,
    *,
    seen_change: int | None = None,
    now: datetime | None = None,
) -> StatusChange:
    """Move `idea` one step through the pipeline (docs/product.md, "The pipeline"), and record
    it.

    The only place a status changes. Refuses what the pipeline does not allow; the history
    table's CHECK and the idea's version column stop anything that slips past. A decision
    taken on a page whose history ended at another step than `seen_change` (the id of the last
    StatusChange it showed, 0 for none), or that loses a race with another manager's decision,
    is refused with ChangedMeanwhile (the view answers 409) before anything else is checked:
    what was chosen may make no sense any more. A change of owner meanwhile does not matter.
    """
    now = now or utcnow()
    if not can_review(reviewer):
        raise RuleViolation(gettext("Only managers can change the status of an idea."))
    _check_history_unchanged(idea, seen_change)
    source, target = idea.status, decision.to
    if target not in TRANSITIONS[source]:
        allowed = ", ".join(s.in_sentence for s in sorted(TRANSITIONS[source]))
        raise RuleViolation(
            gettext(
                "An idea that is %(source)s cannot become %(target)s (it can become: %(allowed)s).",
                source=source.in_sentence,
                target=target.in_sentence,
                allowed=allowed or gettext("nothing"),
            ),
            "to",
        )
    note = (decision.note or "").strip()
    if len(note) > NOTE_MAX:
        raise RuleViolation(
            gettext("Keep the note to %(maximum)d characters.", maximum=NOTE_MAX), "note"
        )

    if target is Status.DECLINED and not note:
        raise RuleViolation(
            gettext("Say why the idea is declined: the author and everyone will read it."), "note"
        )
    if target is Status.IMPLEMENTED:
        Refusals.raise_any(_evidence_refusals(idea, note, decision.implemented_on, now))
        idea.implemented_on = decision.implemented_on
        idea.implementation_note = note
    if target is Status.MERGED:
        _merge(idea, decision.merge_into or _idea_numbered(decision.merge_into_number))

    idea.status = target
    idea.status_changed_at = now
    change = StatusChange(
        idea_id=idea.id,
        actor_id=reviewer.id,
        from_status=source,
        to_status=target,
        note=note,
        changed_at=now,
    )
    db.session.add(change)
    _flush_unless_changed_meanwhile()
    status_changed.send(change, idea=idea)
    return change


def _idea_numbered(number: int | None) -> Idea | None:
    """The idea a reviewer named by its number, None if they named none; refused if there is
    no such idea."""
    if number is None:
        return None
    idea = db.session.get(Idea, number)
    if idea is None:
        raise RuleViolation(gettext("There is no idea #%(number)d.", number=number), "merge_into")
    return idea


def _merge(idea: Idea, target: Idea | None) -> None:
    """Move votes to `target`, counting each person once; comments stay on `idea`."""
    if target is None:
        raise RuleViolation(gettext("Choose the idea to merge this one into."), "merge_into")
    if target.id == idea.id:
        raise RuleViolation(gettext("An idea cannot be merged into itself."), "merge_into")
    if target.status is Status.MERGED and target.merged_into_id is not None:
        # Point to where the duplicates went, rather than only saying no.
        raise RuleViolation(
            gettext(
                "Idea #%(number)d was itself merged into #%(merged_into)d: merge into that one.",
                number=target.id,
                merged_into=target.merged_into_id,
            ),
            "merge_into",
        )
    if target.status not in OPEN_STATUSES:
        raise RuleViolation(
            gettext(
                "Idea #%(number)d is %(status)s: merge into an open idea.",
                number=target.id,
                status=target.status.in_sentence,
            ),
            "merge_into",
        )
    # Lock the target while checking it is still open, so a decline racing this merge
    # cannot leave votes on a closed idea.
    still_open = db.session.execute(
        sa.update(Idea)
        .where(Idea.id == target.id, Idea.status.in_(OPEN_STATUSES))
        .values(vote_count=Idea.vote_count)
        .returning(Idea.id)
        .execution_options(synchronize_session=False)
    ).first()
    if not still_open:
        raise RuleViolation(
            gettext("Idea #%(number)d was closed a moment ago.", number=target.id), "merge_into"
        )
    moved = insert_ignoring_duplicates(VOTES, db.session.get_bind().dialect.name).from_select(
        ["idea_id", "user_id", "created_at"],
        sa.select(sa.literal(target.id), Vote.user_id, Vote.created_at).where(
            Vote.idea_id == idea.id, Vote.user_id != target.author_id
        ),
    )
    db.session.execute(moved)  # people who voted on both are counted once: the key says so
    db.session.execute(sa.delete(Vote).where(Vote.idea_id == idea.id))
    _followers_follow(target, idea)
    for changed in (idea, target):
        db.session.execute(
            sa.update(Idea)
            .where(Idea.id == changed.id)
            .values(vote_count=_count_votes(changed.id))
            .execution_options(synchronize_session=False)
        )
        db.session.refresh(changed, ["vote_count"])
    idea.merged_into = target


def _count_votes(idea_id: int) -> sa.ScalarSelect[int]:
    return (
        sa.select(sa.func.count())
        .select_from(Vote)
        .where(Vote.idea_id == idea_id)
        .scalar_subquery()
    )


class Unchecked(enum.Enum):
    """`set_owner`'s `seen_owner_id` when no page was shown (the demo, scripts): no check."""

    UNCHECKED = enum.auto()


def set_owner(
    reviewer: User,
    idea: Idea,
    owner: User | None,
    *,
    seen_owner_id: int | Literal[Unchecked.UNCHECKED] | None = Unchecked.UNCHECKED,
    now: datetime | None = None,
) -> None:
    """Name who makes the idea happen (any active person), or nobody; a newly named owner
    is told (`owner_named`), unless they named themselves.

    Refused with ChangedMeanwhile only when the owner is no longer the one the reviewer's page
    showed (`seen_owner_id`, None for nobody): a status decision meanwhile changes nothing the
    reviewer chose. One conditional UPDATE checks and sets, so two managers naming owners at
    once cannot both win, and it leaves the idea's version alone, so a status decision racing
    it is not refused either."""
    if not can_review(reviewer):
        raise RuleViolation(gettext("Only managers can choose an owner."))
    if owner is not None and not owner.is_active:
        raise RuleViolation(
            gettext("%(name)s is deactivated: choose someone active.", name=owner.name), "owner"
        )
    owner_id = owner.id if owner is not None else None
    before = idea.owner_id
    update = sa.update(Idea).where(Idea.id == idea.id)
    if seen_owner_id is not Unchecked.UNCHECKED:
        update = update.where(
            Idea.owner_id.is_(None) if seen_owner_id is None else Idea.owner_id == seen_owner_id
        )
    changed = db.session.execute(
        update.values(owner_id=owner_id)
        .returning(Idea.id)
        .execution_options(synchronize_session=False)
    ).first()
    if not changed:
        raise ChangedMeanwhile(str(OWNER_CHANGED_MEANWHILE))
    # As written: not changes for the unit of work to write back (with a version bump).
    set_committed_value(idea, "owner_id", owner_id)
    set_committed_value(idea, "owner", owner)
    if owner is not None and owner.id != before:
        owner_named.send(idea, owner=owner, actor=reviewer, at=now or utcnow())


# The customer's side (docs/product.md, "Journey stages and the compass")

CUSTOMER_SIDE_CHANGED_MEANWHILE = lazy_gettext(
    "Someone else changed this idea since you opened it; your choice of stage and compass "
    "point was not saved."
)


@dataclass(frozen=True)
class CustomerSide:
    """The stage of the customer's journey an idea improves (a stage's id) and what it does
    for the guest: either may be None."""

    journey_stage_id: int | None
    compass: Compass | None


def set_customer_side(
    reviewer: User, idea: Idea, side: CustomerSide, *, seen_version: int | None = None
) -> None:
    """Change the idea's stage and compass point, for a manager or an admin. The idea may keep
    a stage retired since it was given; no other retired stage may be chosen.

    Written with the idea's version, as a status decision is: a change chosen on a page that
    showed another version (`seen_version`), or that loses a race with another change of the
    idea, is refused with ChangedMeanwhile (the view answers 409)."""
    if not can_review(reviewer):
        raise RuleViolation(gettext("Only managers can change an idea's stage and compass point."))
    if seen_version is not None and idea.version != seen_version:
        raise ChangedMeanwhile(str(CUSTOMER_SIDE_CHANGED_MEANWHILE))
    stage = offered_stage(side.journey_stage_id, keeping=idea.journey_stage_id)
    idea.journey_stage = stage
    idea.compass = side.compass
    try:
        db.session.flush()  # nothing is written, nor the version moved, when nothing changed
    except StaleDataError:
        raise ChangedMeanwhile(str(CUSTOMER_SIDE_CHANGED_MEANWHILE)) from None


# Momentum: the owner's next step, target date and progress notes


@dataclass(frozen=True)
class Progress:
    """What the progress form says: the next step and its date (None clears them), and a
    note for the history (empty: none)."""

    next_step: str | None
    target_date: date | None
    note: str = ""


def record_progress(
    actor: User, idea: Idea, progress: Progress, *, now: datetime | None = None
) -> ProgressNote | None:
    """Set the open idea's next step and target date and add the note to its history, for
    its owner or a manager (docs/product.md, "The pipeline"). Returns the note, if one was
    written.

    One UPDATE of those two columns, which leaves the idea's version alone: a status
    decision taken meanwhile is not refused because of it."""
    now = now or utcnow()
    if not can_record_progress(actor, idea):
        raise RuleViolation(gettext("Only the idea's owner or a manager can record its progress."))
    if not idea.status.is_open:
        raise RuleViolation(
            gettext(
                "This idea is %(status)s: there is no next step to record.",
                status=idea.status.in_sentence,
            ),
            "next_step",
        )
    next_step = " ".join((progress.next_step or "").split()) or None
    if next_step is not None and len(next_step) > NEXT_STEP_MAX:
        raise RuleViolation(
            gettext("Keep the next step to %(maximum)d characters.", maximum=NEXT_STEP_MAX),
            "next_step",
        )
    note = progress.note.strip()
    if len(note) > NOTE_MAX:
        raise RuleViolation(
            gettext("Keep the note to %(maximum)d characters.", maximum=NOTE_MAX), "note"
        )
    target = progress.target_date
    # "Today" somewhere on Earth, as for implementation dates: a date kept as it was may
    # have passed since, and is not refused for that.
    if (
        target is not None
        and target != idea.target_date
        and target < (now - timedelta(hours=12)).date()
    ):
        raise RuleViolation(gettext("The target date cannot be in the past."), "target_date")
    unchanged = (next_step, target) == (idea.next_step, idea.target_date)
    if unchanged and not note:
        raise RuleViolation(
            gettext("Nothing to save: change the next step or its date, or write a note."), "note"
        )
    if not unchanged:
        db.session.execute(
            sa.update(Idea)
            .where(Idea.id == idea.id)
            .values(next_step=next_step, target_date=target)
            .execution_options(synchronize_session=False)
        )
        set_committed_value(idea, "next_step", next_step)
        set_committed_value(idea, "target_date", target)
    if not note:
        return None
    written = ProgressNote(idea_id=idea.id, author=actor, body=note, created_at=now)
    db.session.add(written)
    db.session.flush()
    return written
