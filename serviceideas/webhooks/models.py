"""Webhook endpoints, the events written for them, and each delivery and attempt."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from flask_babel import lazy_gettext
from sqlalchemy.orm import Mapped, mapped_column, relationship

from serviceideas.database import UTCDateTime, enum_column_type, utcnow
from serviceideas.extensions import db
from serviceideas.people.models import User

if TYPE_CHECKING:
    from serviceideas.extensions import Base as Model  # what db.Model is, to the type checker
else:
    Model = db.Model  # Flask-SQLAlchemy makes it at run time, out of mypy's sight

NAME_MAX = 80
URL_MAX = 2000
EVENTS_MAX = 500
ERROR_MAX = 500
EVENT_TYPE_MAX = 40


class EndpointKind(enum.StrEnum):
    """What the endpoint reads: our signed JSON, or a chat product's incoming-webhook message."""

    JSON = "json"
    SLACK = "slack"
    TEAMS = "teams"

    @property
    def label(self) -> str:
        return str(KIND_LABELS[self])


KIND_LABELS = {
    EndpointKind.JSON: lazy_gettext("Signed JSON"),
    EndpointKind.SLACK: lazy_gettext("Slack"),
    EndpointKind.TEAMS: lazy_gettext("Microsoft Teams"),
}


class DeliveryState(enum.StrEnum):
    PENDING = "pending"  # waiting for its next attempt (next_attempt_at)
    DELIVERED = "delivered"  # the endpoint answered 2xx
    # Every attempt failed: given up. (Switching an endpoint off fails none of its deliveries:
    # they stay pending, and are sent when it is switched on again.)
    FAILED = "failed"

    @property
    def label(self) -> str:
        return str(STATE_LABELS[self])


STATE_LABELS = {
    DeliveryState.PENDING: lazy_gettext("Pending"),
    DeliveryState.DELIVERED: lazy_gettext("Delivered"),
    DeliveryState.FAILED: lazy_gettext("Failed"),
}


class WebhookEndpoint(Model):
    """An address an admin registered for some events."""

    __tablename__ = "webhook_endpoints"
    __table_args__ = (sa.CheckConstraint("failures_in_a_row >= 0", name="failures_not_negative"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(NAME_MAX))
    url: Mapped[str] = mapped_column(sa.String(URL_MAX))
    kind: Mapped[EndpointKind] = mapped_column(enum_column_type(EndpointKind, "endpoint_kind"))
    # Space-separated event types ("idea.submitted idea.implemented").
    events: Mapped[str] = mapped_column(sa.String(EVENTS_MAX))
    # The Standard Webhooks signing secret ("whsec_" and base64), shown to the admin once. It
    # is kept as it is, because signing needs it (SECURITY.md, "Webhooks").
    secret: Mapped[str] = mapped_column(sa.String(100))
    active: Mapped[bool] = mapped_column(default=True)
    # Deliveries that failed one after another: at the limit the endpoint is switched off.
    failures_in_a_row: Mapped[int] = mapped_column(default=0)
    switched_off_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    switched_off_reason: Mapped[str | None] = mapped_column(sa.String(ERROR_MAX))
    created_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="RESTRICT"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    created_by: Mapped[User] = relationship()

    @property
    def event_types(self) -> tuple[str, ...]:
        return tuple(self.events.split())


class WebhookEvent(Model):
    """Something that happened, as the versioned JSON payload sent for it. Written in the
    transaction that caused it, so an event is never sent for a change that was rolled back,
    and never lost for one that was committed."""

    __tablename__ = "webhook_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    type: Mapped[str] = mapped_column(sa.String(EVENT_TYPE_MAX))
    payload: Mapped[str] = mapped_column(sa.Text())  # JSON
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class WebhookDelivery(Model):
    """One event for one endpoint: its state, and when it is next tried."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        sa.UniqueConstraint("endpoint_id", "event_id", name="one_delivery_per_endpoint_event"),
        sa.Index("ix_webhook_deliveries_due", "state", "next_attempt_at"),
        sa.Index("ix_webhook_deliveries_endpoint_latest", "endpoint_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(
        sa.ForeignKey("webhook_endpoints.id", ondelete="CASCADE")
    )
    event_id: Mapped[int] = mapped_column(
        sa.ForeignKey("webhook_events.id", ondelete="CASCADE"), index=True
    )
    # The `webhook-id` header: the same for every attempt, so a receiver can skip a repeat.
    message_id: Mapped[str] = mapped_column(sa.String(40), unique=True)
    state: Mapped[DeliveryState] = mapped_column(
        enum_column_type(DeliveryState, "delivery_state"), default=DeliveryState.PENDING
    )
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=utcnow)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    response_code: Mapped[int | None]
    error: Mapped[str | None] = mapped_column(sa.String(ERROR_MAX))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    endpoint: Mapped[WebhookEndpoint] = relationship()
    event: Mapped[WebhookEvent] = relationship()


class WebhookAttempt(Model):
    """One try at a delivery, for the endpoint's log."""

    __tablename__ = "webhook_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(
        sa.ForeignKey("webhook_deliveries.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    response_code: Mapped[int | None]  # None: no answer (refused, timed out)
    error: Mapped[str | None] = mapped_column(sa.String(ERROR_MAX))
    milliseconds: Mapped[int] = mapped_column(default=0)

    delivery: Mapped[WebhookDelivery] = relationship()
