"""What the webhook admin pages read: the endpoints with their latest delivery, and each
endpoint's delivery log with the attempts."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import aliased, joinedload

from serviceideas.extensions import db
from serviceideas.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint


@dataclass(frozen=True)
class EndpointRow:
    endpoint: WebhookEndpoint
    latest: WebhookDelivery | None  # its newest delivery, if any


def endpoints_with_latest_delivery() -> list[EndpointRow]:
    """Every endpoint by name, with its newest delivery: one statement."""
    newest = (
        sa.select(sa.func.max(WebhookDelivery.id))
        .where(WebhookDelivery.endpoint_id == WebhookEndpoint.id)
        .correlate(WebhookEndpoint)
        .scalar_subquery()
    )
    latest = aliased(WebhookDelivery)
    rows = db.session.execute(
        sa.select(WebhookEndpoint, latest)
        # Eager: each row names who registered the endpoint.
        .options(joinedload(WebhookEndpoint.created_by))
        .outerjoin(latest, latest.id == newest)
        .order_by(sa.func.lower(WebhookEndpoint.name), WebhookEndpoint.id)
    )
    return [EndpointRow(endpoint, delivery) for endpoint, delivery in rows]


def deliveries_newest_first(endpoint_id: int) -> sa.Select[WebhookDelivery]:
    """The endpoint's deliveries, newest first, each with its event: a statement, so the page
    can be paged."""
    return (
        sa.select(WebhookDelivery)
        # Eager: each line names its event's type.
        .options(joinedload(WebhookDelivery.event))
        .where(WebhookDelivery.endpoint_id == endpoint_id)
        .order_by(WebhookDelivery.id.desc())
    )


def attempts_of(delivery_ids: list[int]) -> dict[int, list[WebhookAttempt]]:
    """The attempts at these deliveries, newest first, by delivery: one statement."""
    if not delivery_ids:
        return {}
    found: dict[int, list[WebhookAttempt]] = defaultdict(list)
    for attempt in db.session.scalars(
        sa.select(WebhookAttempt)
        .where(WebhookAttempt.delivery_id.in_(delivery_ids))
        .order_by(WebhookAttempt.id.desc())
    ):
        found[attempt.delivery_id].append(attempt)
    return dict(found)
