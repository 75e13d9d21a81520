"""An employee makes an API token on a phone, in the dark: found from the menu, made with the
keyboard, copied once, gone on reload, used, then revoked; each page fits the phone and passes
axe-core's checks. The API's docs page works under the Content-Security-Policy and its
"Try it out" sends the token."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.api.probe import PROBE_SETTINGS, add_probe
from tests.browser.test_accessibility import both_themes
from tests.browser.test_phone import FIND_OVERFLOW, PHONE
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


@pytest.fixture
def app_settings() -> dict[str, Any]:
    return {"WTF_CSRF_ENABLED": True, **PROBE_SETTINGS}


@pytest.fixture
def app(app: Any) -> Any:
    return add_probe(app)


@pytest.fixture
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    # axe-core goes in as an inline script, which the app's Content-Security-Policy forbids;
    # the docs page is visited in a context of its own, with the policy on.
    return {**browser_context_args, "bypass_csp": True, "color_scheme": "dark"}


def test_an_employee_makes_an_api_token_uses_it_and_revokes_it(
    page: Page, browser: Browser, live_server, make_user
):
    make_user(email="erin@example.com", name="Erin Employee")
    base = live_server.url
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base)
    page.set_viewport_size(PHONE)
    page.goto(f"{base}/login")
    page.get_by_label("Email").fill("erin@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    page.get_by_role("navigation", name="Main").get_by_role("link", name="API tokens").click()
    expect(page.get_by_role("heading", name="API tokens", level=1)).to_be_visible()
    expect(page.get_by_role("checkbox", name=re.compile("^review"))).to_have_count(0)
    assert page.evaluate(FIND_OVERFLOW) == []
    assert both_themes(page, "the API tokens page") == []

    # With the keyboard: a name, write besides read, 7 days, and Enter.
    page.get_by_label("Name").focus()
    page.keyboard.type("Monthly report")
    page.keyboard.press("Tab")  # read, already ticked
    page.keyboard.press("Tab")
    page.keyboard.press("Space")  # write
    expect(page.get_by_role("checkbox", name=re.compile("^write"))).to_be_checked()
    page.get_by_label("Expires").select_option(label="7 days")
    page.get_by_label("Name").press("Enter")

    expect(page.get_by_role("heading", name="Your new token “Monthly report”")).to_be_visible()
    secret = page.get_by_label("Token", exact=True).input_value()
    assert re.fullmatch(r"si_[\w-]{43}", secret)
    page.get_by_role("button", name="Copy token").click()
    expect(page.get_by_role("button", name="Copied")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == secret
    assert page.evaluate(FIND_OVERFLOW) == []  # the long token does not widen the page
    assert both_themes(page, "the new token") == []

    used = page.request.get(f"{base}/api/v1/probe", headers={"Authorization": f"Bearer {secret}"})
    assert used.status == 200

    # Reloaded, the token is gone from the page for good; the list shows it was used.
    page.reload()
    expect(page.get_by_role("heading", name="API tokens", level=1)).to_be_visible()
    expect(page.get_by_label("Token", exact=True)).to_have_count(0)
    assert secret not in page.content()
    row = page.get_by_role("row").filter(has_text="Monthly report")
    expect(row).to_contain_text(secret[:10])
    expect(row).to_contain_text("read, write")
    expect(row).not_to_contain_text("Never")

    # The docs page, with the Content-Security-Policy on: Swagger UI draws the document and
    # its Authorize button's token goes with "Try it out".
    docs_context = browser.new_context(color_scheme="dark", viewport=PHONE)
    try:
        docs = docs_context.new_page()
        docs.set_default_timeout(10_000)
        blocked: list[str] = []
        docs.on("console", lambda message: blocked.append(message.text))
        docs.on("pageerror", lambda error: blocked.append(str(error)))
        docs.goto(f"{base}/api/v1/docs")
        document = docs.request.get(f"{base}/api/v1/openapi.json").json()
        path = next(
            path
            for path, operations in document["paths"].items()
            if "get" in operations and "{" not in path
        )
        operation = docs.locator(f'.opblock-get:has(.opblock-summary-path[data-path="{path}"])')
        expect(operation.first).to_be_visible()
        assert docs.evaluate("document.documentElement.classList.contains('dark-mode')")
        docs.get_by_role("button", name="Authorize").first.click()
        docs.get_by_label("auth-bearer-value").fill(secret)
        docs.get_by_role("button", name="Apply credentials").click()
        docs.locator(".modal-ux").get_by_role("button", name="Close", exact=True).click()
        operation.first.locator(".opblock-summary-control").click()
        operation.first.get_by_role("button", name="Try it out").click()
        with docs.expect_request(lambda sent: sent.url.split("?")[0] == base + path) as sent:
            operation.first.get_by_role("button", name="Execute").click()
        assert sent.value.headers["authorization"] == f"Bearer {secret}"
        assert sent.value.response().status != 401
        assert [text for text in blocked if "Content Security Policy" in text] == []
    finally:
        docs_context.close()

    row.get_by_role("link", name="Revoke Monthly report").click()
    expect(page.get_by_role("heading", name="Revoke “Monthly report”?")).to_be_visible()
    assert page.evaluate(FIND_OVERFLOW) == []
    assert both_themes(page, "revoking a token") == []
    page.get_by_role("button", name="Revoke it").click()
    expect(page.get_by_text("Revoked: Monthly report.")).to_be_visible()
    expect(page.get_by_role("row").filter(has_text="Monthly report")).to_contain_text("Revoked")
    refused = page.request.get(
        f"{base}/api/v1/probe", headers={"Authorization": f"Bearer {secret}"}
    )
    assert refused.status == 401
