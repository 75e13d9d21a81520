"""A real HTTP receiver on loopback that checks every webhook's signature and keeps what it got,
and endpoints pointed at it. The tests allow plain http:// and private addresses (the receiver
is on 127.0.0.1); the test of the address check turns that off again."""

from __future__ import annotations

import base64
import json
import secrets
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import sqlalchemy as sa
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from serviceideas.database import utcnow
from serviceideas.extensions import db
from serviceideas.people.models import Role, User
from serviceideas.webhooks.events import EVENT_TYPES
from serviceideas.webhooks.models import EndpointKind, WebhookDelivery, WebhookEndpoint

SLOW = "slow"  # an answer that comes after the app's timeout


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    verified: bool  # the signature checked out with the endpoint's secret

    @property
    def json(self) -> Any:
        return json.loads(self.body)


class Receiver:
    """Answers each POST with the next of `answers` (a status code, or SLOW), then 200s. A
    request's path names the secret to check it with (`url_for(secret)`)."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.answers: deque[int | str] = deque()
        self.delay = 0.0  # before every answer
        self.slow = 1.0  # for SLOW
        self.secrets: dict[str, str] = {}
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                headers = dict(self.headers.items())
                secret = receiver.secrets.get(self.path)
                try:
                    Webhook(secret or new_secret()).verify(body, headers, json_parse=False)
                    verified = secret is not None
                except WebhookVerificationError:
                    verified = False
                with receiver.lock:
                    receiver.received.append(Received(self.path, headers, body, verified))
                    answer = receiver.answers.popleft() if receiver.answers else 200
                time.sleep(receiver.delay)
                if answer == SLOW:
                    time.sleep(receiver.slow)
                    answer = 200
                try:
                    self.send_response(int(answer))
                    if 300 <= int(answer) < 400:
                        self.send_header("Location", receiver.url("/elsewhere"))
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"ok")
                except OSError:
                    pass  # the sender gave up waiting

            def log_message(self, format: str, *args: Any) -> None:
                pass  # quiet

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def reset(self) -> None:
        self.received.clear()
        self.answers.clear()
        self.secrets.clear()
        self.delay = 0.0

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="session")
def receiving() -> Iterator[Receiver]:
    receiver = Receiver()
    yield receiver
    receiver.stop()


@pytest.fixture
def receiver(receiving: Receiver) -> Receiver:
    receiving.reset()
    return receiving


@pytest.fixture
def app_settings() -> dict[str, Any]:
    return {
        "WEBHOOKS_ALLOW_HTTP": True,
        "WEBHOOKS_ALLOW_PRIVATE": True,
        # Long enough for a loaded machine's 200; a test of a slow receiver sets a short one.
        "WEBHOOKS_TIMEOUT_SECONDS": 3,
        "BASE_URL": "https://ideas.example.com",
    }


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A loopback port bound for the test's length and never listening: a connection to it is
    refused, and no other test (another xdist worker included) can start a server on it."""
    with socket.socket() as bound:
        bound.bind(("127.0.0.1", 0))
        yield int(bound.getsockname()[1])


@pytest.fixture
def admin(make_user: Callable[..., User]) -> User:
    return make_user(Role.ADMIN, name="Ada Admin")


@pytest.fixture
def make_endpoint(receiver: Receiver, admin: User) -> Callable[..., WebhookEndpoint]:
    """An endpoint (all events unless told) at the receiver, under a path of its own."""

    def make(
        *,
        kind: EndpointKind = EndpointKind.JSON,
        events: tuple[str, ...] = tuple(EVENT_TYPES),
        url: str | None = None,
        active: bool = True,
        created_by: User | None = None,
        name: str | None = None,
    ) -> WebhookEndpoint:
        path = f"/hook/{secrets.token_hex(4)}"
        secret = new_secret()
        receiver.secrets[path] = secret
        endpoint = WebhookEndpoint(
            name=name or f"Receiver {path[-8:]}",
            url=url or receiver.url(path),
            kind=kind,
            events=" ".join(events),
            secret=secret,
            active=active,
            created_by=created_by or admin,
        )
        db.session.add(endpoint)
        db.session.commit()
        return endpoint

    return make


def deliveries(endpoint: WebhookEndpoint | None = None) -> list[WebhookDelivery]:
    statement = sa.select(WebhookDelivery).order_by(WebhookDelivery.id)
    if endpoint is not None:
        statement = statement.where(WebhookDelivery.endpoint_id == endpoint.id)
    db.session.expire_all()
    return list(db.session.scalars(statement))


def make_due(*deliveries_: WebhookDelivery) -> None:
    """Move the next attempt into the past: the back-off's wait without waiting."""
    ids = [d.id for d in deliveries_] or [d.id for d in deliveries()]
    db.session.execute(
        sa.update(WebhookDelivery)
        .where(WebhookDelivery.id.in_(ids), WebhookDelivery.next_attempt_at.is_not(None))
        .values(next_attempt_at=utcnow() - timedelta(seconds=1))
    )
    db.session.commit()
