"""How notifications react to ideas, training and roles: each event becomes a notification.

The receivers run inside the sender's transaction and only flush (docs/architecture.md,
"Signals"). Each text is written in its reader's language, whoever acted: inside
`speaking_to(reader)`, or once per language when many are told at once (docs/product.md,
"Notifications and e-mails").
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from babel.lists import format_list
from flask_babel import LazyString, gettext, lazy_gettext, lazy_pgettext, ngettext

from serviceideas.database import utcnow
from serviceideas.i18n import format_date, formatting_locale, speaking_to
from serviceideas.ideas.models import Status
from serviceideas.ideas.policies import hidden_name, name_on
from serviceideas.ideas.signals import comment_added, owner_named, status_changed
from serviceideas.notifications import queries
from serviceideas.notifications.models import Category, Target
from serviceideas.notifications.services import (
    announce_training,
    notify,
    tell_department,
    tell_followers,
)
from serviceideas.people.models import Role
from serviceideas.people.services import read_alongside_signed_in_person
from serviceideas.people.signals import roles_changed
from serviceideas.training import services as training
from serviceideas.training.signals import enrolled, feedback_given

if TYPE_CHECKING:
    from serviceideas.ideas.models import Comment, Idea, StatusChange
    from serviceideas.people.models import User
    from serviceideas.training.models import Assignment, Reflection


def idea_moved(change: StatusChange, *, idea: Idea, **_: object) -> None:
    """The author hears of every step someone else took; followers of the endings that
    matter to them (put into practice, declined, merged); the people of the team an idea was
    for, of it being put into practice (docs/product.md, "Notifications"). One key per step,
    so whoever is more than one of these is told once, by the first."""
    if change.from_status is None:
        return
    key = f"status:{change.id}"
    status = change.to_status

    def body() -> str:
        """In the language of the moment: each person is told in their own."""
        if status is Status.IMPLEMENTED:
            return gettext("What changed: %(note)s", note=idea.implementation_note)
        return change.note or ""

    if change.actor_id != idea.author_id:
        with speaking_to(idea.author):
            if status is Status.IMPLEMENTED:
                title = gettext(
                    "Thank you: “%(title)s” has been put into practice", title=idea.title
                )
            else:
                title = AUTHOR_HEARS[status] % {"title": idea.title}
            notify(idea.author_id, Category.IDEAS, key, title, Target.IDEA, idea.id, body())
    followed = FOLLOWERS_HEAR.get(status)
    if followed is not None:

        def to_followers() -> tuple[str, str]:
            return followed % {"title": idea.title, "number": idea.merged_into_id}, body()

        tell_followers(idea.id, key, to_followers, except_id=change.actor_id)
    department = idea.beneficiary_department
    if status is Status.IMPLEMENTED and department is not None:

        def to_department() -> tuple[str, str]:
            title = gettext(
                "Put into practice for %(team)s: “%(title)s”",
                team=department.name,
                title=idea.title,
            )
            return title, body()

        tell_department(department.id, idea.id, key, to_department, except_id=change.actor_id)


# What an idea's author is told of a step someone else took (put into practice has its own
# thanks), one whole sentence per status: word order differs between languages.
AUTHOR_HEARS: dict[Status, LazyString] = {
    Status.SUBMITTED: lazy_gettext("Your idea “%(title)s” is now submitted"),
    Status.UNDER_REVIEW: lazy_gettext("Your idea “%(title)s” is now under review"),
    Status.APPROVED: lazy_gettext("Your idea “%(title)s” is now approved"),
    Status.IN_PROGRESS: lazy_gettext("Your idea “%(title)s” is now in progress"),
    Status.DECLINED: lazy_gettext("Your idea “%(title)s” is now declined"),
    Status.MERGED: lazy_gettext("Your idea “%(title)s” is now merged"),
}

# What followers are told of (and of nothing else: the steps between are for the author).
FOLLOWERS_HEAR: dict[Status, LazyString] = {
    Status.IMPLEMENTED: lazy_gettext("Put into practice: “%(title)s”, an idea you follow"),
    Status.DECLINED: lazy_gettext("Declined: “%(title)s”, an idea you follow"),
    Status.MERGED: lazy_gettext("Merged into idea #%(number)s: “%(title)s”, an idea you follow"),
}


def owner_was_named(idea: Idea, *, owner: User, actor: User, at: datetime, **_: object) -> None:
    """A person named as an idea's owner hears of it, unless they named themselves; named
    again later (after someone else), they are told again (docs/product.md,
    "Notifications")."""
    if owner.id == actor.id:
        return
    # A manager who wrote the idea with their name hidden is not named to its new owner
    # (docs/product.md, "Speaking up safely").
    by = name_on(owner, idea, actor.id, actor.name)
    hidden = by == hidden_name()  # both in the language of the actor's request
    with speaking_to(owner):
        if hidden:
            title = gettext("A manager made you the owner of “%(title)s”", title=idea.title)
        else:
            title = gettext("%(name)s made you the owner of “%(title)s”", name=by, title=idea.title)
        notify(
            owner.id,
            Category.IDEAS,
            f"owner:{idea.id}:{at:%Y%m%dT%H%M%S%f}",
            title,
            Target.IDEA,
            idea.id,
            gettext(
                "Set its next step and record progress on its page; it is listed under Ideas I own."
            ),
        )


def someone_commented(comment: Comment, *, idea: Idea, **_: object) -> None:
    if comment.author_id == idea.author_id:
        return
    with speaking_to(idea.author):
        title = gettext(
            "%(name)s commented on “%(title)s”", name=comment.author.name, title=idea.title
        )
    notify(
        idea.author_id, Category.IDEAS, f"comment:{comment.id}", title, Target.COMMENT, comment.id
    )


def trainer_answered(reflection: Reflection, **_: object) -> None:
    enrolment = reflection.enrolment
    module = enrolment.assignment.module
    trainer = reflection.feedback_by
    assert trainer is not None  # the signal is sent once the trainer is recorded
    with speaking_to(enrolment.user):
        title = gettext(
            "%(name)s answered your reflection on “%(title)s”",
            name=trainer.name,
            title=module.title,
        )
    notify(
        enrolment.user_id,
        Category.FEEDBACK,
        f"feedback:{enrolment.id}",
        title,
        Target.ENROLMENT,
        enrolment.id,
        (reflection.feedback or "")[:500],
    )


def training_assigned(
    assignment: Assignment,
    *,
    today: date,
    only: tuple[int, ...] | None = None,
    **_: object,
) -> None:
    """Those just enrolled — `only` those people (ids), or the whole audience — hear of it once, in
    one statement. A period already over is not announced: catching up on past periods
    would tell people of training that has since been replaced by the current period's."""
    if training.period_start(assignment, today) < training.period_start(
        assignment, utcnow().date()
    ):
        return
    due = training.due_date(assignment, today)

    def words() -> tuple[str, str]:
        return (
            gettext("New training for you: %(title)s", title=assignment.module.title),
            gettext("Due on %(date)s.", date=format_date(due, DAY_MONTH_AND_YEAR)),
        )

    announce_training(assignment, today, words, user_ids=only)


DAY_MONTH_AND_YEAR = "yMMMMd"  # 3 November 2026 · 3. November 2026 · 3 de noviembre de 2026


def roles_were_changed(
    person: User,
    *,
    granted: list[Role],
    removed: list[Role],
    actor: User | None,
    change_id: int,
    **_: object,
) -> None:
    """The person hears of every role given to or taken from them, and by whom
    (docs/product.md, "Roles"). Under "training": the nearest category, since the trainer
    and manager roles are what most changes are about."""
    with speaking_to(person):
        notify(
            person.id,
            Category.TRAINING,
            f"roles:{change_id}",
            _roles_title(actor, granted, removed),
            Target.NOTIFICATIONS,
            body=gettext("If you did not expect this, tell an admin."),
        )


def _roles_title(actor: User | None, granted: list[Role], removed: list[Role]) -> str:
    """ "Ann gave you the trainer role and took away your admin role", in the language of the
    moment."""
    by = gettext("The command line") if actor is None else actor.name
    given = ngettext(
        "the %(roles)s role", "the %(roles)s roles", len(granted), roles=_names(granted)
    )
    taken = ngettext(
        "your %(roles)s role", "your %(roles)s roles", len(removed), roles=_names(removed)
    )
    if granted and removed:
        return gettext(
            "%(name)s gave you %(granted)s and took away %(removed)s",
            name=by,
            granted=given,
            removed=taken,
        )
    if granted:
        return gettext("%(name)s gave you %(granted)s", name=by, granted=given)
    return gettext("%(name)s took away %(removed)s", name=by, removed=taken)


def _names(roles: list[Role]) -> str:
    """ "trainer and manager": the roles' names in a sentence, listed the language's way."""
    names = [str(ROLE_IN_SENTENCE[role]) for role in roles]
    return format_list(names, locale=formatting_locale()) if names else ""


# A role's name inside a sentence ("gave you the trainer role").
ROLE_IN_SENTENCE: dict[Role, LazyString] = {
    Role.EMPLOYEE: lazy_pgettext("role, in a notification", "employee"),
    Role.TRAINER: lazy_pgettext("role, in a notification", "trainer"),
    Role.MANAGER: lazy_pgettext("role, in a notification", "manager"),
    Role.ADMIN: lazy_pgettext("role, in a notification", "admin"),
}


def connect() -> None:
    # The bell's count comes with the signed-in person on pages that only read: no round trip
    # of its own on every page (docs/benchmark.md, "PostgreSQL: where the time went").
    read_alongside_signed_in_person(queries.UNREAD, queries.unread_count_of)
    roles_changed.connect(roles_were_changed)
    status_changed.connect(idea_moved)
    comment_added.connect(someone_commented)
    owner_named.connect(owner_was_named)
    feedback_given.connect(trainer_answered)
    enrolled.connect(training_assigned)
