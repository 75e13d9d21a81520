"""What the company's directory may do to people through SCIM: add them, change them,
deactivate them (docs/product.md, "Staff from the directory"). Every change goes through
people.services, as an admin's would, so its consequences are the same: a move re-enrols
training, a deactivation ends sessions. Functions flush, never commit."""

from __future__ import annotations

from flask import current_app
from flask_babel import gettext

from serviceideas.errors import RuleViolation, Taken
from serviceideas.extensions import db
from serviceideas.people import services as people
from serviceideas.people.models import Department, User
from serviceideas.people.policies import is_break_glass_address
from serviceideas.scim.outcomes import N_, Outcome, Value
from serviceideas.scim.resources import Wanted

EXTERNAL_ID_MAX = 255


class Refusal(RuleViolation):
    """A refusal of the directory's request written by this service: its message is the
    English sentence the directory is told; `outcome` keeps its untranslated text and values
    for the request log, which shows it in its reader's language (scim/outcomes.py)."""

    def __init__(self, msgid: str, field: str | None = None, **values: Value) -> None:
        self.outcome = Outcome(msgid, values)
        super().__init__(self.outcome.english(), field)


class OutOfReach(Refusal):
    """A change to an admin the directory may not make (docs/product.md, "Staff from the
    directory"): an admin makes it in serviceideas."""


def is_break_glass(person: User) -> bool:
    """Named in SERVICEIDEAS_BREAK_GLASS_ADMINS: kept out of the provider's reach, so that
    they can still sign in when it is down or wrong."""
    return is_break_glass_address(person.email)


def _check_within_reach(person: User, *, email_changes: bool, changes: bool, active: bool) -> None:
    """Refuse what a directory token must not do to admins: take over an admin account by
    giving it someone else's e-mail (their first company sign-in would then link to it),
    reactivate an admin an admin deactivated, or change a break-glass admin at all."""
    who = person.email
    if is_break_glass(person) and changes:
        raise OutOfReach(
            N_(
                "%(email)s is a break-glass admin (SERVICEIDEAS_BREAK_GLASS_ADMINS): the "
                "directory cannot change or deactivate them; an admin does it in serviceideas."
            ),
            email=who,
        )
    if person.is_admin and email_changes:
        raise OutOfReach(
            N_(
                "%(email)s is an admin: the directory cannot change an admin's e-mail "
                "(userName); an admin changes it in serviceideas."
            ),
            email=who,
        )
    if person.is_admin and active and not person.active:
        raise OutOfReach(
            N_(
                "%(email)s is an admin: the directory cannot reactivate an admin; an admin "
                "reactivates them in serviceideas."
            ),
            email=who,
        )


def department_for(name: str | None, current: Department | None = None) -> Department:
    """The department the directory names, matched by name ignoring case; for a name the app
    does not know (or none, for a new person), DEFAULT_DEPARTMENT; without that setting,
    refused: an admin adds the department, or sets the default."""
    if name is None and current is not None:
        return current
    department = people.department_or_default(name)
    if department is not None:
        return department
    default = current_app.config.get("DEFAULT_DEPARTMENT")
    if default and name:
        raise Refusal(
            N_(
                "There is no department named '%(name)s', and the default department "
                "'%(default)s' (SERVICEIDEAS_DEFAULT_DEPARTMENT) does not exist either. Add "
                "it in serviceideas."
            ),
            "department",
            name=name,
            default=default,
        )
    if default:
        raise Refusal(
            N_(
                "No department was given, and the default department '%(default)s' "
                "(SERVICEIDEAS_DEFAULT_DEPARTMENT) does not exist either. Add it in "
                "serviceideas."
            ),
            "department",
            default=default,
        )
    if name:
        raise Refusal(
            N_(
                "There is no department named '%(name)s' (the enterprise extension's "
                "department). Add the department in serviceideas, or set "
                "SERVICEIDEAS_DEFAULT_DEPARTMENT."
            ),
            "department",
            name=name,
        )
    raise Refusal(
        N_(
            "No department was given (the enterprise extension's department). Add the "
            "department in serviceideas, or set SERVICEIDEAS_DEFAULT_DEPARTMENT."
        ),
        "department",
    )


def _external_id(value: str | None) -> str | None:
    if value is not None and len(value) > EXTERNAL_ID_MAX:
        raise Refusal(N_("externalId is longer than %(max)s characters."), max=EXTERNAL_ID_MAX)
    return value


def add_person(wanted: Wanted) -> User:
    """A new person from the directory, with no role beyond employee (roles are given in the
    app, or by the sign-in's groups claim) and no password (they sign in with the company's
    identity provider).

    A userName someone already has is refused first (Taken, a 409 uniqueness error), whatever
    else the request gets wrong: directories (Entra ID, Okta) learn from that answer that the
    person exists, and link them instead of creating them (RFC 7644, section 3.3)."""
    if people.find_user(wanted.email) is not None:
        raise Taken(gettext("Someone with this email address already exists."), "email")
    if wanted.name is None:
        raise Refusal(
            N_(
                "The User has no name: send name.formatted, name.givenName and "
                "name.familyName, or displayName."
            ),
            "name",
        )
    department = department_for(wanted.department)
    external_id = _external_id(wanted.external_id)
    person = people.create_user(email=wanted.email, name=wanted.name, department=department)
    person.scim_external_id = external_id
    person.directory_locale = wanted.language
    db.session.flush()
    if wanted.active is False:
        people.set_active(None, person, False)
    return person


def update_person(person: User, wanted: Wanted) -> list[str]:
    """Make the person what the directory wants (a PUT or a PATCH): e-mail, name, department,
    externalId, preferredLanguage, and active last, so a deactivation ends the sessions
    whatever else changed. Roles stay as they are; a break-glass admin's language too
    (`_language`). What changed, in words, for the request's log line.

    Some changes to admins are refused (`OutOfReach`) before anything changes. Without
    `active` (None) the person stays as active as they are."""
    active = person.active if wanted.active is None else wanted.active
    email_changes = people.check_email(wanted.email) != person.email
    if email_changes and person.is_admin and not active and not is_break_glass(person):
        email_changes = False  # an admin leaving is let go, their e-mail kept as it is
    try:
        department = department_for(wanted.department, current=person.department)
    except RuleViolation:
        if active:
            raise
        department = person.department  # someone leaving is let go, whatever their department
    name = wanted.name or person.name
    external_id = _external_id(wanted.external_id)
    language = _language(person, wanted)
    # Each a text of its own, translated when the log is read (scim/outcomes.py).
    changes = (
        [N_("e-mail")] * email_changes
        + [N_("name")] * (name != person.name)
        + [N_("department")] * (department.id != person.department_id)
        + [N_("externalId")] * (external_id != person.scim_external_id)
        + [N_("language")] * (language != person.directory_locale)
    )
    if active != person.active:
        changes.append(N_("reactivated") if active else N_("deactivated"))
    _check_within_reach(person, email_changes=email_changes, changes=bool(changes), active=active)
    if email_changes:
        people.change_email(person, wanted.email)
    if name != person.name or department.id != person.department_id:
        people.update_user(
            person, name=name, department=department, roles=person.granted_roles, acting=None
        )
    if external_id != person.scim_external_id or language != person.directory_locale:
        person.scim_external_id = external_id
        person.directory_locale = language
        db.session.flush()
    if active != person.active:
        people.set_active(None, person, active)
    return changes


def _language(person: User, wanted: Wanted) -> str | None:
    """The directory's language for `person` after this request: the one it sends when the
    request speaks of preferredLanguage (see `Wanted`), else the stored one. A break-glass
    admin's is never the directory's to set or clear: what it sends is silently not applied,
    so that a profile push or a sync that changes nothing else still succeeds (a language
    gives nobody access; docs/product.md, "Staff from the directory")."""
    if not wanted.language_sent or is_break_glass(person):
        return person.directory_locale
    return wanted.language


def deactivate(person: User) -> None:
    """DELETE: the person is deactivated, never erased; everything they wrote stays. Not a
    break-glass admin (`OutOfReach`)."""
    _check_within_reach(person, email_changes=False, changes=True, active=False)
    people.set_active(None, person, False)
