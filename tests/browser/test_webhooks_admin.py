"""An admin points a webhook at a Slack channel, on a phone: an address inside the network
refused beside the field, the signing secret copied once and gone on reload, a test event and a
failed delivery sent again from the log, switched off and on, then deleted from its
confirmation. Each page fits the phone and passes axe-core's checks in both themes."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from serviceideas.extensions import db
from serviceideas.people.models import Role
from serviceideas.webhooks.models import (
    DeliveryState,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
from tests.browser.test_accessibility import both_themes
from tests.browser.test_phone import FIND_OVERFLOW, PHONE
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser

# A public IP address: registering it asks no DNS server.
ADDRESS = "https://93.184.216.34/services/T0001/B0001/abcdefghijklmnopqrstuvwx"


@pytest.fixture
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    # axe-core goes in as an inline script, which the app's Content-Security-Policy forbids.
    return {**browser_context_args, "bypass_csp": True}


def fits_and_passes(page: Page, where: str) -> None:
    assert page.evaluate(FIND_OVERFLOW) == [], where
    assert both_themes(page, where) == []


def test_an_admin_registers_a_slack_webhook_and_works_its_delivery_log(
    page: Page, live_server, make_user
):
    make_user(Role.ADMIN, email="ada@example.com", name="Ada Admin")
    base = live_server.url
    page.set_viewport_size(PHONE)
    page.goto(f"{base}/login")
    page.get_by_label("Email").fill("ada@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Webhooks").click()
    expect(page.get_by_role("heading", name="Webhooks", level=1)).to_be_visible()

    # An address inside the network is refused beside the field; nothing typed is lost.
    page.get_by_label("Name", exact=True).fill("Logistics channel")
    page.get_by_label("Address (URL)").fill("https://10.0.0.5/hook")
    page.get_by_label("Slack incoming webhook").check()
    page.get_by_label("idea.implemented").check()
    page.get_by_role("button", name="Register endpoint").click()
    expect(page.get_by_text("10.0.0.5 is a private address")).to_be_visible()
    expect(page.get_by_label("Name", exact=True)).to_have_value("Logistics channel")
    expect(page.get_by_label("Slack incoming webhook")).to_be_checked()
    expect(page.get_by_label("idea.implemented")).to_be_checked()
    fits_and_passes(page, "the refused address")

    page.get_by_label("Address (URL)").fill(ADDRESS)
    page.get_by_role("button", name="Register endpoint").click()
    expect(page.get_by_role("heading", name="Signing secret for Logistics channel")).to_be_visible()
    secret = page.get_by_label("Secret", exact=True).input_value()
    assert re.fullmatch(r"whsec_[A-Za-z0-9+/]{43}=", secret)
    row = page.get_by_role("row").filter(has_text="Logistics channel")
    expect(row).to_contain_text("Slack")
    expect(row).not_to_contain_text("abcdefgh")  # the path, Slack's secret, is cut short
    fits_and_passes(page, "the new secret")

    page.reload()
    expect(page.get_by_role("heading", name="Webhooks", level=1)).to_be_visible()
    expect(page.get_by_label("Secret", exact=True)).to_have_count(0)
    assert secret not in page.content()

    # The log: a test event, then a delivery that failed, sent again.
    page.get_by_role("link", name="Logistics channel").click()
    expect(page.get_by_role("heading", name="Logistics channel", level=1)).to_be_visible()
    expect(page.get_by_text("No delivery yet.")).to_be_visible()
    page.get_by_role("button", name="Send a test event").click()
    expect(page.get_by_text("A test event (ping) is on its way")).to_be_visible()
    expect(page.get_by_role("row").filter(has_text="ping")).to_contain_text("Pending")

    endpoint = db.session.query(WebhookEndpoint).one()
    event = WebhookEvent(type="idea.implemented", payload="{}")
    db.session.add(event)
    db.session.flush()
    failed = WebhookDelivery(
        endpoint_id=endpoint.id,
        event_id=event.id,
        message_id="msg_failedonce",
        state=DeliveryState.FAILED,
        attempts=1,
        response_code=500,
        error="HTTP 500",
    )
    db.session.add(failed)
    db.session.flush()
    db.session.add(WebhookAttempt(delivery_id=failed.id, response_code=500, error="HTTP 500"))
    db.session.commit()
    page.reload()
    failed_row = page.get_by_role("row").filter(has_text="idea.implemented")
    expect(failed_row).to_contain_text("Failed")
    failed_row.get_by_text("1 attempt").click()  # the attempts, folded
    expect(failed_row.get_by_text("500 — HTTP 500")).to_be_visible()
    fits_and_passes(page, "the delivery log")
    failed_row.get_by_role("button", name=re.compile("^Send again")).click()
    expect(page.get_by_text("will be sent again")).to_be_visible()
    expect(page.get_by_role("row").filter(has_text="idea.implemented")).to_contain_text("Pending")

    page.get_by_role("button", name="Switch off").click()
    expect(page.get_by_text("Switched off by Ada Admin.")).to_be_visible()
    page.get_by_role("button", name="Switch on").click()
    expect(page.get_by_text("Logistics channel is switched on.")).to_be_visible()

    page.get_by_role("button", name="Delete", exact=True).click()
    expect(page.get_by_role("heading", name="Delete “Logistics channel”?")).to_be_visible()
    assert page.evaluate(FIND_OVERFLOW) == []  # (a confirmation like directory sync's)
    page.get_by_role("button", name="Delete it").click()
    expect(page.get_by_text("Deleted: Logistics channel.")).to_be_visible()
    expect(page.get_by_text("No endpoint yet.")).to_be_visible()
