"""Forms of the directory-sync admin pages: a new token, revoking one, filtering the log."""

from __future__ import annotations

from flask_babel import gettext, lazy_gettext
from wtforms import BooleanField, HiddenField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Length, Optional

from serviceideas.forms import Form, SelectChoice, stripped
from serviceideas.scim.models import TOKEN_NAME_MAX, ScimToken

ANY_TOKEN = ""
# The filter's value for requests whose bearer token was missing or not one of ours.
NO_VALID_TOKEN = "none"  # noqa: S105 - a filter's value, not a secret


class NewTokenForm(Form):
    name = StringField(
        lazy_gettext("Name"),
        validators=[DataRequired(), Length(max=TOKEN_NAME_MAX)],
        filters=[stripped],
    )
    submit = SubmitField(lazy_gettext("Create token"))


class RevokeTokenForm(Form):
    """The confirmation page's form: a token is revoked only from there."""

    confirmed = HiddenField()  # "yes", set by the confirmation page
    submit = SubmitField(lazy_gettext("Revoke it"))


class RequestFilterForm(Form):
    """The log's filters; read from the query string, so no CSRF token."""

    class Meta:
        csrf = False

    token = SelectField(lazy_gettext("Token"), validators=[Optional()], filters=[stripped])
    errors_only = BooleanField(lazy_gettext("Errors only (status 400 and above)"))

    def offer(self, tokens: list[ScimToken]) -> None:
        self.token.choices = [
            SelectChoice(ANY_TOKEN, gettext("Any token")),
            *(SelectChoice(str(token.id), token_label(token)) for token in tokens),
            SelectChoice(NO_VALID_TOKEN, gettext("No token, or one never made here")),
        ]

    def token_id(self) -> int | None:
        """The token chosen, or None for any (or for requests without one of ours)."""
        value = self.token.data or ANY_TOKEN
        return int(value) if value.isdigit() else None

    def without_token(self) -> bool:
        """Only the requests that carried no token, or one never made here."""
        return bool(self.token.data == NO_VALID_TOKEN)


def token_label(token: ScimToken) -> str:
    """How a token is named in a list: its name and first characters, and whether revoked."""
    if token.is_revoked:
        return gettext("%(name)s (%(prefix)s…) — revoked", name=token.name, prefix=token.prefix)
    return f"{token.name} ({token.prefix}…)"
