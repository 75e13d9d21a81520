"""Sending webhooks: the `send-webhooks` job (docs/architecture.md, "The send-webhooks job").

Each due delivery (pending, its next attempt now or past, its endpoint switched on) is
claimed, signed as Standard Webhooks says (`webhook-id`, `webhook-timestamp`,
`webhook-signature` over id, timestamp and the exact body), and POSTed to the address that
`addresses.check_destination` allows at that moment, connecting to the very IP address it
checked (so a name that changes between the check and the connection cannot lead inside).
A 2xx answer delivers it; anything else — another status, a redirect (never followed), a
timeout, no connection — is an attempt that failed, retried later with exponential back-off
until the last attempt, after which the delivery has failed. An endpoint whose deliveries
keep failing is switched off and its admin told (docs/product.md, "Deliveries, retries and
switching off").

Like e-mail delivery this module commits, once per step: a claim must be visible to other
servers before the request is sent, and nothing is held open (on SQLite: the write lock)
while waiting for an answer.
"""

from __future__ import annotations

import json
import random
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final
from urllib.parse import urlsplit, urlunsplit

import requests
import sqlalchemy as sa
from flask import current_app
from requests.adapters import HTTPAdapter
from standardwebhooks.webhooks import Webhook

from serviceideas.database import utcnow, writing
from serviceideas.errors import RuleViolation
from serviceideas.extensions import db
from serviceideas.notifications.models import Category, Target
from serviceideas.notifications.services import notify
from serviceideas.people.models import User
from serviceideas.people.policies import can_administer
from serviceideas.webhooks import messages
from serviceideas.webhooks.addresses import check_destination
from serviceideas.webhooks.models import (
    ERROR_MAX,
    DeliveryState,
    EndpointKind,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
from serviceideas.wording import plural

# How long to wait after each failed attempt before the next: 1 minute, 5, 30, 2 hours, 5,
# 10, 10 (as Standard Webhooks' reference schedule, from its second step), each up to a tenth
# longer at random so that many deliveries that failed together do not all return together.
# Eight attempts over about 28 hours; then the delivery has failed.
BACK_OFF: Final = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
    timedelta(hours=10),
)
ATTEMPTS: Final = len(BACK_OFF) + 1
JITTER: Final = 0.1
# A claimed delivery is not due again until its request has surely ended (the timeout, twice
# over: connecting and reading), and a minute more: a run that died mid-send leaves it to be
# sent again by a later run (receivers skip a repeated webhook-id).
CLAIM_MARGIN: Final = timedelta(minutes=1)
BATCH: Final = 500
# Events whose deliveries all ended (delivered or failed) are forgotten after this long,
# with their deliveries and attempts: the endpoint's log shows the last 30 days.
KEEP_EVENTS: Final = timedelta(days=30)
USER_AGENT: Final = "serviceideas"


@dataclass(frozen=True)
class Outgoing:
    """A claimed delivery: everything its request needs, read before the claim's commit."""

    delivery_id: int
    message_id: str
    attempts: int  # with this one
    endpoint_id: int
    endpoint_name: str
    url: str
    kind: EndpointKind
    secret: str
    payload: str


@dataclass(frozen=True)
class Outcome:
    """What one attempt got: the status code (None: no answer), and what went wrong."""

    code: int | None
    error: str | None
    milliseconds: int

    @property
    def delivered(self) -> bool:
        return self.code is not None and 200 <= self.code < 300


@dataclass
class Summary:
    delivered: int = 0
    failed: int = 0
    retrying: int = 0
    switched_off: list[str] = field(default_factory=list)
    forgotten: int = 0

    def line(self) -> str:
        text = f"{self.delivered} delivered, {self.failed} failed, {self.retrying} to retry."
        if self.switched_off:
            names = ", ".join(self.switched_off)
            failed = plural(switch_off_after(), "delivery", "deliveries")
            text += f" Switched off, {failed} in a row failed: {names}."
        return text


def switch_off_after() -> int:
    return int(current_app.config["WEBHOOKS_SWITCH_OFF_AFTER"])


def timeout() -> float:
    return float(current_app.config["WEBHOOKS_TIMEOUT_SECONDS"])


def send_due(*, limit: int = BATCH) -> Summary:
    """Send every due delivery (at most `limit`), each claimed first so that two runs at once
    never send the same one; then forget old events. Commits (see the module's docstring)."""
    summary = Summary()
    with writing():
        due = db.session.scalars(
            sa.select(WebhookDelivery.id)
            .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
            .where(
                WebhookDelivery.state == DeliveryState.PENDING,
                WebhookDelivery.next_attempt_at <= utcnow(),
                WebhookEndpoint.active.is_(True),
            )
            .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
            .limit(limit)
        ).all()
        db.session.commit()
        for delivery_id in due:
            outgoing = claim(delivery_id)
            db.session.commit()  # the claim is visible to every other sender before we send
            if outgoing is None:
                continue  # another run took it, or its endpoint was switched off meanwhile
            state, switched_off = record(outgoing, attempt(outgoing))
            db.session.commit()
            if state is DeliveryState.DELIVERED:
                summary.delivered += 1
            elif state is DeliveryState.FAILED:
                summary.failed += 1
            elif state is DeliveryState.PENDING:
                summary.retrying += 1
            if switched_off:
                summary.switched_off.append(outgoing.endpoint_name)
        summary.forgotten = forget_old_events(utcnow() - KEEP_EVENTS)
        db.session.commit()
    return summary


def claim(delivery_id: int) -> Outgoing | None:
    """Take the delivery for this run, or None if it is no longer due: one conditional UPDATE
    moves its next attempt past this one's end and counts the attempt, so no other run finds it
    due meanwhile. Flushes; the caller commits."""
    now = utcnow()
    claimed = db.session.execute(
        sa.update(WebhookDelivery)
        .where(
            WebhookDelivery.id == delivery_id,
            WebhookDelivery.state == DeliveryState.PENDING,
            WebhookDelivery.next_attempt_at <= now,
            WebhookDelivery.endpoint_id.in_(
                sa.select(WebhookEndpoint.id).where(WebhookEndpoint.active.is_(True))
            ),
        )
        .values(
            attempts=WebhookDelivery.attempts + 1,
            last_attempt_at=now,
            next_attempt_at=now + 2 * timedelta(seconds=timeout()) + CLAIM_MARGIN,
        )
        .returning(WebhookDelivery.attempts)
        .execution_options(synchronize_session=False)
    ).first()
    if claimed is None:
        return None
    row = db.session.execute(
        sa.select(
            WebhookDelivery.message_id,
            WebhookEndpoint.id,
            WebhookEndpoint.name,
            WebhookEndpoint.url,
            WebhookEndpoint.kind,
            WebhookEndpoint.secret,
            WebhookEvent.payload,
        )
        .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
        .join(WebhookEvent, WebhookEvent.id == WebhookDelivery.event_id)
        .where(WebhookDelivery.id == delivery_id)
    ).one()
    message_id, endpoint_id, name, url, kind, secret, payload = row
    return Outgoing(
        delivery_id, message_id, claimed.attempts, endpoint_id, name, url, kind, secret, payload
    )


# One attempt


def body_of(outgoing: Outgoing) -> str:
    """The exact text sent (and signed): the event's JSON as written, or the chat message."""
    if outgoing.kind is EndpointKind.JSON:
        return outgoing.payload
    message = messages.body_for(outgoing.kind, json.loads(outgoing.payload))
    return json.dumps(message, ensure_ascii=False, separators=(",", ":"))


def signed_headers(outgoing: Outgoing, body: str, at: datetime) -> dict[str, str]:
    """Standard Webhooks' three headers, signed with the endpoint's secret. Chat endpoints get
    them too: Slack and Teams ignore them, and a relay in between can check them."""
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "webhook-id": outgoing.message_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": Webhook(outgoing.secret).sign(outgoing.message_id, at, body),
    }


def attempt(outgoing: Outgoing) -> Outcome:
    """POST the delivery once. Touches no database: nothing is held open while waiting."""
    started = time.monotonic()
    body = body_of(outgoing)
    headers = signed_headers(outgoing, body, utcnow())
    try:
        addresses = check_destination(outgoing.url)
    except RuleViolation as refused:
        return Outcome(None, f"Not sent: {refused.message}"[:ERROR_MAX], 0)
    code: int | None = None
    error: str | None = None
    for address in addresses[:2]:  # a second address only if the first would not connect
        try:
            code, error = post(outgoing.url, address, body.encode(), headers)
            break
        except requests.ConnectionError as failure:
            code, error = None, _connection_error(failure)
            if isinstance(failure, requests.ConnectTimeout):
                break
        except requests.Timeout:
            code, error = None, f"No answer within {timeout():g} seconds."
            break
        except requests.RequestException as failure:
            code, error = None, f"{type(failure).__name__}: {failure}"
            break
    milliseconds = round((time.monotonic() - started) * 1000)
    return Outcome(code, None if error is None else error[:ERROR_MAX], milliseconds)


class PinnedAddress(HTTPAdapter):
    """Connects to the IP address given in the URL, while TLS checks the certificate of (and
    tells the server, by SNI) the host name the endpoint's address names."""

    def __init__(self, host: str) -> None:
        self.host = host
        super().__init__(max_retries=0)

    def init_poolmanager(
        self, connections: int, maxsize: int, block: bool = False, **pool_kwargs: Any
    ) -> None:
        pool_kwargs.update(server_hostname=self.host, assert_hostname=self.host)
        super().init_poolmanager(connections, maxsize, block, **pool_kwargs)


def post(url: str, address: str, body: bytes, headers: dict[str, str]) -> tuple[int, str | None]:
    """POST `body` to `url`, connecting to `address` (one it checked): the status code and,
    unless 2xx, what went wrong. The answer's body is never read, and redirects never
    followed (they could lead anywhere). Environment proxies are not used."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    literal = f"[{address}]" if ":" in address else address
    netloc = literal if parts.port is None else f"{literal}:{parts.port}"
    pinned = urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))
    with requests.Session() as session:
        session.trust_env = False
        session.mount(f"{parts.scheme}://", PinnedAddress(host))
        host_header = host if parts.port is None else f"{host}:{parts.port}"
        response = session.post(
            pinned,
            data=body,
            headers={**headers, "Host": host_header},
            timeout=timeout(),
            allow_redirects=False,
            stream=True,
        )
        response.close()
    code = response.status_code
    if 200 <= code < 300:
        return code, None
    if response.is_redirect:
        where = response.headers.get("Location", "")
        return code, f"Answered {code}, a redirect to {where!r}: redirects are not followed."
    return code, f"Answered {code} {response.reason or ''}".strip() + "."


def _connection_error(failure: requests.ConnectionError) -> str:
    text = str(failure)
    if "refused" in text.lower():
        return "The connection was refused."
    if isinstance(failure, requests.ConnectTimeout):
        return f"Could not connect within {timeout():g} seconds."
    if "certificate" in text.lower() or "ssl" in text.lower():
        return f"TLS failed: {text}"
    return f"Could not connect: {text}"


# After the attempt


def record(outgoing: Outgoing, outcome: Outcome) -> tuple[DeliveryState | None, bool]:
    """Write the attempt to the log and what it means for the delivery and its endpoint: the
    delivery's new state (None when someone sent it again meanwhile: their choice stands), and
    whether this failure switched the endpoint off. Flushes; the caller commits."""
    now = utcnow()
    db.session.add(
        WebhookAttempt(
            delivery_id=outgoing.delivery_id,
            at=now,
            response_code=outcome.code,
            error=outcome.error,
            milliseconds=outcome.milliseconds,
        )
    )
    if outcome.delivered:
        state = DeliveryState.DELIVERED
        next_attempt = None
    elif outgoing.attempts >= ATTEMPTS:
        state, next_attempt = DeliveryState.FAILED, None
    else:
        state, next_attempt = DeliveryState.PENDING, retry_at(outgoing.attempts, now)
    changed = db.session.execute(
        sa.update(WebhookDelivery)
        .where(
            WebhookDelivery.id == outgoing.delivery_id,
            WebhookDelivery.state == DeliveryState.PENDING,
            WebhookDelivery.attempts == outgoing.attempts,  # not sent again meanwhile
        )
        .values(
            state=state,
            next_attempt_at=next_attempt,
            response_code=outcome.code,
            error=outcome.error,
        )
        .returning(WebhookDelivery.id)
        .execution_options(synchronize_session=False)
    ).first()
    if changed is None:
        return None, False
    if state is DeliveryState.DELIVERED:
        db.session.execute(
            sa.update(WebhookEndpoint)
            .where(
                WebhookEndpoint.id == outgoing.endpoint_id, WebhookEndpoint.failures_in_a_row > 0
            )
            .values(failures_in_a_row=0)
            .execution_options(synchronize_session=False)
        )
    elif state is DeliveryState.FAILED:
        return state, _failed_once_more(outgoing, outcome, now)
    return state, False


def retry_at(attempts: int, now: datetime) -> datetime:
    """When to try again after `attempts` attempts failed (BACK_OFF, with its jitter)."""
    wait = BACK_OFF[min(attempts, len(BACK_OFF)) - 1]
    return now + wait * (1 + random.uniform(0, JITTER))  # spreading retries, not a secret


def _failed_once_more(outgoing: Outgoing, outcome: Outcome, now: datetime) -> bool:
    """Count a delivery that finally failed against its endpoint; at WEBHOOKS_SWITCH_OFF_AFTER
    in a row, switch the endpoint off and tell its admin. True if this one switched it off
    (another server's failure at the same moment cannot switch it off twice)."""
    failures = db.session.execute(
        sa.update(WebhookEndpoint)
        .where(WebhookEndpoint.id == outgoing.endpoint_id)
        .values(failures_in_a_row=WebhookEndpoint.failures_in_a_row + 1)
        .returning(WebhookEndpoint.failures_in_a_row)
        .execution_options(synchronize_session=False)
    ).scalar_one()
    if failures < switch_off_after():
        return False
    reason = (
        f"{failures} deliveries in a row failed, each after {ATTEMPTS} attempts; the last: "
        f"{outcome.error or 'no answer'}"
    )[:ERROR_MAX]
    switched = db.session.execute(
        sa.update(WebhookEndpoint)
        .where(WebhookEndpoint.id == outgoing.endpoint_id, WebhookEndpoint.active.is_(True))
        .values(active=False, switched_off_at=now, switched_off_reason=reason)
        .returning(WebhookEndpoint.id)
        .execution_options(synchronize_session=False)
    ).first()
    if switched is None:
        return False
    endpoint = db.session.get_one(WebhookEndpoint, outgoing.endpoint_id)
    db.session.refresh(endpoint)
    tell_admins_switched_off(endpoint, reason)
    return True


def tell_admins_switched_off(endpoint: WebhookEndpoint, reason: str) -> int:
    """The admin who registered the endpoint hears it was switched off; if they are no longer an
    active admin, every active admin does. Returns how many were told."""
    creator = endpoint.created_by
    if can_administer(creator):
        admins = [creator.id]
    else:
        admins = list(
            db.session.scalars(
                sa.select(User.id).where(User.is_admin.is_(True), User.is_active).order_by(User.id)
            )
        )
    at = endpoint.switched_off_at or utcnow()
    key = f"webhook-off:{endpoint.id}:{at:%Y%m%dT%H%M%S}"
    title = f"Webhook “{endpoint.name}” was switched off: its deliveries kept failing"
    body = (
        f"{reason} Its waiting deliveries are kept: check the receiver at {endpoint.url}, then "
        "switch it on again on the Webhooks admin page, and they are sent."
    )
    return sum(
        notify(admin_id, Category.IDEAS, key, title, Target.NOTIFICATIONS, body=body)
        for admin_id in admins
    )


def forget_old_events(before: datetime) -> int:
    """Delete events that happened before `before` and have nothing left to send (their
    deliveries and attempts go with them). Returns how many."""
    waiting = sa.select(WebhookDelivery.id).where(
        WebhookDelivery.event_id == WebhookEvent.id,
        WebhookDelivery.state == DeliveryState.PENDING,
    )
    result = db.session.execute(
        sa.delete(WebhookEvent)
        .where(WebhookEvent.occurred_at < before, ~waiting.exists())
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]  # a CursorResult: DML


# Send again (the delivery log's button)


def send_again(delivery: WebhookDelivery, acting: User) -> None:
    """Make the delivery due now, as a fresh series of attempts (docs/product.md,
    "Deliveries, retries and switching off"): the same delivery, with the same webhook-id,
    so a receiver that already has it can tell (it is one delivery of one event per
    endpoint). Its earlier attempts stay in the log. A delivery waiting for its next attempt
    is simply tried now. Refused for anyone but an admin, and while its endpoint is switched
    off (switching it on sends what waits). Flushes."""
    if not can_administer(acting):
        raise RuleViolation("Only admins can send webhooks again.")
    if not delivery.endpoint.active:
        raise RuleViolation(
            f"“{delivery.endpoint.name}” is switched off: switch it on, and every delivery "
            "waiting for it is sent."
        )
    delivery.state = DeliveryState.PENDING
    delivery.attempts = 0
    delivery.next_attempt_at = utcnow()
    delivery.error = None
    db.session.flush()
