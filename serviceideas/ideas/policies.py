"""Who may do what with ideas, votes and comments."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from serviceideas.people.models import Role
from serviceideas.people.policies import Someone, is_active_person

if TYPE_CHECKING:
    from serviceideas.ideas.models import Idea


class Commented(Protocol):
    """A comment, or the idea page's plain copy of one."""

    author_id: int

    @property
    def is_removed(self) -> bool: ...


def can_review(user: Someone) -> bool:
    """Managers (and admins) move ideas through the pipeline, choose owners and merge."""
    return is_active_person(user) and user.has_role(Role.MANAGER)


def can_record_progress(user: Someone, idea: Idea) -> bool:
    """The idea's owner and managers set its next step and record its progress."""
    return is_active_person(user) and (user.id == idea.owner_id or user.has_role(Role.MANAGER))


def can_vote(user: Someone, idea: Idea) -> bool:
    return is_active_person(user) and user.id != idea.author_id and idea.status.accepts_votes


def can_change_comment(user: Someone, comment: Commented) -> bool:
    """Authors edit their own comments while they stand."""
    return is_active_person(user) and user.id == comment.author_id and not comment.is_removed


def can_remove_comment(user: Someone, comment: Commented) -> bool:
    """Authors remove their own; managers remove anyone's."""
    return not comment.is_removed and (can_change_comment(user, comment) or can_review(user))


TEMPLATE_POLICIES = {
    "can_review": can_review,
    "can_vote": can_vote,
    "can_record_progress": can_record_progress,
    "can_change_comment": can_change_comment,
    "can_remove_comment": can_remove_comment,
}
