"""Sending webhooks: the `send-webhooks` job (docs/architecture.md, "The send-webhooks job").

Each due delivery (pending, its next attempt now or past, its endpoint switched on) is
claimed, signed as Standard Webhooks says (`webhook-id`, `webhook-timestamp`,
`webhook-signature` over id, timestamp and the exact body), and POSTed to the address that
`addresses.check_destination` allows at that moment, connecting to the very IP address it
checked (so a name that changes between the check and the connection cannot lead inside).
A 2xx answer within the timeout (the whole request's, not each read's) delivers it; anything
else — another status, a redirect (never followed), no answer in time, no connection, an error
of our own — is an attempt that failed, retried later with exponential back-off until the last
attempt, after which the delivery has failed. An endpoint whose deliveries keep failing is
switched off and its admin told (docs/product.md, "Deliveries, retries and switching off").
One delivery never stops a run, and one receiver never holds up the others for long: a run
claims for RUN_SECONDS at most, and an endpoint that did not answer gets no more attempts in
that run.

Like e-mail delivery this module commits, once per step: a claim must be visible to other
servers before the request is sent, and nothing is held open (on SQLite: the write lock)
while waiting for an answer.
"""

from __future__ import annotations

import contextlib
import functools
import http.client
import json
import logging
import random
import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import TracebackType
from typing import Final
from urllib.parse import quote, urlsplit

import certifi
import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext, ngettext
from standardwebhooks.webhooks import Webhook

from serviceideas.database import utcnow, writing
from serviceideas.errors import RuleViolation
from serviceideas.extensions import db
from serviceideas.i18n import speaking_to
from serviceideas.notifications.models import Category, Target
from serviceideas.notifications.services import notify
from serviceideas.people.models import User
from serviceideas.people.policies import can_administer
from serviceideas.webhooks import messages
from serviceideas.webhooks.addresses import ascii_host, check_destination, short_address
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
# A claimed delivery is not due again until its request has surely ended (the timeout is the
# request's all told, Deadline; twice it, for the address check's DNS look-up and to spare),
# and a minute more: a run that died mid-send leaves it to be sent again by a later run
# (receivers skip a repeated webhook-id).
CLAIM_MARGIN: Final = timedelta(minutes=1)
BATCH: Final = 500
# A run claims deliveries for this long at most (the job runs every minute); what is left
# waits for the next run.
RUN_SECONDS: Final = 50.0
# Events whose deliveries all ended (delivered or failed) are forgotten after this long,
# with their deliveries and attempts: the endpoint's log shows the last 30 days.
KEEP_EVENTS: Final = timedelta(days=30)
USER_AGENT: Final = "serviceideas"
# The certificates TLS trusts: certifi's bundle, as the requests library uses.
CA_FILE = certifi.where()
# What a request line may hold as it is; anything else in the path or query is %-encoded.
URL_SAFE: Final = "!#$%&'()*+,/:;=?@[]~"

log = logging.getLogger(__name__)


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
    """What one attempt got: the status code (None: no answer), and what went wrong (never
    the address: a chat product's holds its secret). `unanswered`: the endpoint could not be
    reached (no connection, no answer in time, an address refused), so the run tries it no
    more."""

    code: int | None
    error: str | None
    milliseconds: int
    unanswered: bool = False

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
    out_of_time: int = 0  # not claimed: the run's time was up
    put_off: int = 0  # not claimed: their endpoint did not answer in this run

    def line(self) -> str:
        text = f"{self.delivered} delivered, {self.failed} failed, {self.retrying} to retry."
        left = self.out_of_time + self.put_off
        if left:
            text += f" {left} left for the next run"
            if self.put_off == left:
                text += " (their endpoint did not answer)."
            elif self.put_off:
                text += f" ({self.put_off} as their endpoint did not answer)."
            else:
                text += "."
        if self.switched_off:
            names = ", ".join(self.switched_off)
            failed = plural(switch_off_after(), "delivery", "deliveries")
            text += f" Switched off, {failed} in a row failed: {names}."
        return text


def switch_off_after() -> int:
    return int(current_app.config["WEBHOOKS_SWITCH_OFF_AFTER"])


def timeout() -> float:
    return float(current_app.config["WEBHOOKS_TIMEOUT_SECONDS"])


def send_due(*, limit: int = BATCH, seconds: float = RUN_SECONDS) -> Summary:
    """Send every due delivery (at most `limit`, claiming for `seconds` at most), each claimed
    first so that two runs at once never send the same one; then forget old events. After an
    endpoint did not answer, its other deliveries wait for the next run, unclaimed. Whatever
    goes wrong with one delivery is logged and recorded as its failed attempt: the run goes on.
    Commits (see the module's docstring)."""
    summary = Summary()
    stop_at = time.monotonic() + seconds
    with writing():
        due = db.session.execute(
            sa.select(WebhookDelivery.id, WebhookDelivery.endpoint_id)
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
        unanswered: set[int] = set()
        for n, (delivery_id, endpoint_id) in enumerate(due):
            if time.monotonic() >= stop_at:
                summary.out_of_time = len(due) - n
                break
            if endpoint_id in unanswered:
                summary.put_off += 1
                continue
            try:
                send_one(delivery_id, summary, unanswered)
            except Exception:  # one delivery never stops the run; the claim expires
                db.session.rollback()
                log.exception("Recording webhook delivery %s failed", delivery_id)
        summary.forgotten = forget_old_events(utcnow() - KEEP_EVENTS)
        db.session.commit()
    return summary


def send_one(delivery_id: int, summary: Summary, unanswered: set[int]) -> None:
    """Claim, send and record one delivery, adding to `summary` (and its endpoint to
    `unanswered` if it could not be reached). Commits."""
    outgoing = claim(delivery_id)
    db.session.commit()  # the claim is visible to every other sender before we send
    if outgoing is None:
        return  # another run took it, or its endpoint was switched off meanwhile
    try:
        outcome = attempt(outgoing)
    except Exception as error:
        log.exception("Sending webhook delivery %s failed", delivery_id)
        outcome = Outcome(
            None,
            f"Not sent: an error in serviceideas ({type(error).__name__}); the server's log "
            "has it.",
            0,
        )
    if outcome.unanswered:
        unanswered.add(outgoing.endpoint_id)
    try:
        state, switched_off = record(outgoing, outcome)
        db.session.commit()
    except Exception as error:
        # Recorded without its endpoint's part (the count, switching off, the notice), so
        # that the delivery still ends after its last attempt rather than fail so for ever.
        db.session.rollback()
        log.exception("Recording webhook delivery %s failed", delivery_id)
        words = f"Not recorded: an error in serviceideas ({type(error).__name__}); the server's "
        failed = Outcome(outcome.code, words + "log has it.", outcome.milliseconds)
        state, switched_off = record(outgoing, failed, endpoint_too=False)
        db.session.commit()
    if state is DeliveryState.DELIVERED:
        summary.delivered += 1
    elif state is DeliveryState.FAILED:
        summary.failed += 1
    elif state is DeliveryState.PENDING:
        summary.retrying += 1
    if switched_off:
        summary.switched_off.append(outgoing.endpoint_name)


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
    """POST the delivery once, within the timeout all told. Touches no database: nothing is
    held open while waiting."""
    started = time.monotonic()
    body = body_of(outgoing)
    headers = signed_headers(outgoing, body, utcnow())
    try:
        addresses = check_destination(outgoing.url)
    except RuleViolation as refused:
        return Outcome(None, f"Not sent: {refused.message}"[:ERROR_MAX], 0, unanswered=True)
    code: int | None = None
    error: str | None = None
    unanswered = False
    with Deadline(timeout()) as deadline:
        for address in addresses[:2]:  # a second address only if the first would not connect
            try:
                code, error = post(outgoing.url, address, body.encode(), headers, deadline)
                unanswered = False
                break
            except Unanswered as failure:
                code, error, unanswered = None, failure.error, failure.unanswered
                if failure.connected or deadline.passed:
                    break
    milliseconds = round((time.monotonic() - started) * 1000)
    return Outcome(
        code, None if error is None else error[:ERROR_MAX], milliseconds, unanswered=unanswered
    )


class Unanswered(Exception):
    """A request that got no answer: `error` says why in words (never the address),
    `connected` whether a connection was made, `unanswered` whether the endpoint did not
    answer at all (no connection, or no answer in time)."""

    def __init__(self, error: str, *, connected: bool, timed_out: bool) -> None:
        super().__init__(error)
        self.error = error
        self.connected = connected
        self.unanswered = timed_out or not connected


class Deadline:
    """A limit on a request's whole time, whatever it is waiting for. A socket's timeout
    limits each read: a receiver sending a byte now and then would keep the request open for
    ever. When the time is up, the watched socket is shut, which ends the read or write under
    way at once."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.ends = time.monotonic() + seconds
        self.passed = False
        self._lock = threading.Lock()
        self._socket: socket.socket | None = None
        self._over = False
        self._timer = threading.Timer(seconds, self._pass)
        self._timer.daemon = True

    def __enter__(self) -> Deadline:
        self._timer.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        with self._lock:
            self._over = True
        self._timer.cancel()

    def left(self) -> float:
        return max(self.ends - time.monotonic(), 0.001)

    def watch(self, connection: socket.socket) -> None:
        """Shut `connection` when the time is up (at once if it is)."""
        with self._lock:
            self._socket = connection
            if self.passed:
                _shut(connection)

    def _pass(self) -> None:
        with self._lock:
            if self._over:
                return
            self.passed = True
            if self._socket is not None:
                _shut(self._socket)


def _shut(connection: socket.socket) -> None:
    # The plain socket's shutdown, also for a TLS one: from another thread, without touching
    # the TLS state the reading thread is using. OSError: already closed, or not connected
    # yet (its connect has its own timeout).
    with contextlib.suppress(OSError):
        socket.socket.shutdown(connection, socket.SHUT_RDWR)


@functools.cache
def _tls_context(ca_file: str) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=ca_file)


def post(
    url: str, address: str, body: bytes, headers: dict[str, str], deadline: Deadline | None = None
) -> tuple[int, str | None]:
    """POST `body` to `url`, connecting to `address` (one it checked), within `deadline` (the
    timeout if none): the status code and, unless 2xx, what went wrong; or Unanswered. The host
    is named (Host, TLS's SNI and certificate check) in its ASCII form (`ascii_host`). The
    answer's body is never read, and redirects never followed (they could lead anywhere). No
    proxy is used."""
    if deadline is None:
        with Deadline(timeout()) as own:
            return post(url, address, body, headers, own)
    parts = urlsplit(url)
    name = ascii_host(parts.hostname or "")
    https = parts.scheme.lower() == "https"
    shown = f"[{name}]" if ":" in name else name
    host = shown if parts.port is None else f"{shown}:{parts.port}"
    target = quote(parts.path or "/", safe=URL_SAFE)
    if parts.query:
        target += "?" + quote(parts.query, safe=URL_SAFE)
    connection = _connect(address, parts.port or (443 if https else 80), name, https, deadline)
    exchange = http.client.HTTPConnection(shown)  # the name only: it never connects itself
    exchange.sock = connection  # the connection made above, to the checked address
    try:
        exchange.request("POST", target, body=body, headers={**headers, "Host": host})
        response = exchange.getresponse()
        code, reason, where = response.status, response.reason, response.getheader("Location")
        if deadline.passed:  # shut mid-headers: http.client reads the end as their end
            raise TimeoutError
    except (OSError, http.client.HTTPException) as failure:
        raise _unanswered(failure, deadline, connected=True) from None
    finally:
        exchange.close()
    if 200 <= code < 300:
        return code, None
    if 300 <= code < 400 and where:
        shown_where = short_address(where) if "://" in where else where[:40]
        return code, f"Answered {code}, a redirect to {shown_where!r}: redirects are not followed."
    return code, f"Answered {code} {reason or ''}".strip() + "."


def _connect(address: str, port: int, name: str, https: bool, deadline: Deadline) -> socket.socket:
    """A connection to `address`, through TLS for `name` if `https`; or Unanswered."""
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    plain = socket.socket(family, socket.SOCK_STREAM)
    deadline.watch(plain)
    try:
        plain.settimeout(deadline.left())
        plain.connect((address, port))
    except OSError as failure:
        plain.close()
        raise _unanswered(failure, deadline, connected=False) from None
    if not https:
        return plain
    try:
        tls = _tls_context(CA_FILE).wrap_socket(
            plain, server_hostname=name, do_handshake_on_connect=False
        )
    except (OSError, ValueError) as failure:
        plain.close()
        raise _unanswered(failure, deadline, connected=True) from None
    deadline.watch(tls)
    try:
        tls.do_handshake()
    except OSError as failure:
        tls.close()
        raise _unanswered(failure, deadline, connected=True) from None
    return tls


def _unanswered(failure: BaseException, deadline: Deadline, *, connected: bool) -> Unanswered:
    """What went wrong, from the failure's kind and reason only: its text may hold the
    address, and a chat product's address holds its secret."""
    seconds = f"{deadline.seconds:g}"
    if deadline.passed or isinstance(failure, TimeoutError):
        if connected:
            return Unanswered(
                f"No answer within {seconds} seconds.", connected=True, timed_out=True
            )
        return Unanswered(
            f"Could not connect within {seconds} seconds.", connected=False, timed_out=True
        )
    if isinstance(failure, ConnectionRefusedError):
        error = "The connection was refused."
    elif isinstance(failure, ssl.SSLCertVerificationError):
        error = f"TLS failed: {failure.verify_message or failure.reason}."
    elif isinstance(failure, ssl.SSLError):
        error = f"TLS failed: {failure.reason or type(failure).__name__}."
    elif isinstance(failure, http.client.RemoteDisconnected):
        error = "The receiver closed the connection without answering."
    elif isinstance(failure, http.client.HTTPException):
        error = f"The answer was not HTTP ({type(failure).__name__})."
    elif isinstance(failure, OSError) and failure.strerror:
        doing = "The connection failed" if connected else "Could not connect"
        error = f"{doing}: {failure.strerror}."
    else:
        error = f"{'The connection failed' if connected else 'Could not connect'} "
        error += f"({type(failure).__name__})."
    return Unanswered(error, connected=connected, timed_out=False)


# After the attempt


def record(
    outgoing: Outgoing, outcome: Outcome, *, endpoint_too: bool = True
) -> tuple[DeliveryState | None, bool]:
    """Write what the attempt means for the delivery and its endpoint, and the attempt to the
    log: the delivery's new state (None when someone sent it again meanwhile — their choice
    stands — or deleted its endpoint; the attempt is then not logged), and whether this
    failure switched the endpoint off (not `endpoint_too`: the endpoint is left as it is).
    Flushes; the caller commits."""
    now = utcnow()
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
        return None, False  # sent again, or deleted with its endpoint: nothing to log
    # Logged only now: a delivery deleted meanwhile (its endpoint was) takes no attempt.
    db.session.add(
        WebhookAttempt(
            delivery_id=outgoing.delivery_id,
            at=now,
            response_code=outcome.code,
            error=outcome.error,
            milliseconds=outcome.milliseconds,
        )
    )
    if not endpoint_too:
        return state, False
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

    def reason() -> str:
        return failure_reason(failures, outcome.error)

    switched = db.session.execute(
        sa.update(WebhookEndpoint)
        .where(WebhookEndpoint.id == outgoing.endpoint_id, WebhookEndpoint.active.is_(True))
        # Kept with the endpoint and shown on its page: written in the company's language (the
        # job answers no one's request); each admin told reads it in their own.
        .values(active=False, switched_off_at=now, switched_off_reason=reason())
        .returning(WebhookEndpoint.id)
        .execution_options(synchronize_session=False)
    ).first()
    if switched is None:
        return False
    endpoint = db.session.get_one(WebhookEndpoint, outgoing.endpoint_id)
    db.session.refresh(endpoint)
    tell_admins_switched_off(endpoint, reason)
    return True


def failure_reason(failures: int, error: str | None) -> str:
    """Why an endpoint was switched off, in the current language."""
    return ngettext(
        "%(num)d delivery in a row failed, each after %(attempts)d attempts; the last: %(error)s",
        "%(num)d deliveries in a row failed, each after %(attempts)d attempts; the last: %(error)s",
        failures,
        attempts=ATTEMPTS,
        error=error or gettext("no answer"),
    )[:ERROR_MAX]


def tell_admins_switched_off(endpoint: WebhookEndpoint, reason: Callable[[], str]) -> int:
    """The admin who registered the endpoint hears it was switched off; if they are no longer an
    active admin, every active admin does. `reason` writes why, in the language it is asked in.
    Returns how many were told."""
    creator = endpoint.created_by
    if can_administer(creator):
        admins = [creator]
    else:
        admins = list(
            db.session.scalars(
                sa.select(User).where(User.is_admin.is_(True), User.is_active).order_by(User.id)
            )
        )
    at = endpoint.switched_off_at or utcnow()
    key = f"webhook-off:{endpoint.id}:{at:%Y%m%dT%H%M%S}"
    told = 0
    for admin in admins:
        # Each admin reads it in their own language.
        with speaking_to(admin):
            title = gettext(
                "Webhook “%(name)s” was switched off: its deliveries kept failing",
                name=endpoint.name,
            )
            body = gettext(
                "%(reason)s Its waiting deliveries are kept: check the receiver at %(address)s,"
                " then switch it on again on the Webhooks admin page, and they are sent.",
                reason=reason(),
                address=short_address(endpoint.url),
            )
        told += notify(admin.id, Category.IDEAS, key, title, Target.NOTIFICATIONS, body=body)
    return told


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
        raise RuleViolation(gettext("Only admins can send webhooks again."))
    if not delivery.endpoint.active:
        raise RuleViolation(
            gettext(
                "“%(name)s” is switched off: switch it on, and every delivery waiting for it is"
                " sent.",
                name=delivery.endpoint.name,
            )
        )
    delivery.state = DeliveryState.PENDING
    delivery.attempts = 0
    delivery.next_attempt_at = utcnow()
    delivery.error = None
    db.session.flush()
