"""The ideas rules without HTTP: pipeline, evidence, votes, merge, comments, owners."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from serviceideas.database import utcnow
from serviceideas.errors import RuleViolation
from serviceideas.extensions import db
from serviceideas.ideas import services
from serviceideas.ideas.models import TRANSITIONS, Idea, Lens, Stalled, Status, StatusChange, Vote
from serviceideas.people.models import Role

ALLOWED = sorted((s, t) for s, targets in TRANSITIONS.items() for t in targets)
REFUSED = sorted((s, t) for s in Status for t in Status if t not in TRANSITIONS[s])


@pytest.fixture
def manager(make_user):
    return make_user(Role.MANAGER)


def idea_in(status, make_idea, make_user, manager):
    """An idea standing in `status`, however it got there."""
    if status is Status.MERGED:
        target = make_idea()
        idea = make_idea()
        services.change_status(manager, idea, services.Decision(Status.MERGED, merge_into=target))
        db.session.commit()
        return idea
    return make_idea(status, reviewer=manager)


def decision_for(target, make_idea):
    if target is Status.IMPLEMENTED:
        return services.Decision(target, note="What changed.", implemented_on=utcnow().date())
    if target is Status.MERGED:
        return services.Decision(target, merge_into=make_idea())
    return services.Decision(target, note="A reason.")


@pytest.mark.parametrize(("source", "target"), ALLOWED)
def test_every_allowed_transition_is_recorded(make_idea, make_user, manager, source, target):
    idea = idea_in(source, make_idea, make_user, manager)
    change = services.change_status(manager, idea, decision_for(target, make_idea))
    db.session.commit()
    assert idea.status is target
    assert (change.from_status, change.to_status, change.actor_id) == (source, target, manager.id)


@pytest.mark.parametrize(("source", "target"), REFUSED)
def test_every_other_transition_is_refused(make_idea, make_user, manager, source, target):
    idea = idea_in(source, make_idea, make_user, manager)
    decision = decision_for(target, make_idea)
    history = db.session.scalar(sa.select(sa.func.count(StatusChange.id)))
    with pytest.raises(RuleViolation, match="cannot become"):
        services.change_status(manager, idea, decision)
    db.session.rollback()
    assert db.session.get(Idea, idea.id).status is source
    assert db.session.scalar(sa.select(sa.func.count(StatusChange.id))) == history


def test_the_database_refuses_an_illegal_step_in_the_history(make_idea, make_user):
    idea = make_idea()
    db.session.add(
        StatusChange(
            idea_id=idea.id,
            actor_id=idea.author_id,
            from_status=Status.SUBMITTED,
            to_status=Status.IN_PROGRESS,
        )
    )
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_the_database_refuses_implemented_without_evidence(make_idea):
    idea = make_idea()
    with pytest.raises(IntegrityError):
        db.session.execute(sa.update(Idea).where(Idea.id == idea.id).values(status="implemented"))
    db.session.rollback()


def test_only_managers_change_status(make_idea, make_user):
    idea = make_idea()
    for role in (None, Role.TRAINER):
        with pytest.raises(RuleViolation, match="Only managers"):
            services.change_status(make_user(role), idea, services.Decision(Status.UNDER_REVIEW))
    services.change_status(make_user(Role.ADMIN), idea, services.Decision(Status.UNDER_REVIEW))


def test_declining_needs_a_reason(make_idea, manager):
    idea = make_idea()
    with pytest.raises(RuleViolation, match="Say why") as refused:
        services.change_status(manager, idea, services.Decision(Status.DECLINED, note="  "))
    assert refused.value.field == "note"


@pytest.mark.parametrize(
    ("note", "days_from_today", "message", "field"),
    [
        ("", 0, "what changed", "note"),
        ("It works.", None, "Give the date", "implemented_on"),
        ("It works.", 2, "cannot be in the future", "implemented_on"),
        ("It works.", -400, "before the idea was submitted", "implemented_on"),
    ],
)
def test_implemented_needs_evidence(make_idea, manager, note, days_from_today, message, field):
    idea = make_idea(Status.IN_PROGRESS, reviewer=manager)
    on = None if days_from_today is None else utcnow().date() + timedelta(days=days_from_today)
    with pytest.raises(RuleViolation, match=message) as refused:
        services.change_status(
            manager, idea, services.Decision(Status.IMPLEMENTED, note=note, implemented_on=on)
        )
    assert refused.value.field == field
    db.session.rollback()
    assert db.session.get(Idea, idea.id).status is Status.IN_PROGRESS


def test_implemented_keeps_its_date_and_note(make_idea, manager):
    idea = make_idea(Status.IN_PROGRESS, reviewer=manager)
    today = utcnow().date()
    services.change_status(
        manager,
        idea,
        services.Decision(Status.IMPLEMENTED, note="Calls fell.", implemented_on=today),
    )
    assert (idea.implemented_on, idea.implementation_note) == (today, "Calls fell.")


def test_two_managers_at_once_cannot_both_win(app, make_idea, make_user, manager):
    """The second writer's idea row is stale: the version column refuses the update, and the
    service says so as a refusal the page answers with 409."""
    idea = make_idea()
    assert idea.version == 1  # loaded now, as a request would have it
    db.session.execute(
        sa.update(Idea)
        .where(Idea.id == idea.id)
        .values(version=Idea.version + 1)
        .execution_options(synchronize_session=False)
    )  # as if another manager had just saved it
    with pytest.raises(services.ChangedMeanwhile):
        services.change_status(manager, idea, services.Decision(Status.UNDER_REVIEW))
    db.session.rollback()
    assert db.session.get(Idea, idea.id).status is Status.SUBMITTED


@pytest.mark.parametrize("action", ["status", "owner"])
def test_a_decision_on_an_older_page_of_the_idea_is_refused(make_idea, manager, action):
    idea = make_idea()
    with pytest.raises(services.ChangedMeanwhile):
        if action == "status":
            decision = services.Decision(Status.UNDER_REVIEW)
            services.change_status(manager, idea, decision, seen_change=0)  # showed no step
        else:
            services.set_owner(manager, idea, manager, seen_owner_id=manager.id)
    assert idea.status is Status.SUBMITTED and idea.owner is None


# Submitting


def test_submit_records_the_department_at_submission_and_the_first_step(make_user, make_department):
    author = make_user(department=make_department("Logistics"))
    idea = services.submit_idea(
        author,
        services.IdeaDraft("  Faster   returns ", "Slow.", "Quicker.", Lens.LEARN, None),
    )
    author.department = make_department("Finance")
    db.session.commit()
    assert idea.title == "Faster returns"
    assert idea.author_department.name == "Logistics"
    assert idea.beneficiary_label == "External customers"
    (first,) = db.session.scalars(sa.select(StatusChange).where(StatusChange.idea_id == idea.id))
    assert (first.from_status, first.to_status) == (None, Status.SUBMITTED)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("title", "", "fill in the title"),
        ("title", "x" * 121, "120 characters"),
        ("problem", "   ", "fill in the problem"),
        ("proposal", "y" * 5001, "5000 characters"),
    ],
)
def test_submit_refuses_empty_and_overlong_fields(make_user, field, value, message):
    fields = {"title": "T", "problem": "P", "proposal": "Q", field: value}
    draft = services.IdeaDraft(**fields, lens=Lens.CARE, beneficiary=None)
    with pytest.raises(RuleViolation, match=message) as refused:
        services.submit_idea(make_user(), draft)
    assert refused.value.field == field


# Votes


def votes_on(idea):
    return db.session.scalar(sa.select(sa.func.count()).where(Vote.idea_id == idea.id))


def test_voting_is_idempotent_and_can_be_taken_back(make_idea, make_user):
    idea, voter = make_idea(), make_user()
    assert services.set_vote(voter, idea, True) is True
    assert services.set_vote(voter, idea, True) is True  # a double click changes nothing
    assert (idea.vote_count, votes_on(idea)) == (1, 1)
    assert services.set_vote(voter, idea, False) is False
    assert services.set_vote(voter, idea, False) is False
    assert (idea.vote_count, votes_on(idea)) == (0, 0)


def test_authors_cannot_vote_on_their_own_idea(make_idea):
    idea = make_idea()
    with pytest.raises(RuleViolation, match="own idea"):
        services.set_vote(idea.author, idea, True)


@pytest.mark.parametrize("status", [Status.IMPLEMENTED, Status.DECLINED])
def test_voting_closes_when_an_idea_is_settled(make_idea, make_user, status):
    idea = make_idea(status)
    with pytest.raises(RuleViolation, match="Voting has closed"):
        services.set_vote(make_user(), idea, True)


def test_the_database_refuses_a_vote_count_on_a_closed_idea(make_idea, make_user):
    """Even past the Python check (a status change racing the vote), the count won't move."""
    idea = make_idea()
    voter = make_user()
    assert idea.status is Status.SUBMITTED  # loaded now, as a request would have it
    db.session.execute(
        sa.update(Idea)
        .where(Idea.id == idea.id)
        .values(status="declined")
        .execution_options(synchronize_session=False)
    )  # another request declined it a moment ago
    with pytest.raises(RuleViolation, match="closed"):
        services.set_vote(voter, idea, True)  # the in-memory idea still says submitted
    db.session.rollback()
    assert votes_on(idea) == 0


# Merging


def test_merge_moves_votes_counting_each_person_once(make_idea, make_user, manager):
    target, duplicate = make_idea(), make_idea()
    both, only_duplicate, only_target = make_user(), make_user(), make_user()
    for voter in (both, only_target):
        services.set_vote(voter, target, True)
    for voter in (both, only_duplicate):
        services.set_vote(voter, duplicate, True)
    services.set_vote(target.author, duplicate, True)  # the target's author liked the duplicate
    services.add_comment(only_duplicate, duplicate, "Kept after the merge.")

    services.change_status(manager, duplicate, services.Decision(Status.MERGED, merge_into=target))
    db.session.commit()
    voters = set(db.session.scalars(sa.select(Vote.user_id).where(Vote.idea_id == target.id)))
    assert voters == {both.id, only_duplicate.id, only_target.id}
    assert (target.vote_count, duplicate.vote_count) == (3, 0)
    assert votes_on(duplicate) == 0
    assert duplicate.merged_into is target and duplicate.status is Status.MERGED


@pytest.mark.parametrize("problem", ["itself", "missing", "closed"])
def test_merge_needs_an_open_other_idea(make_idea, manager, problem):
    idea = make_idea()
    target = {"itself": idea, "missing": None, "closed": make_idea(Status.DECLINED)}[problem]
    with pytest.raises(RuleViolation) as refused:
        services.change_status(manager, idea, services.Decision(Status.MERGED, merge_into=target))
    assert refused.value.field == "merge_into"


# Comments and owners


def test_comment_authors_edit_and_delete_managers_remove(make_idea, make_user, manager):
    idea, author, other = make_idea(), make_user(), make_user()
    comment = services.add_comment(author, idea, "First thought")
    with pytest.raises(RuleViolation):
        services.edit_comment(other, comment, "Hijacked")
    with pytest.raises(RuleViolation):
        services.remove_comment(other, comment)
    services.edit_comment(author, comment, "Second thought")
    assert comment.body == "Second thought" and comment.edited_at is not None

    services.remove_comment(manager, comment)
    assert comment.is_removed and not comment.removed_by_author
    assert comment.body == "Second thought"  # kept for the record, not shown
    with pytest.raises(RuleViolation):
        services.edit_comment(author, comment, "Back again")


def test_owner_must_be_active(make_idea, make_user, manager):
    idea = make_idea()
    with pytest.raises(RuleViolation, match="deactivated"):
        services.set_owner(manager, idea, make_user(active=False))
    owner = make_user()
    services.set_owner(manager, idea, owner)
    assert idea.owner is owner
    with pytest.raises(RuleViolation, match="Only managers"):
        services.set_owner(owner, idea, None)


def test_stalled_means_open_and_unchanged_for_the_set_number_of_days(make_idea):
    now = utcnow()
    old = make_idea(now=now - timedelta(days=31))
    fresh = make_idea(now=now - timedelta(days=29))
    settled = make_idea(Status.DECLINED, now=now - timedelta(days=90))
    stalled = Stalled(now, 30)
    assert [stalled(i) for i in (old, fresh, settled)] == [True, False, False]
