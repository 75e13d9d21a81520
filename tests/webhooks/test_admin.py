"""Admin → Webhooks: endpoints registered with a signing secret shown once, edited, switched off
and on, deleted, and each endpoint's delivery log with "Send again" (docs/product.md,
"Webhooks and team chat"; SECURITY.md, "Webhooks")."""

from __future__ import annotations

import json
import re
import socket
from typing import Any

import pytest
import sqlalchemy as sa

from serviceideas.database import utcnow
from serviceideas.extensions import db
from serviceideas.people.models import Role
from serviceideas.webhooks.models import (
    DeliveryState,
    EndpointKind,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
from tests.conftest import count_queries, table_rows
from tests.people.conftest import refused, text

PAGE = "/admin/webhooks"
SLACK = "https://hooks.slack.example/services/T000/B000/XXXXXXXXXXXXXXXX"
PUBLIC = "93.184.216.34"


@pytest.fixture(autouse=True)
def dns(monkeypatch: pytest.MonkeyPatch) -> None:
    """Names resolve to a public address, and *.inside.example to a private one, without
    asking a real DNS server."""

    def getaddrinfo(host: str, *args: Any, **kwargs: Any) -> list[Any]:
        ip = "10.0.0.7" if host.endswith("inside.example") else PUBLIC
        return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (ip, 0))]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


@pytest.fixture
def app_settings() -> dict[str, Any]:
    """As in production: https only, never the server's own network (tests/webhooks/conftest.py
    allows both, for its receiver on loopback)."""
    return {"WEBHOOKS_ALLOW_HTTP": False, "WEBHOOKS_ALLOW_PRIVATE": False}


def checked(page: str, value: str) -> bool:
    """Whether the checkbox or radio button of `value` is checked on `page`."""
    return any(
        f'value="{value}"' in tag and " checked" in tag for tag in re.findall(r"<input[^>]*>", page)
    )


@pytest.fixture
def admin(make_user):
    return make_user(Role.ADMIN, name="Ada Admin")


@pytest.fixture
def as_admin(client_as, admin):
    return client_as(admin)


def form(**changes: Any) -> dict[str, Any]:
    return {
        "name": "Logistics channel",
        "url": SLACK,
        "kind": "slack",
        "events": ["idea.implemented", "idea.submitted"],
        **changes,
    }


def register(client, **changes: Any) -> tuple[WebhookEndpoint, str]:
    """Register through the page; answer the endpoint and the secret the next page showed."""
    response = client.post(PAGE, data=form(**changes))
    assert response.status_code == 303 and response.headers["Location"] == PAGE
    shown = client.get(PAGE)
    found = re.search(r'id="new-secret-value"[^>]* value="(whsec_[\w+/=]+)"', text(shown))
    assert found, "the new secret is shown"
    assert shown.headers["Cache-Control"] == "no-store"
    endpoint = db.session.scalars(
        sa.select(WebhookEndpoint).order_by(WebhookEndpoint.id.desc())
    ).first()
    assert endpoint is not None
    return endpoint, found.group(1)


def an_endpoint(admin, **values: Any) -> WebhookEndpoint:
    endpoint = WebhookEndpoint(
        name=values.pop("name", "Reporting"),
        url=values.pop("url", f"https://{PUBLIC}/hooks"),
        kind=values.pop("kind", EndpointKind.JSON),
        events=values.pop("events", "idea.submitted idea.implemented"),
        secret="whsec_" + "A" * 43,
        created_by=admin,
        **values,
    )
    db.session.add(endpoint)
    db.session.commit()
    return endpoint


def make_delivery(endpoint, state=DeliveryState.DELIVERED, attempts=1, **values: Any):
    event = WebhookEvent(type=values.pop("type", "idea.submitted"), payload=json.dumps({}))
    db.session.add(event)
    db.session.flush()
    delivery = WebhookDelivery(
        endpoint_id=endpoint.id,
        event_id=event.id,
        message_id=f"msg_{event.id:08d}",
        state=state,
        attempts=attempts,
        next_attempt_at=None if state is not DeliveryState.PENDING else utcnow(),
        **values,
    )
    db.session.add(delivery)
    db.session.flush()
    for _ in range(attempts):
        db.session.add(
            WebhookAttempt(
                delivery_id=delivery.id,
                response_code=values.get("response_code"),
                error=values.get("error"),
                milliseconds=42,
            )
        )
    db.session.commit()
    return delivery


def test_only_admins_reach_the_webhook_pages(client_as, make_user, admin):
    endpoint = an_endpoint(admin)
    delivery = make_delivery(endpoint)
    base = f"{PAGE}/{endpoint.id}"
    pages = [PAGE, base, f"{base}/edit", f"{base}/secret", f"{base}/delete"]
    actions = [
        PAGE,
        f"{base}/edit",
        f"{base}/switch-off",
        f"{base}/switch-on",
        f"{base}/test",
        f"{base}/secret",
        f"{base}/delete",
        f"{base}/deliveries/{delivery.id}/again",
    ]
    for role in (None, Role.TRAINER, Role.MANAGER):
        client = client_as(make_user(role))
        assert [client.get(page).status_code for page in pages] == [403] * len(pages), role
        sent = [client.post(a, data={**form(), "confirmed": "yes"}).status_code for a in actions]
        assert sent == [403] * len(actions), role
        assert f'href="{PAGE}"' not in text(client.get("/"))  # not in their navigation
    assert f'href="{PAGE}"' in text(client_as(admin).get("/"))
    signed_out = client_as(None).get(PAGE)
    assert signed_out.status_code == 302 and "/login" in signed_out.headers["Location"]
    db.session.refresh(endpoint)
    assert (endpoint.name, endpoint.active, endpoint.secret) == (
        "Reporting",
        True,
        "whsec_" + "A" * 43,
    )
    assert db.session.scalar(sa.select(sa.func.count(WebhookEvent.id))) == 1  # no test event


def test_an_endpoint_is_registered_and_its_secret_shown_once(as_admin, admin):
    endpoint, secret = register(as_admin)
    assert (endpoint.name, endpoint.url, endpoint.kind, endpoint.active) == (
        "Logistics channel",
        SLACK,
        EndpointKind.SLACK,
        True,
    )
    assert endpoint.event_types == ("idea.submitted", "idea.implemented")  # in the list's order
    assert endpoint.created_by_id == admin.id
    assert endpoint.secret == secret
    # Standard Webhooks: "whsec_" and the base64 of 24 to 64 random bytes.
    import base64

    assert 24 <= len(base64.b64decode(secret.removeprefix("whsec_"), validate=True)) <= 64

    again = as_admin.get(PAGE)
    assert secret not in text(again) and "not be shown again" not in text(again)
    rows = table_rows(text(again))
    assert rows[1] == [
        "Logistics channel",
        "Slack",
        "https://hooks.slack.example/services/T0…",  # the path, which holds Slack's secret, cut
        "idea.submitted, idea.implemented",
        "On",
        "None yet",
        "0",
    ]
    assert "XXXXXXXX" not in text(again)


def test_a_new_secret_replaces_the_old_one_and_is_shown_once(as_admin):
    endpoint, old = register(as_admin)
    confirmation = as_admin.get(f"{PAGE}/{endpoint.id}/secret")
    assert "The current secret stops at once" in text(confirmation)
    unconfirmed = as_admin.post(f"{PAGE}/{endpoint.id}/secret")  # made by hand
    assert unconfirmed.status_code == 422
    assert "The current secret stops at once" in text(unconfirmed)  # the confirmation again
    assert "Nothing was done: the request was not sent from this confirmation page." in text(
        unconfirmed
    )
    db.session.refresh(endpoint)
    assert endpoint.secret == old

    made = as_admin.post(f"{PAGE}/{endpoint.id}/secret", data={"confirmed": "yes"})
    assert made.headers["Location"] == PAGE
    shown = text(as_admin.get(PAGE))
    db.session.refresh(endpoint)
    assert endpoint.secret != old and endpoint.secret.startswith("whsec_")
    assert f'value="{endpoint.secret}"' in shown and old not in shown
    assert endpoint.secret not in text(as_admin.get(PAGE))


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("http://hooks.slack.example/x", "must start with https://"),
        ("https://127.0.0.1:8080/x", "is a loopback address"),
        ("https://0x7f000001/x", "is a loopback address"),
        ("https://relay.inside.example/x", "relay.inside.example leads to 10.0.0.7"),
        ("https://169.254.169.254/latest/meta-data", "cloud metadata service"),
        ("https://169.254.1.1/in", "link-local"),
        ("https://user:pass@hooks.slack.example/x", "user name or password"),
        ("", "fill in the address"),
    ],
)
def test_a_bad_address_is_refused_beside_the_field_and_nothing_typed_is_lost(as_admin, url, says):
    page = text(refused(as_admin, as_admin.post(PAGE, data=form(url=url, name="Ops room"))))
    error = re.search(r'id="url-error" class="field-error">([^<]*)<', page)
    assert error and says in error.group(1).replace("&#39;", "'")
    assert 'value="Ops room"' in page and (not url or f'value="{url}"' in page)
    assert checked(page, "slack") and checked(page, "idea.implemented")
    assert not checked(page, "json") and not checked(page, "training.completed")
    assert db.session.scalar(sa.select(sa.func.count(WebhookEndpoint.id))) == 0


def test_every_field_is_checked(as_admin):
    page = text(refused(as_admin, as_admin.post(PAGE, data=form(events=[], name=" "))))
    assert "Please fill in the name." in page
    page = text(refused(as_admin, as_admin.post(PAGE, data=form(events=[]))))
    assert "Choose at least one event to send." in page
    page = text(refused(as_admin, as_admin.post(PAGE, data=form(kind="fax"))))
    assert 'id="kind-error"' in page
    page = text(refused(as_admin, as_admin.post(PAGE, data=form(events=["idea.deleted"]))))
    assert 'id="events-error"' in page
    assert db.session.scalar(sa.select(sa.func.count(WebhookEndpoint.id))) == 0


@pytest.mark.parametrize(
    "app_settings", [{"WEBHOOKS_ALLOW_PRIVATE": True, "WEBHOOKS_ALLOW_HTTP": True}]
)
def test_the_settings_allow_plain_http_and_the_companys_own_network(as_admin):
    endpoint, _ = register(as_admin, url="http://127.0.0.1:8080/in", kind="json")
    assert endpoint.url == "http://127.0.0.1:8080/in"
    # Still never a cloud metadata service, even one inside a private range.
    for url in ("http://169.254.169.254/", "http://[fd00:ec2::254]/", "http://100.100.100.200/"):
        page = text(refused(as_admin, as_admin.post(PAGE, data=form(url=url))))
        assert "cloud metadata service" in page, url


def test_an_endpoint_is_edited_and_keeps_its_secret(as_admin, admin):
    endpoint = an_endpoint(admin)
    page = as_admin.get(f"{PAGE}/{endpoint.id}/edit")
    assert f'value="https://{PUBLIC}/hooks"' in text(page)
    assert checked(text(page), "idea.submitted") and not checked(text(page), "idea.commented")

    bad = as_admin.post(f"{PAGE}/{endpoint.id}/edit", data=form(url="https://10.1.1.1/x"))
    assert "10.1.1.1 is a private address" in text(refused(as_admin, bad))
    db.session.refresh(endpoint)
    assert endpoint.url == f"https://{PUBLIC}/hooks"

    saved = as_admin.post(
        f"{PAGE}/{endpoint.id}/edit",
        data=form(
            name="Teams room",
            url="https://teams.example/hook",
            kind="teams",
            events=["training.completed"],
        ),
    )
    assert saved.status_code == 303 and saved.headers["Location"] == f"{PAGE}/{endpoint.id}"
    db.session.refresh(endpoint)
    assert (endpoint.name, endpoint.url, endpoint.kind, endpoint.events) == (
        "Teams room",
        "https://teams.example/hook",
        EndpointKind.TEAMS,
        "training.completed",
    )
    assert endpoint.secret == "whsec_" + "A" * 43


def test_switching_off_and_on(as_admin, admin):
    endpoint = an_endpoint(admin, failures_in_a_row=4)
    waiting = make_delivery(endpoint, DeliveryState.PENDING, attempts=4, error="timed out")
    later = utcnow().replace(year=utcnow().year + 1)
    waiting.next_attempt_at = later
    db.session.commit()

    off = as_admin.post(f"{PAGE}/{endpoint.id}/switch-off")
    assert off.headers["Location"] == f"{PAGE}/{endpoint.id}"
    db.session.refresh(endpoint)
    assert not endpoint.active and endpoint.switched_off_at is not None
    assert endpoint.switched_off_reason == "Switched off by Ada Admin."
    shown = text(as_admin.get(f"{PAGE}/{endpoint.id}"))
    assert "Switched off" in shown and "Switched off by Ada Admin." in shown
    assert "Switched off" in table_rows(text(as_admin.get(PAGE)))[1][4]

    on = as_admin.post(f"{PAGE}/{endpoint.id}/switch-on")
    assert on.headers["Location"] == f"{PAGE}/{endpoint.id}"
    assert "1 waiting delivery is sent next" in text(as_admin.get(f"{PAGE}/{endpoint.id}"))
    db.session.refresh(endpoint)
    db.session.refresh(waiting)
    assert endpoint.active and endpoint.failures_in_a_row == 0
    assert endpoint.switched_off_at is None and endpoint.switched_off_reason is None
    assert waiting.state is DeliveryState.PENDING and waiting.next_attempt_at <= utcnow()


def test_an_endpoint_is_deleted_only_from_the_confirmation_with_its_log(as_admin, admin):
    endpoint = an_endpoint(admin)
    kept = an_endpoint(admin, name="Other")
    make_delivery(endpoint)
    other = make_delivery(kept)
    confirmation = as_admin.get(f"{PAGE}/{endpoint.id}/delete")
    assert "Its delivery log goes with it." in text(confirmation)
    unconfirmed = as_admin.post(f"{PAGE}/{endpoint.id}/delete")  # made by hand
    assert unconfirmed.status_code == 422
    assert "Its delivery log goes with it." in text(unconfirmed)  # the confirmation again
    assert "Nothing was done" in text(unconfirmed)
    assert db.session.get(WebhookEndpoint, endpoint.id) is not None

    deleted = as_admin.post(f"{PAGE}/{endpoint.id}/delete", data={"confirmed": "yes"})
    assert deleted.headers["Location"] == PAGE
    assert "Deleted: Reporting." in text(as_admin.get(PAGE))
    db.session.expire_all()
    assert db.session.scalars(sa.select(WebhookEndpoint.name)).all() == ["Other"]
    assert db.session.scalars(sa.select(WebhookDelivery.id)).all() == [other.id]
    assert db.session.scalars(sa.select(WebhookEvent.id)).all() == [other.event_id]
    assert db.session.scalar(sa.select(sa.func.count(WebhookAttempt.id))) == 1


def test_the_log_shows_deliveries_newest_first_with_their_attempts(as_admin, admin):
    endpoint = an_endpoint(admin)
    make_delivery(endpoint, response_code=200)
    make_delivery(
        endpoint,
        DeliveryState.FAILED,
        attempts=3,
        response_code=500,
        error="HTTP 500",
        type="idea.implemented",
    )
    make_delivery(an_endpoint(admin, name="Other"), type="training.completed")
    page = text(as_admin.get(f"{PAGE}/{endpoint.id}"))
    rows = table_rows(page)[1:]
    assert [(r[0].split("msg_")[0], r[2], r[3], r[4]) for r in rows] == [
        ("idea.implemented", "Failed", "3", "500"),
        ("idea.submitted", "Delivered", "1", "200"),
    ]
    assert "HTTP 500" in rows[0][5] and "3 attempts" in rows[0][5]
    assert "Send again" in rows[0][7] and "Send again" in rows[1][7]
    assert "training.completed" not in page
    assert "2 deliveries" in page
    (listed,) = [r for r in table_rows(text(as_admin.get(PAGE))) if r[0] == "Reporting"]
    assert listed[5].startswith("Failed (500)")  # its newest delivery


def test_a_delivery_is_sent_again(as_admin, admin, client_as, make_user):
    endpoint = an_endpoint(admin)
    failed = make_delivery(endpoint, DeliveryState.FAILED, attempts=3, error="HTTP 500")
    other = an_endpoint(admin, name="Other")
    assert as_admin.post(f"{PAGE}/{other.id}/deliveries/{failed.id}/again").status_code == 404

    again = as_admin.post(f"{PAGE}/{endpoint.id}/deliveries/{failed.id}/again")
    assert again.headers["Location"] == f"{PAGE}/{endpoint.id}"
    db.session.refresh(failed)
    assert failed.state is DeliveryState.PENDING and failed.next_attempt_at <= utcnow()
    assert db.session.scalar(sa.select(sa.func.count(WebhookAttempt.id))) == 3  # the log stays

    # Switched off: refused, with the reason, and nothing changes.
    delivered = make_delivery(endpoint)
    as_admin.post(f"{PAGE}/{endpoint.id}/switch-off")
    refused_again = as_admin.post(f"{PAGE}/{endpoint.id}/deliveries/{delivered.id}/again")
    assert "switched off" in text(as_admin.get(refused_again.headers["Location"]))
    db.session.refresh(delivered)
    assert delivered.state is DeliveryState.DELIVERED


def test_a_test_event_goes_to_that_endpoint_only(as_admin, admin):
    endpoint = an_endpoint(admin)
    an_endpoint(admin, name="Other")
    sent = as_admin.post(f"{PAGE}/{endpoint.id}/test")
    assert sent.headers["Location"] == f"{PAGE}/{endpoint.id}"
    (delivery,) = db.session.scalars(sa.select(WebhookDelivery))
    assert delivery.endpoint_id == endpoint.id and delivery.state is DeliveryState.PENDING
    payload = json.loads(delivery.event.payload)
    assert (delivery.event.type, payload["type"], payload["data"]["endpoint"]) == (
        "ping",
        "ping",
        "Reporting",
    )
    page = text(as_admin.get(f"{PAGE}/{endpoint.id}"))
    assert "A test event (ping) is on its way to Reporting" in page
    assert table_rows(page)[1][0].startswith("ping")

    # Switched off, it gets no new deliveries: not even a test.
    as_admin.post(f"{PAGE}/{endpoint.id}/switch-off")
    refused_test = as_admin.post(f"{PAGE}/{endpoint.id}/test")
    assert "is switched off: switch it on" in text(as_admin.get(refused_test.headers["Location"]))
    assert db.session.scalar(sa.select(sa.func.count(WebhookDelivery.id))) == 1


def test_the_pages_read_the_same_number_of_times_however_much_they_list(as_admin, admin, app):
    def queries_for(page):
        with count_queries() as queries:
            assert as_admin.get(page).status_code == 200
        return queries.count

    endpoint = an_endpoint(admin)
    make_delivery(endpoint)
    log = f"{PAGE}/{endpoint.id}"
    few_endpoints, few_deliveries = queries_for(PAGE), queries_for(log)
    for n in range(4):
        make_delivery(an_endpoint(admin, name=f"More {n}"), DeliveryState.FAILED, attempts=2)
    for _ in range(app.config["PAGE_SIZE"] + 2):
        make_delivery(endpoint, DeliveryState.FAILED, attempts=2, error="HTTP 503")
    assert queries_for(PAGE) == few_endpoints
    assert queries_for(log) == few_deliveries
    assert "Page 1 of 2" in text(as_admin.get(log))


@pytest.mark.parametrize("kind", ["slack", "teams", "json"])
def test_the_new_secret_says_whether_the_receiver_checks_it(as_admin, kind):
    """Slack and Teams ignore the signature headers they are sent: the page says so instead
    of telling the admin to give the secret to the receiver's checker."""
    url = SLACK if kind != "json" else f"https://{PUBLIC}/hooks"
    assert as_admin.post(PAGE, data=form(kind=kind, url=url)).status_code == 303
    page = text(as_admin.get(PAGE))
    assert "new-secret-value" in page
    if kind == "json":
        assert "The receiver checks each request" in page
    else:
        label = {"slack": "Slack", "teams": "Microsoft Teams"}[kind]
        assert f"{label} does not check this secret" in page
        assert "The receiver checks each request" not in page
