"""The send-webhooks job against a real receiver on loopback that verifies each signature:
delivery, retries and back-off, switching off, send again, two runs at once, chat formats and
the address check at send time (docs/product.md, "Deliveries, retries and switching off")."""

from __future__ import annotations

import json
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
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
    app, make_endpoint, make_user, receiver, closed_port
):
    app.config["WEBHOOKS_TIMEOUT_SECONDS"] = 0.5
    slow = make_endpoint(events=("idea.submitted",))
    closed = make_endpoint(events=("idea.submitted",), url=f"http://127.0.0.1:{closed_port}/x")
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


def test_back_off_grows_until_the_last_attempt_fails_the_delivery(
    make_endpoint, make_user, closed_port
):
    make_endpoint(events=("idea.submitted",), url=f"http://127.0.0.1:{closed_port}/x")
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
    app, make_endpoint, make_user, admin, receiver, closed_port
):
    app.config["WEBHOOKS_SWITCH_OFF_AFTER"] = 2
    other_admin = make_user(Role.ADMIN)
    endpoint = make_endpoint(
        events=("idea.submitted",), url=f"http://127.0.0.1:{closed_port}/x", name="Reports"
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


def test_with_its_admin_gone_every_admin_is_told(app, make_endpoint, make_user, admin, closed_port):
    app.config["WEBHOOKS_SWITCH_OFF_AFTER"] = 1
    registered_by = make_user(Role.ADMIN)
    endpoint = make_endpoint(
        events=("idea.submitted",),
        url=f"http://127.0.0.1:{closed_port}/x",
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


def test_markdown_in_a_title_is_shown_as_text_in_teams(make_endpoint, make_user, receiver):
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


def test_old_events_with_nothing_left_to_send_are_forgotten(make_endpoint, make_user, closed_port):
    make_endpoint(events=("idea.submitted",), url=f"http://127.0.0.1:{closed_port}/x")
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
    with pytest.raises(delivery.Unanswered, match="refused"):  # nothing listens there
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
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.DNSName("xn--bcher-kva.localhost")]
            ),
            critical=False,
        )
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
    monkeypatch.setattr(delivery, "CA_FILE", str(cert_file))
    yield int(server.server_address[1])
    server.shutdown()
    server.server_close()


def test_tls_checks_the_names_certificate_on_the_checked_address(app, tls_receiver):
    headers = {"Content-Type": "application/json"}
    named = f"https://localhost:{tls_receiver}/in"
    assert delivery.post(named, "127.0.0.1", b"{}", headers) == (204, None)
    with pytest.raises(delivery.Unanswered, match=r"^TLS failed: "):  # not this name's
        delivery.post(f"https://127.0.0.1:{tls_receiver}/in", "127.0.0.1", b"{}", headers)
    # The certificate names the IDNA form (as every certificate does), and no final dot.
    for host in ("bücher.localhost", "BÜCHER.localhost", "localhost."):
        url = f"https://{host}:{tls_receiver}/in"
        assert delivery.post(url, "127.0.0.1", b"{}", headers) == (204, None), host


def test_a_host_name_in_any_script_or_with_a_final_dot_is_sent_in_its_ascii_form(
    make_endpoint, make_user, receiver
):
    """The Host header (and TLS's name, below) carry the name's IDNA form: http.client cannot
    send a non-Latin one at all (it stopped the whole run), and a Latin-1 one went out raw."""
    port = receiver.port
    japanese = make_endpoint(events=("idea.submitted",), url=f"http://例え.localhost:{port}/a")
    german = make_endpoint(events=("idea.submitted",), url=f"http://bücher.localhost:{port}/b")
    dotted = make_endpoint(events=("idea.submitted",), url=f"http://localhost.:{port}/c")
    submit(make_user)

    assert delivery.send_due().line() == "3 delivered, 0 failed, 0 to retry."
    hosts = {r.path: r.headers["Host"] for r in receiver.received}
    assert hosts == {
        japanese.url.split(str(port))[1]: f"xn--r8jz45g.localhost:{port}",
        german.url.split(str(port))[1]: f"xn--bcher-kva.localhost:{port}",
        dotted.url.split(str(port))[1]: f"localhost:{port}",
    }


def test_an_ipv6_host_is_sent_in_brackets(app, receiver):
    headers = {"Content-Type": "application/json"}
    assert delivery.post(f"http://[::1]:{receiver.port}/v6", "127.0.0.1", b"{}", headers) == (
        200,
        None,
    )
    assert receiver.received[-1].headers["Host"] == f"[::1]:{receiver.port}"
    other = f"http://[2001:db8::abcd]:{receiver.port}/v6"  # ends in what is not a port
    assert delivery.post(other, "127.0.0.1", b"{}", headers) == (200, None)
    assert receiver.received[-1].headers["Host"] == f"[2001:db8::abcd]:{receiver.port}"


def test_an_error_inside_one_delivery_fails_its_attempt_and_the_run_goes_on(
    make_endpoint, make_user, receiver
):
    """Whatever goes wrong with one delivery (here: a stored event its chat message cannot be
    made from) is a failed attempt, logged; the run sends the others, and the delivery fails
    after its last attempt instead of being claimed again forever."""
    broken = make_endpoint(kind=EndpointKind.SLACK, events=("idea.submitted",))
    good = make_endpoint(events=("idea.submitted",))
    submit(make_user)
    db.session.execute(sa.update(WebhookEvent).values(payload='{"type": "idea.submitted"}'))
    db.session.commit()

    assert delivery.send_due().line() == "1 delivered, 0 failed, 1 to retry."
    [waiting] = deliveries(broken)
    assert waiting.attempts == 1 and waiting.response_code is None
    assert (waiting.error or "").startswith("Not sent: an error in serviceideas (KeyError)")
    assert [d.state for d in deliveries(good)] == [DeliveryState.DELIVERED]
    for _ in range(delivery.ATTEMPTS - 1):
        make_due(waiting)
        delivery.send_due()
    [failed] = deliveries(broken)
    assert failed.state is DeliveryState.FAILED and failed.attempts == delivery.ATTEMPTS
    assert len(attempts_of(failed)) == delivery.ATTEMPTS


def test_an_error_while_recording_an_attempt_still_ends_the_delivery_after_the_last(
    app, make_endpoint, make_user, closed_port, monkeypatch
):
    app.config["WEBHOOKS_SWITCH_OFF_AFTER"] = 1
    endpoint = make_endpoint(events=("idea.submitted",), url=f"http://127.0.0.1:{closed_port}/x")
    submit(make_user)

    def broken(*args: object) -> int:
        raise RuntimeError("the notice could not be written")

    monkeypatch.setattr(delivery, "tell_admins_switched_off", broken)
    for _ in range(delivery.ATTEMPTS + 2):
        make_due()
        delivery.send_due()
    [failed] = deliveries(endpoint)
    assert failed.state is DeliveryState.FAILED and failed.attempts == delivery.ATTEMPTS
    assert (failed.error or "").startswith("Not recorded: an error in serviceideas (RuntimeError)")


def test_an_endpoint_deleted_while_its_delivery_is_sent_does_not_stop_the_run(
    app, make_endpoint, make_user, receiver, monkeypatch
):
    from serviceideas.webhooks import services

    first = make_endpoint(events=("idea.submitted",), name="First").id
    make_endpoint(events=("idea.submitted",), name="Second")
    submit(make_user)
    attempt = delivery.attempt

    def attempt_while_an_admin_deletes_it(outgoing: delivery.Outgoing) -> delivery.Outcome:
        outcome = attempt(outgoing)
        if outgoing.endpoint_id == first:
            with app.app_context():  # another request, meanwhile
                endpoint = db.session.get_one(WebhookEndpoint, outgoing.endpoint_id)
                services.delete_endpoint(None, endpoint)
                db.session.commit()
        return outcome

    monkeypatch.setattr(delivery, "attempt", attempt_while_an_admin_deletes_it)
    assert delivery.send_due().line() == "1 delivered, 0 failed, 0 to retry."
    assert [d.state for d in deliveries()] == [DeliveryState.DELIVERED]
    assert len(receiver.received) == 2


@pytest.fixture
def dripping() -> Iterator[int]:
    """A receiver that answers one header line every 0.2 s for 3 s: each read gets a byte in
    time, so only a limit on the whole request ends it."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()

    def drip() -> None:
        connection, _ = server.accept()
        with connection:
            connection.recv(65536)
            try:
                connection.sendall(b"HTTP/1.1 200 OK\r\n")
                for _ in range(15):
                    time.sleep(0.2)
                    connection.sendall(b"X-Drip: 1\r\n")
                connection.sendall(b"Content-Length: 0\r\n\r\n")
            except OSError:
                pass  # the sender hung up

    thread = threading.Thread(target=drip, daemon=True)
    thread.start()
    yield int(server.getsockname()[1])
    server.close()


def test_a_request_ends_when_its_whole_time_is_up(app, make_endpoint, make_user, dripping):
    app.config["WEBHOOKS_TIMEOUT_SECONDS"] = 0.5
    make_endpoint(events=("idea.submitted",), url=f"http://127.0.0.1:{dripping}/x")
    submit(make_user)

    started = time.monotonic()
    assert delivery.send_due().line() == "0 delivered, 0 failed, 1 to retry."
    assert time.monotonic() - started < 2
    [late] = deliveries()
    assert late.response_code is None and "within 0.5 seconds" in (late.error or "")


def test_a_run_stops_claiming_when_its_time_is_up(make_endpoint, make_user, receiver):
    make_endpoint(events=("idea.submitted",))
    make_endpoint(events=("idea.submitted",))
    submit(make_user)
    receiver.delay = 0.2

    summary = delivery.send_due(seconds=0.1)
    assert summary.line() == "1 delivered, 0 failed, 0 to retry. 1 left for the next run."
    left = [d for d in deliveries() if d.state is DeliveryState.PENDING]
    assert len(left) == 1 and left[0].attempts == 0  # not claimed: no attempt counted
    assert delivery.send_due().line() == "1 delivered, 0 failed, 0 to retry."


def test_an_endpoint_that_does_not_answer_is_left_for_the_next_run(
    make_endpoint, make_user, receiver, closed_port
):
    """One attempt to an endpoint that did not connect in a run; its other deliveries wait for
    the next run, no attempt counted, and the other endpoints' are sent meanwhile."""
    dead = make_endpoint(events=("idea.submitted",), url=f"http://127.0.0.1:{closed_port}/x")
    alive = make_endpoint(events=("idea.submitted",))
    for n in range(3):
        submit(make_user, f"Idea {n}")

    assert delivery.send_due().line() == (
        "3 delivered, 0 failed, 1 to retry. 2 left for the next run (their endpoint did not "
        "answer)."
    )
    assert sorted(d.attempts for d in deliveries(dead)) == [0, 0, 1]
    assert all(d.state is DeliveryState.DELIVERED for d in deliveries(alive))


def test_no_error_text_or_notification_shows_the_secret_part_of_an_address(
    app, make_endpoint, make_user, admin, tls_receiver
):
    """A chat product's address holds its secret in the path (Slack) or query (Teams): errors
    name what went wrong, never the address, and the admin is told its short form."""
    app.config["WEBHOOKS_SWITCH_OFF_AFTER"] = 1
    # The certificate names localhost, not 127.0.0.1: every attempt fails TLS's check.
    url = f"https://127.0.0.1:{tls_receiver}/services/T0001/B0002/secretsecret?sig=secretsig"
    endpoint = make_endpoint(kind=EndpointKind.TEAMS, events=("idea.submitted",), url=url)
    submit(make_user)
    for _ in range(delivery.ATTEMPTS):
        make_due()
        delivery.send_due()
    [failed] = deliveries(endpoint)
    db.session.refresh(endpoint)
    [body] = db.session.scalars(
        sa.select(Notification.body).where(Notification.user_id == admin.id)
    )
    for text in (failed.error, endpoint.switched_off_reason, body):
        assert text and "secret" not in text, text
    assert (failed.error or "").startswith("TLS failed: ")
    assert f"https://127.0.0.1:{tls_receiver}/services/T0…?…" in body
