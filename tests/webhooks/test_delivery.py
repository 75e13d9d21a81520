"""The send-webhooks job against a real receiver on loopback that verifies each signature:
delivery, retries and back-off, switching off, send again, two runs at once, chat formats and
the address check at send time (docs/product.md, "Deliveries, retries and switching off")."""

from __future__ import annotations

import json
import ssl
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
import requests.adapters
import sqlalchemy as sa
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from serviceideas.database import utcnow
from serviceideas.errors import RuleViolation
from serviceideas.extensions import db
from serviceideas.ideas import services as ideas
from serviceideas.ideas.models import Lens, Status
from serviceideas.notifications.models import Notification
from serviceideas.people.models import DepartmentKind, Role
from serviceideas.webhooks import delivery
from serviceideas.webhooks.models import (
    DeliveryState,
    EndpointKind,
    WebhookAttempt,
    WebhookEndpoint,
    WebhookEvent,
)
from tests.notifications.conftest import free_port
from tests.webhooks.conftest import SLOW, deliveries, make_due


def submit(make_user, title: str = "Tell stores when a delivery will be late"):
    idea = ideas.submit_idea(
        make_user(),
        ideas.IdeaDraft(
            title=title,
            problem="Lorries run late.",
            proposal="Text them.",
            lens=Lens.CARE,
            beneficiary=None,
        ),
    )
    db.session.commit()
    return idea


def attempts_of(one) -> list[WebhookAttempt]:
    return list(
        db.session.scalars(
            sa.select(WebhookAttempt)
            .where(WebhookAttempt.delivery_id == one.id)
            .order_by(WebhookAttempt.id)
        )
    )


def test_a_delivery_is_signed_and_the_receiver_verifies_it(make_endpoint, make_user, receiver):
    endpoint = make_endpoint(events=("idea.submitted",))
    submit(make_user)

    summary = delivery.send_due()

    assert summary.line() == "1 delivered, 0 failed, 0 to retry."
    [got] = receiver.received
    [sent] = deliveries()
    event = db.session.get_one(WebhookEvent, sent.event_id)
    assert got.verified
    assert got.body == event.payload.encode()  # the exact bytes signed
    assert got.headers["webhook-id"] == sent.message_id
    assert got.headers["Content-Type"] == "application/json"
    assert got.headers["User-Agent"] == "serviceideas"
    assert got.headers["Host"] == f"127.0.0.1:{receiver.port}"
    assert got.path == endpoint.url.split(str(receiver.port))[1]
    assert sent.state is DeliveryState.DELIVERED and sent.attempts == 1
    assert sent.response_code == 200 and sent.next_attempt_at is None
    [logged] = attempts_of(sent)
    assert logged.response_code == 200 and logged.error is None and logged.milliseconds >= 0
    assert delivery.send_due().line() == "0 delivered, 0 failed, 0 to retry."  # sent once


def test_a_failing_receiver_is_tried_again_after_a_back_off(make_endpoint, make_user, receiver):
    endpoint = make_endpoint(events=("idea.submitted",))
    endpoint.failures_in_a_row = 3
    db.session.commit()
    submit(make_user)
    receiver.answers.extend([500, 200])

    assert delivery.send_due().line() == "0 delivered, 0 failed, 1 to retry."
    [waiting] = deliveries()
    assert waiting.state is DeliveryState.PENDING and waiting.attempts == 1
    assert waiting.response_code == 500 and "500" in (waiting.error or "")
    assert waiting.last_attempt_at is not None and waiting.next_attempt_at is not None
    wait = waiting.next_attempt_at - waiting.last_attempt_at
    assert timedelta(minutes=1) <= wait <= timedelta(minutes=1.1, seconds=1)
    assert delivery.send_due().line() == "0 delivered, 0 failed, 0 to retry."  # not yet due

    make_due(waiting)
    assert delivery.send_due().line() == "1 delivered, 0 failed, 0 to retry."
    [done] = deliveries()
    assert done.state is DeliveryState.DELIVERED and done.attempts == 2
    assert [a.response_code for a in attempts_of(done)] == [500, 200]
    assert [r.headers["webhook-id"] for r in receiver.received] == [done.message_id] * 2
    assert all(r.verified for r in receiver.received)
    db.session.refresh(endpoint)
    assert endpoint.failures_in_a_row == 0  # a success starts the count again


def test_a_timeout_a_refused_connection_and_a_redirect_are_failed_attempts(
    make_endpoint, make_user, receiver
):
    slow = make_endpoint(events=("idea.submitted",))
    closed = make_endpoint(events=("idea.submitted",), url=f"http://127.0.0.1:{free_port()}/x")
    submit(make_user)
    receiver.answers.append(SLOW)
    receiver.slow = 1.0  # the app waits 0.5 s

    assert delivery.send_due().line() == "0 delivered, 0 failed, 2 to retry."
    [timed_out] = deliveries(slow)
    [refused] = deliveries(closed)
    assert timed_out.response_code is None and "within 0.5 seconds" in (timed_out.error or "")
    assert refused.response_code is None and "refused" in (refused.error or "")

    receiver.answers.append(302)
    make_due(timed_out)
    delivery.send_due()
    [redirected] = deliveries(slow)
    assert redirected.state is DeliveryState.PENDING and redirected.response_code == 302
    assert "not followed" in (redirected.error or "")
    assert all(r.path != "/elsewhere" for r in receiver.received)


def test_back_off_grows_until_the_last_attempt_fails_the_delivery(make_endpoint, make_user):
    make_endpoint(events=("idea.submitted",), url=f"http://127.0.0.1:{free_port()}/x")
    submit(make_user)
    waits = []
    for _ in range(delivery.ATTEMPTS - 1):
        delivery.send_due()
        [one] = deliveries()
        assert one.next_attempt_at is not None and one.last_attempt_at is not None
        waits.append(one.next_attempt_at - one.last_attempt_at)
        make_due(one)
    assert delivery.send_due().line() == "0 delivered, 1 failed, 0 to retry."

    for wait, planned in zip(waits, delivery.BACK_OFF, strict=True):
        assert planned <= wait <= planned * (1 + delivery.JITTER) + timedelta(seconds=1)
    [failed] = deliveries()
    assert failed.state is DeliveryState.FAILED and failed.attempts == delivery.ATTEMPTS
    assert failed.next_attempt_at is None
    assert len(attempts_of(failed)) == delivery.ATTEMPTS


def fail_finally(endpoint: WebhookEndpoint) -> None:
    """Run the job until every delivery of the endpoint has used all its attempts."""
    for _ in range(delivery.ATTEMPTS):
        make_due(*deliveries(endpoint))
        delivery.send_due()


def told(user) -> list[str]:
    return list(
        db.session.scalars(sa.select(Notification.title).where(Notification.user_id == user.id))
    )


def test_an_endpoint_that_keeps_failing_is_switched_off_and_its_admin_told(
    app, make_endpoint, make_user, admin, receiver
):
    app.config["WEBHOOKS_SWITCH_OFF_AFTER"] = 2
    other_admin = make_user(Role.ADMIN)
    endpoint = make_endpoint(
        events=("idea.submitted",), url=f"http://127.0.0.1:{free_port()}/x", name="Reports"
    )
    submit(make_user)
    fail_finally(endpoint)
    db.session.refresh(endpoint)
    assert endpoint.active and endpoint.failures_in_a_row == 1

    submit(make_user)
    fail_finally(endpoint)
    db.session.refresh(endpoint)
    assert not endpoint.active and endpoint.switched_off_at is not None
    assert "2 deliveries in a row failed" in (endpoint.switched_off_reason or "")
    assert told(admin) == ["Webhook “Reports” was switched off: its deliveries kept failing"]
    assert told(other_admin) == []  # the admin who registered it is told

    # Switched off: what happens next waits, and no new deliveries are written for it.
    other = make_endpoint(events=("idea.submitted",))
    submit(make_user)
    make_due()
    assert delivery.send_due().line() == "1 delivered, 0 failed, 0 to retry."
    assert len(deliveries(endpoint)) == 2 and len(deliveries(other)) == 1


def test_with_its_admin_gone_every_admin_is_told(app, make_endpoint, make_user, admin):
    app.config["WEBHOOKS_SWITCH_OFF_AFTER"] = 1
    registered_by = make_user(Role.ADMIN)
    endpoint = make_endpoint(
        events=("idea.submitted",),
        url=f"http://127.0.0.1:{free_port()}/x",
        created_by=registered_by,
    )
    registered_by.active = False
    db.session.commit()
    submit(make_user)
    summary = delivery.Summary()
    for _ in range(delivery.ATTEMPTS):
        make_due()
        summary = delivery.send_due()
    assert summary.switched_off == [endpoint.name]
    assert summary.line().endswith(f"Switched off, 1 delivery in a row failed: {endpoint.name}.")
    assert len(told(admin)) == 1 and told(registered_by) == []


def test_send_again_makes_a_delivery_due_now(make_endpoint, make_user, admin, receiver):
    endpoint = make_endpoint(events=("idea.submitted",))
    submit(make_user)
    delivery.send_due()
    [sent] = deliveries()

    with pytest.raises(RuleViolation):
        delivery.send_again(sent, make_user(Role.MANAGER))
    delivery.send_again(sent, admin)
    db.session.commit()
    [again] = deliveries()
    assert again.state is DeliveryState.PENDING and again.attempts == 0
    assert delivery.send_due().line() == "1 delivered, 0 failed, 0 to retry."
    assert [r.headers["webhook-id"] for r in receiver.received] == [sent.message_id] * 2
    assert len(attempts_of(again)) == 2  # the log keeps both

    endpoint.active = False
    db.session.commit()
    with pytest.raises(RuleViolation, match="switched off"):
        delivery.send_again(again, admin)


def test_two_runs_at_once_send_each_message_once(app, make_endpoint, make_user, receiver):
    make_endpoint(events=("idea.submitted",))
    make_endpoint(events=("idea.submitted",))
    for n in range(3):
        submit(make_user, f"Idea {n}")
    receiver.delay = 0.05  # the runs overlap
    summaries: list[delivery.Summary] = []

    def run() -> None:
        with app.app_context():
            summaries.append(delivery.send_due())

    runs = [threading.Thread(target=run) for _ in range(2)]
    for thread in runs:
        thread.start()
    for thread in runs:
        thread.join(timeout=30)

    ids = [r.headers["webhook-id"] for r in receiver.received]
    assert len(ids) == 6 and len(set(ids)) == 6
    assert sum(s.delivered for s in summaries) == 6
    assert all(d.state is DeliveryState.DELIVERED for d in deliveries())


def test_slack_and_teams_get_their_own_message_format(
    make_endpoint, make_user, make_department, make_idea, receiver
):
    slack = make_endpoint(kind=EndpointKind.SLACK, events=("idea.implemented",))
    teams = make_endpoint(kind=EndpointKind.TEAMS, events=("idea.implemented",))
    logistics = make_department("Logistics", DepartmentKind.BACK_OFFICE)
    make_idea(Status.IMPLEMENTED)
    idea = make_idea(
        Status.IMPLEMENTED,
        author=make_user(department=logistics),
        title="Tell stores when a delivery will be late",
    )
    make_due()
    delivery.send_due()

    bodies = {r.path: r.json for r in receiver.received if r.verified}
    slack_body = bodies[slack.url.split(str(receiver.port))[1]]
    teams_body = bodies[teams.url.split(str(receiver.port))[1]]
    line = (
        "Logistics put into practice: *Tell stores when a delivery will be late* — 2 this quarter"
    )
    assert slack_body["text"] == line.replace("*", "")
    assert slack_body["blocks"][0]["text"] == {"type": "mrkdwn", "text": line}
    assert slack_body["blocks"][0]["accessory"]["url"] == (
        f"https://ideas.example.com/ideas/{idea.id}"
    )
    assert "Back office · 1 of them from Logistics" in json.dumps(slack_body, ensure_ascii=False)
    [card] = teams_body["attachments"]
    assert teams_body["type"] == "message"
    assert card["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert card["content"]["type"] == "AdaptiveCard"
    # A RichTextBlock's runs (no markdown: the words as they are), the title in bold.
    [before, title, after] = card["content"]["body"][0]["inlines"]
    assert [before["text"], title["text"], after["text"]] == line.split("*")
    assert title["weight"] == "bolder"
    assert card["content"]["actions"][0]["url"] == f"https://ideas.example.com/ideas/{idea.id}"


def test_slack_markup_in_a_title_is_shown_as_text(make_endpoint, make_user, receiver):
    make_endpoint(kind=EndpointKind.SLACK, events=("idea.submitted",))
    submit(make_user, "Stop <!channel> & <https://x.example|fake links>")
    delivery.send_due()
    [got] = receiver.received
    text = got.json["blocks"][0]["text"]["text"]
    assert "<" not in text and "&lt;!channel&gt; &amp; &lt;https://x.example|fake links&gt;" in text


def test_markdown_in_a_title_is_shown_as_text_in_teams(
    make_endpoint, make_user, receiver
):
    """Teams' TextBlock reads markdown: a title could show a link of its author's choosing.
    Every text goes in a RichTextBlock's TextRuns, which Teams shows as written."""
    make_endpoint(kind=EndpointKind.TEAMS, events=("idea.submitted",))
    title = "[Reset your password](https://evil.example) **now**"
    submit(make_user, title)
    delivery.send_due()
    [got] = receiver.received
    [card] = got.json["attachments"]
    blocks = card["content"]["body"]
    assert {block["type"] for block in blocks} == {"RichTextBlock"}
    runs = [run for block in blocks for run in block["inlines"]]
    assert {run["type"] for run in runs} == {"TextRun"}
    assert title in [run["text"] for run in runs]


def test_a_private_address_is_refused_when_sending(app, make_endpoint, make_user, receiver):
    make_endpoint(events=("idea.submitted",))
    submit(make_user)
    app.config["WEBHOOKS_ALLOW_PRIVATE"] = False

    assert delivery.send_due().line() == "0 delivered, 0 failed, 1 to retry."
    assert receiver.received == []
    [refused] = deliveries()
    assert refused.response_code is None
    assert (refused.error or "").startswith("Not sent: 127.0.0.1 is a loopback address")


def test_the_command_sends_and_says_what_it_did(app, make_endpoint, make_user, receiver):
    make_endpoint(events=("idea.submitted",))
    submit(make_user)
    result = app.test_cli_runner().invoke(args=["send-webhooks"])
    assert result.exit_code == 0, result.output
    assert result.output.strip().endswith("1 delivered, 0 failed, 0 to retry.")
    assert len(receiver.received) == 1


def test_old_events_with_nothing_left_to_send_are_forgotten(make_endpoint, make_user):
    make_endpoint(events=("idea.submitted",), url=f"http://127.0.0.1:{free_port()}/x")
    submit(make_user)
    submit(make_user)
    first, second = deliveries()
    first.state = DeliveryState.FAILED
    db.session.execute(sa.update(WebhookEvent).values(occurred_at=utcnow() - timedelta(days=31)))
    db.session.commit()

    assert delivery.forget_old_events(utcnow() - delivery.KEEP_EVENTS) == 1
    db.session.commit()
    assert [d.id for d in deliveries()] == [second.id]  # still pending: kept


def test_the_request_goes_to_the_address_that_was_checked(app, receiver):
    """The URL's name is not looked up again when connecting: the checked address is used,
    so DNS that answers otherwise a moment later cannot lead elsewhere."""
    url = f"http://localhost:{receiver.port}/pinned"
    headers = {"Content-Type": "application/json"}
    assert delivery.post(url, "127.0.0.1", b"{}", headers) == (200, None)
    assert receiver.received[-1].headers["Host"] == f"localhost:{receiver.port}"
    with pytest.raises(requests.ConnectionError):  # nothing listens there
        delivery.post(url, "127.0.0.2", b"{}", headers)


@pytest.fixture
def tls_receiver(tmp_path, monkeypatch) -> Iterator[int]:
    """An HTTPS server on 127.0.0.1 with a certificate for "localhost" that requests trusts."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = utcnow()
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=1))
        .not_valid_after(now + timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            self.send_response(204)
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setattr(requests.adapters, "DEFAULT_CA_BUNDLE_PATH", str(cert_file))
    yield int(server.server_address[1])
    server.shutdown()
    server.server_close()


def test_tls_checks_the_names_certificate_on_the_checked_address(app, tls_receiver):
    headers = {"Content-Type": "application/json"}
    named = f"https://localhost:{tls_receiver}/in"
    assert delivery.post(named, "127.0.0.1", b"{}", headers) == (204, None)
    with pytest.raises(requests.exceptions.SSLError):  # the certificate is not for this name
        delivery.post(f"https://127.0.0.1:{tls_receiver}/in", "127.0.0.1", b"{}", headers)
