"""Company sign-in in a real browser, against a real OpenID provider (tests/identity_provider):
a new member of staff clicks "Sign in with Test IdP", signs in at the provider, lands signed in
with the department the provider names, then signs out of the app and of the provider."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from playwright.sync_api import Page, expect

from serviceideas.extensions import db
from serviceideas.people.models import User
from tests.browser.conftest import LiveServer
from tests.identity_provider import IdentityProvider, free_port, skip_unless_available

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def base_url_of_this_module() -> str:
    """The live server's address, chosen before the app and the provider are made: the
    provider registers the app's callback, and the app's BASE_URL names it."""
    return f"http://127.0.0.1:{free_port()}"


@pytest.fixture(scope="module")
def provider(base_url_of_this_module):
    skip_unless_available()
    base = base_url_of_this_module
    with IdentityProvider([f"{base}/login/oidc/callback"], [f"{base}/login"]) as provider:
        yield provider


@pytest.fixture
def app_settings(provider, base_url_of_this_module):
    return {
        "WTF_CSRF_ENABLED": True,
        "BASE_URL": base_url_of_this_module,
        **provider.settings(OIDC_CREATE_PEOPLE=True),
    }


@pytest.fixture
def server(app, base_url_of_this_module):
    port = int(base_url_of_this_module.rsplit(":", 1)[1])
    with LiveServer(app, port=port) as server:
        yield server


def test_a_new_member_of_staff_signs_in_with_the_company_and_signs_out_of_both(
    page: Page, server: LiveServer, provider: IdentityProvider, make_department
):
    make_department("Kitchen")
    provider.reset()
    provider.add_account(
        sub="sam",
        email="sam.okafor@example.com",
        name="Sam Okafor",
        given_name="Sam",
        family_name="Okafor",
        department="Kitchen",
    )

    page.goto(f"{server.url}/login")
    page.get_by_role("button", name="Sign in with Test IdP").click()
    expect(page).to_have_url(re.compile(re.escape(provider.issuer)))
    page.locator('input[name="login"]').fill("sam")
    page.locator('input[name="password"]').fill("any password")
    page.get_by_role("button", name="Sign-in").click()

    expect(page).to_have_url(f"{server.url}/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Hello, Sam")
    expect(page.get_by_text("Kitchen", exact=False).first).to_be_visible()
    sam = db.session.scalar(sa.select(User).where(User.email == "sam.okafor@example.com"))
    assert sam is not None
    assert sam.department.name == "Kitchen"

    page.goto(f"{server.url}/logout")
    page.get_by_role("main").get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(re.escape(provider.issuer)))
    page.get_by_role("button", name="Yes, sign me out").click()
    expect(page).to_have_url(re.compile(re.escape(f"{server.url}/login")))

    # Signed out of the provider too: signing in again asks for the provider's sign-in again.
    page.get_by_role("button", name="Sign in with Test IdP").click()
    expect(page.locator('input[name="login"]')).to_be_visible()
