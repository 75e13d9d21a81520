"""What admins do with webhook endpoints: register one (its signing secret shown once), edit it,
switch it off and on, delete it, give it a new secret, and send it a test event (docs/product.md,
"Webhooks and team chat"). Functions flush, never commit, and take the acting admin."""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Collection
from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import gettext

from serviceideas.database import utcnow
from serviceideas.errors import RuleViolation, required_text
from serviceideas.extensions import db
from serviceideas.people.models import User
from serviceideas.webhooks.addresses import check_address
from serviceideas.webhooks.events import EVENT_TYPES, VERSION, new_message_id
from serviceideas.webhooks.models import (
    EVENTS_MAX,
    NAME_MAX,
    DeliveryState,
    EndpointKind,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)

SECRET_PREFIX = "whsec_"  # noqa: S105 - what every signing secret starts with, not a secret
SECRET_BYTES = 32  # Standard Webhooks: between 24 and 64 random bytes
# The test event an admin sends from the endpoint's page; no endpoint subscribes to it.
PING = "ping"


@dataclass(frozen=True)
class EndpointInput:
    """What the register and edit forms say about an endpoint."""

    name: str
    url: str
    kind: str
    events: Collection[str]


def new_secret() -> str:
    """A Standard Webhooks signing secret: "whsec_" and the base64 of random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def register_endpoint(acting: User, given: EndpointInput) -> tuple[WebhookEndpoint, str]:
    """A new endpoint, switched on, and its signing secret: shown to the admin once (it stays
    stored, as signing needs it, but no page shows it again)."""
    endpoint = WebhookEndpoint(secret=new_secret(), created_by_id=acting.id, active=True)
    _fill(endpoint, given)
    db.session.add(endpoint)
    db.session.flush()
    return endpoint, endpoint.secret


def edit_endpoint(acting: User, endpoint: WebhookEndpoint, given: EndpointInput) -> None:
    """A new name, address, kind or events; the secret stays. Deliveries already written keep
    their events; new events follow the new choice."""
    _fill(endpoint, given)
    db.session.flush()


def _fill(endpoint: WebhookEndpoint, given: EndpointInput) -> None:
    """Check every field, then set them all (a refusal names its field)."""
    name = required_text(given.name, "name", gettext("the name"), NAME_MAX)
    url = check_address(given.url)
    try:
        kind = EndpointKind(given.kind)
    except ValueError:
        raise RuleViolation(gettext("Choose what the endpoint reads."), "kind") from None
    events = [event for event in EVENT_TYPES if event in set(given.events)]
    if not events:
        raise RuleViolation(gettext("Choose at least one event to send."), "events")
    if unknown := sorted(set(given.events) - set(EVENT_TYPES)):
        raise RuleViolation(
            gettext("There is no event %(event)s.", event=repr(unknown[0])), "events"
        )
    endpoint.name, endpoint.url, endpoint.kind = " ".join(name.split()), url, kind
    endpoint.events = " ".join(events)
    assert len(endpoint.events) <= EVENTS_MAX  # every event type fits, by design


def replace_secret(acting: User, endpoint: WebhookEndpoint) -> str:
    """A new signing secret, shown once; the old one stops at once: deliveries from now on,
    retries included, are signed with the new one."""
    endpoint.secret = new_secret()
    db.session.flush()
    return endpoint.secret


def switch_off(acting: User, endpoint: WebhookEndpoint) -> None:
    """No delivery is sent to it until it is switched on again; no new ones are written for it
    (docs/product.md, "Deliveries, retries and switching off"). Its pending ones wait."""
    if not endpoint.active:
        return
    endpoint.active = False
    endpoint.switched_off_at = utcnow()
    # Kept as written, in the language of the admin who switched it off.
    endpoint.switched_off_reason = gettext("Switched off by %(name)s.", name=acting.name)
    db.session.flush()


def switch_on(acting: User, endpoint: WebhookEndpoint) -> int:
    """Sending again, with a clean count of failures; its pending deliveries are due at once.
    Answers how many are pending."""
    endpoint.active = True
    endpoint.failures_in_a_row = 0
    endpoint.switched_off_at = None
    endpoint.switched_off_reason = None
    resumed = db.session.execute(
        sa.update(WebhookDelivery)
        .where(
            WebhookDelivery.endpoint_id == endpoint.id,
            WebhookDelivery.state == DeliveryState.PENDING,
        )
        .values(next_attempt_at=utcnow())
    )
    db.session.flush()
    return int(getattr(resumed, "rowcount", 0) or 0)


def delete_endpoint(acting: User, endpoint: WebhookEndpoint) -> None:
    """The endpoint goes, and its deliveries and their attempts with it (the database's
    cascade); events other endpoints still deliver stay."""
    db.session.delete(endpoint)
    db.session.flush()
    # Events no delivery needs any more: an event is written only for its deliveries.
    db.session.execute(
        sa.delete(WebhookEvent).where(
            ~sa.exists().where(WebhookDelivery.event_id == WebhookEvent.id)
        )
    )


def send_test_event(acting: User, endpoint: WebhookEndpoint) -> WebhookDelivery:
    """A `ping` event for this endpoint only, sent by the next run of the job like any other;
    its payload is shaped as every event's. Refused while the endpoint is switched off, which
    gets no new deliveries (docs/product.md, "Deliveries, retries and switching off")."""
    if not endpoint.active:
        raise RuleViolation(
            gettext(
                "“%(name)s” is switched off: switch it on, then send a test event.",
                name=endpoint.name,
            )
        )
    now = utcnow()
    payload = {
        "type": PING,
        "version": VERSION,
        "id": "evt_" + secrets.token_urlsafe(12),
        "occurred_at": now.isoformat().replace("+00:00", "Z"),
        "data": {"endpoint": endpoint.name, "sent_by": acting.name},
    }
    event = WebhookEvent(
        type=PING, payload=json.dumps(payload, ensure_ascii=False), occurred_at=now
    )
    db.session.add(event)
    db.session.flush()
    delivery = WebhookDelivery(
        endpoint_id=endpoint.id,
        event_id=event.id,
        message_id=new_message_id(),
        state=DeliveryState.PENDING,
        next_attempt_at=now,
        created_at=now,
    )
    db.session.add(delivery)
    db.session.flush()
    return delivery
