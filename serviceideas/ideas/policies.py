"""Who may do what with ideas, votes and comments."""

from __future__ import annotations

from typing import Any, Protocol

import sqlalchemy as sa
from flask_babel import gettext, lazy_gettext

from serviceideas.ideas.models import Idea
from serviceideas.people.models import Role
from serviceideas.people.policies import Someone, is_active_person

# What colleagues read where the name of an author who hid it would stand: HIDDEN_NAME as
# programs read it (the API), `hidden_name()` as people do, in their language.
HIDDEN_NAME = "Name not shown"


def hidden_name() -> str:
    return gettext("Name not shown")


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


# Speaking up safely (docs/product.md, "Speaking up safely"): an author may hide their name
# from colleagues. The rule is written here once, in Python (`can_see_author`) and in SQL
# (`author_shown_sql`), and every page, fragment, CSV and notice that names an author asks it.


class Authored(Protocol):
    """An idea, or a row of one: enough to tell whether its author's name may be shown."""

    @property
    def author_id(self) -> int: ...

    @property
    def name_hidden(self) -> bool: ...


def sees_hidden_authors(viewer: Someone) -> bool:
    """Managers and admins see who wrote every idea, also those whose author hid their name."""
    return can_review(viewer)


def can_see_author(viewer: Someone, idea: Authored) -> bool:
    """Whether `viewer` may see who wrote `idea`: anyone, unless the author hid their name;
    then only the author, managers and admins."""
    if not idea.name_hidden:
        return True
    return sees_hidden_authors(viewer) or (is_active_person(viewer) and viewer.id == idea.author_id)


def author_shown_sql(viewer_id: Any, sees_hidden: Any) -> sa.ColumnElement[bool]:
    """`can_see_author` in SQL, for lists: `viewer_id` and `sees_hidden`
    (`sees_hidden_authors(viewer)`) are values or bind parameters."""
    return sa.or_(Idea.name_hidden.is_(False), Idea.author_id == viewer_id, sees_hidden)


def author_shown_to(viewer: Someone) -> sa.ColumnElement[bool]:
    """`author_shown_sql` for one viewer, with their values written in."""
    viewer_id = viewer.id if is_active_person(viewer) else None
    return author_shown_sql(viewer_id, sa.literal(sees_hidden_authors(viewer)))


def name_on(viewer: Someone, idea: Authored, person_id: int | None, name: str) -> str:
    """`name` of person `person_id` as `viewer` may read it on `idea`: the author of an idea
    whose name is hidden is `hidden_name()` wherever they appear on it (who submitted it, the
    history's first step, a progress note, as its owner). Comments stay named."""
    if person_id is not None and person_id == idea.author_id and not can_see_author(viewer, idea):
        return hidden_name()
    return name


def can_show_name(user: Someone, idea: Authored) -> bool:
    """Only the author may show their hidden name on an idea (and nobody hides it again:
    colleagues have seen it by then)."""
    return is_active_person(user) and user.id == idea.author_id


TEMPLATE_POLICIES = {
    "can_review": can_review,
    "can_vote": can_vote,
    "can_record_progress": can_record_progress,
    "can_change_comment": can_change_comment,
    "can_remove_comment": can_remove_comment,
    "can_see_author": can_see_author,
    "can_show_name": can_show_name,
    "name_on": name_on,
    "hidden_name": lazy_gettext("Name not shown"),
}
