"""An admin connects the company's directory, on a phone: a SCIM token made, copied once,
gone on reload, then revoked, and the directory's requests in the log. Each page fits the
phone and passes axe-core's checks."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from serviceideas.people.models import Role
from tests.browser.test_accessibility import both_themes
from tests.browser.test_phone import FIND_OVERFLOW, PHONE
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


@pytest.fixture
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    # axe-core goes in as an inline script, which the app's Content-Security-Policy forbids.
    return {**browser_context_args, "bypass_csp": True}


def test_an_admin_makes_a_scim_token_sees_it_once_and_revokes_it(
    page: Page, live_server, make_user
):
    make_user(Role.ADMIN, email="ada@example.com", name="Ada Admin")
    base = live_server.url
    page.set_viewport_size(PHONE)
    page.goto(f"{base}/login")
    page.get_by_label("Email").fill("ada@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Directory sync").click()
    expect(page.get_by_role("heading", name="Directory sync", level=1)).to_be_visible()
    expect(page.get_by_label("SCIM base URL (Entra ID: Tenant URL)")).to_have_value(
        "http://127.0.0.1:5000/scim/v2"  # BASE_URL's, whatever address the browser used
    )

    # A name is needed; the refusal is beside the field.
    page.get_by_role("button", name="Create token").click()
    expect(page.get_by_text("This field is required.")).to_be_visible()

    page.get_by_label("Name").fill("Microsoft Entra ID")
    page.get_by_role("button", name="Create token").click()
    expect(
        page.get_by_role("heading", name="Your new token for Microsoft Entra ID")
    ).to_be_visible()
    expect(page.get_by_text("it will not be shown again")).to_be_visible()
    secret = page.get_by_label("Token", exact=True).input_value()
    assert re.fullmatch(r"scim_[\w-]{40,}", secret)
    assert page.evaluate(FIND_OVERFLOW) == []  # the long token does not widen the page
    assert both_themes(page, "the new token") == []

    # The directory uses it: it is let in, and the page says when it was last used.
    directory = page.request.get(
        f"{base}/scim/v2/ServiceProviderConfig", headers={"Authorization": f"Bearer {secret}"}
    )
    assert directory.status == 200

    # Neither going back to it nor reloading it shows the token again, or makes another.
    page.get_by_role("link", name="Request log").click()
    expect(page.get_by_role("heading", name="Request log", level=1)).to_be_visible()
    page.go_back()
    expect(page.get_by_role("heading", name="Directory sync", level=1)).to_be_visible()
    expect(page.get_by_label("Token", exact=True)).to_have_count(0)
    page.reload()
    expect(page.get_by_role("heading", name="Directory sync", level=1)).to_be_visible()
    expect(page.get_by_label("Token", exact=True)).to_have_count(0)
    assert secret not in page.content()
    expect(page.get_by_role("row").filter(has_text="scim_")).to_have_count(1)
    row = page.get_by_role("row").filter(has_text="Microsoft Entra ID")
    expect(row).to_contain_text(secret[:12])
    expect(row).not_to_contain_text("Never")

    row.get_by_role("link", name="Revoke Microsoft Entra ID").click()
    expect(page.get_by_role("heading", name="Revoke “Microsoft Entra ID”?")).to_be_visible()
    assert page.evaluate(FIND_OVERFLOW) == []
    assert both_themes(page, "revoking") == []
    page.get_by_role("button", name="Revoke it").click()
    expect(page.get_by_text("Revoked: Microsoft Entra ID.")).to_be_visible()
    expect(page.get_by_role("row").filter(has_text="Microsoft Entra ID")).to_contain_text("Revoked")

    refused = page.request.get(
        f"{base}/scim/v2/ServiceProviderConfig", headers={"Authorization": f"Bearer {secret}"}
    )
    assert refused.status == 401

    page.get_by_role("link", name="Request log").click()
    lines = page.get_by_role("row")
    expect(lines.nth(1)).to_contain_text("401")
    expect(lines.nth(2)).to_contain_text("200")
    expect(lines.nth(2)).to_contain_text("GET /scim/v2/ServiceProviderConfig")
    assert page.evaluate(FIND_OVERFLOW) == []
    assert both_themes(page, "the request log") == []
