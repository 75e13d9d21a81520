"""Forms of the API tokens page: a new token (name, scopes, expiry) and revoking one."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask_babel import gettext, lazy_gettext, ngettext
from wtforms import DateField, HiddenField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from serviceideas.api import tokens
from serviceideas.api.models import TOKEN_NAME_MAX, Scope
from serviceideas.forms import Form, SelectChoice, stripped
from serviceideas.people.forms import CheckboxesField
from serviceideas.people.models import User

ON_A_DATE = "date"
EXPIRY_DAYS = (7, 30, 90, 365)
DEFAULT_DAYS = "30"
SCOPE_LABELS = {
    Scope.READ: lazy_gettext("read — read what you can read on the pages"),
    Scope.WRITE: lazy_gettext(
        "write — submit ideas, vote, comment and do your training (trainers: modules"
        " and assignments)"
    ),
    Scope.REVIEW: lazy_gettext("review — change ideas' statuses and owners (managers)"),
    Scope.ADMIN: lazy_gettext("admin — people and departments (admins)"),
}


class NewTokenForm(Form):
    name = StringField(
        lazy_gettext("Name"),
        validators=[DataRequired(), Length(max=TOKEN_NAME_MAX)],
        filters=[stripped],
    )
    # Every scope passes the form: the service refuses those the person's roles do not allow,
    # with the reason beside the field (the page offers only the allowed ones).
    scopes = CheckboxesField(
        lazy_gettext("Scopes"), validate_choice=False, default=[Scope.READ.value]
    )
    expires = SelectField(
        lazy_gettext("Expires"), validators=[InputRequired()], default=DEFAULT_DAYS
    )
    expires_on = DateField(lazy_gettext("Date (with “On a date”)"), validators=[Optional()])
    submit = SubmitField(lazy_gettext("Make token"))

    def offer(self, person: User, now: datetime) -> None:
        """The scopes `person` may choose, and the expiries within API_TOKEN_MAX_DAYS."""
        self.scopes.choices = [
            SelectChoice(scope.value, SCOPE_LABELS[scope])
            for scope in tokens.scopes_allowed(person)
        ]
        longest = tokens.longest_days()
        self.expires.choices = [
            *(
                SelectChoice(
                    str(days),
                    gettext("1 year")
                    if days == 365
                    else ngettext("%(num)d day", "%(num)d days", days),
                )
                for days in EXPIRY_DAYS
                if days <= longest
            ),
            SelectChoice(ON_A_DATE, gettext("On a date…")),
        ]
        self.expires_on.render_kw = {
            "min": (now + timedelta(days=1)).date().isoformat(),
            "max": tokens.latest_day(now).isoformat(),
        }

    def expires_at(self, now: datetime) -> datetime | None:
        """When the chosen expiry falls; None (and the reason beside the date) when "On a
        date" came without one, or with one past the latest allowed (compared as a day, before
        its end is worked out: the end of 31 December 9999 is past what a datetime holds)."""
        if self.expires.data != ON_A_DATE:
            return now + timedelta(days=int(self.expires.data or DEFAULT_DAYS))
        if self.expires_on.data is None:
            self.expires_on.errors = [*self.expires_on.errors, gettext("Choose the date.")]
            return None
        if self.expires_on.data > tokens.latest_day(now):
            self.expires_on.errors = [*self.expires_on.errors, tokens.too_long(now)]
            return None
        return tokens.end_of_day(self.expires_on.data)


class RevokeTokenForm(Form):
    """The confirmation page's form: a token is revoked only from there."""

    confirmed = HiddenField()  # "yes", set by the confirmation page
    submit = SubmitField(lazy_gettext("Revoke it"))
