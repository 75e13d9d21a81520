"""Forms of the webhook admin pages: an endpoint (registered or edited), and confirmations."""

from __future__ import annotations

from wtforms import HiddenField, RadioField, StringField, SubmitField
from wtforms.validators import Length

from serviceideas.forms import Form, SelectChoice, stripped
from serviceideas.people.forms import CheckboxesField
from serviceideas.webhooks.events import EVENT_TYPES
from serviceideas.webhooks.models import NAME_MAX, URL_MAX, EndpointKind, WebhookEndpoint
from serviceideas.webhooks.services import EndpointInput

KIND_CHOICES = [
    SelectChoice(EndpointKind.JSON.value, "Signed JSON (Standard Webhooks), for your own systems"),
    SelectChoice(EndpointKind.SLACK.value, "Slack incoming webhook: a message in a channel"),
    SelectChoice(EndpointKind.TEAMS.value, "Microsoft Teams incoming webhook: a message"),
]


class EndpointForm(Form):
    """Registering or editing an endpoint. The rules (the address's above all) are the
    service's: a refusal comes back beside its field."""

    name = StringField("Name", validators=[Length(max=NAME_MAX)], filters=[stripped])
    url = StringField("Address (URL)", validators=[Length(max=URL_MAX)], filters=[stripped])
    kind = RadioField("What it reads", choices=KIND_CHOICES, default=EndpointKind.JSON.value)
    events = CheckboxesField(
        "Events to send", choices=[SelectChoice(t, f"{t}: {d}") for t, d in EVENT_TYPES.items()]
    )
    submit = SubmitField("Register endpoint")

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
        form.submit.label.text = "Save"
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
    submit = SubmitField("Yes")
