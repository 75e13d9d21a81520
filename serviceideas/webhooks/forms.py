"""Forms of the webhook admin pages: an endpoint (registered or edited), and confirmations."""

from __future__ import annotations

from flask_babel import LazyString, gettext, lazy_gettext
from wtforms import HiddenField, RadioField, StringField, SubmitField
from wtforms.validators import Length

from serviceideas.forms import Form, SelectChoice, stripped
from serviceideas.people.forms import CheckboxesField
from serviceideas.webhooks.events import EVENT_TYPES
from serviceideas.webhooks.models import NAME_MAX, URL_MAX, EndpointKind, WebhookEndpoint
from serviceideas.webhooks.services import EndpointInput

KIND_CHOICES = [
    SelectChoice(
        EndpointKind.JSON.value,
        lazy_gettext("Signed JSON (Standard Webhooks), for your own systems"),
    ),
    SelectChoice(
        EndpointKind.SLACK.value, lazy_gettext("Slack incoming webhook: a message in a channel")
    ),
    SelectChoice(
        EndpointKind.TEAMS.value, lazy_gettext("Microsoft Teams incoming webhook: a message")
    ),
]


def _event_choice(event_type: str, meaning: LazyString) -> str:
    return gettext("%(event)s: %(meaning)s", event=event_type, meaning=meaning)


class EndpointForm(Form):
    """Registering or editing an endpoint. The rules (the address's above all) are the
    service's: a refusal comes back beside its field."""

    name = StringField(lazy_gettext("Name"), validators=[Length(max=NAME_MAX)], filters=[stripped])
    url = StringField(
        lazy_gettext("Address (URL)"), validators=[Length(max=URL_MAX)], filters=[stripped]
    )
    kind = RadioField(
        lazy_gettext("What it reads"), choices=KIND_CHOICES, default=EndpointKind.JSON.value
    )
    events = CheckboxesField(
        lazy_gettext("Events to send"),
        choices=[SelectChoice(t, LazyString(_event_choice, t, d)) for t, d in EVENT_TYPES.items()],
    )
    submit = SubmitField(lazy_gettext("Register endpoint"))

    @classmethod
    def of(cls, endpoint: WebhookEndpoint) -> EndpointForm:
        """The form filled with the endpoint as it is (a POST's input wins)."""
        form = cls(
            data={
                "name": endpoint.name,
                "url": endpoint.url,
                "kind": endpoint.kind.value,
                "events": list(endpoint.event_types),
            }
        )
        form.submit.label.text = gettext("Save")
        return form

    def given(self) -> EndpointInput:
        return EndpointInput(
            name=self.name.data or "",
            url=self.url.data or "",
            kind=self.kind.data or "",
            events=list(self.events.data or []),
        )


class ConfirmForm(Form):
    """A confirmation page's form: the action is done only from there."""

    confirmed = HiddenField()  # "yes", set by the confirmation page
    submit = SubmitField(lazy_gettext("Yes"))
