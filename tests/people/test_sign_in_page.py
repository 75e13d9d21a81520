"""The sign-in page with and without a company identity provider: the provider's button
first, and the cursor not put past it (docs/product.md, "Who may sign in, and how")."""

from __future__ import annotations

import re

import pytest

from serviceideas.config import environment_overrides

PROVIDER = "Contoso"
COMPANY_SIGN_IN = {
    "OIDC_ISSUER": "http://127.0.0.1:9/",  # nobody follows the button here
    "OIDC_CLIENT_ID": "serviceideas",
    "OIDC_CLIENT_SECRET": "not-a-secret",
    "OIDC_PROVIDER_NAME": PROVIDER,
}


def email_input(page: str) -> str:
    found = re.search(r"<input[^>]*name=\"email\"[^>]*>", page)
    assert found, page
    return found.group(0)


def test_without_a_provider_the_cursor_starts_in_the_email_field(client):
    page = client.get("/login").get_data(as_text=True)
    assert "Sign in with" not in page
    assert "autofocus" in email_input(page)


class TestWithAProvider:
    @pytest.fixture
    def app_settings(self):
        return COMPANY_SIGN_IN

    def test_the_button_comes_first_and_passwords_are_the_other_way(self, client):
        page = client.get("/login?next=/ideas").get_data(as_text=True)
        button = page.index(f"Sign in with {PROVIDER}</a>")
        assert (
            button
            < page.index("Or with your e-mail address and password")
            < page.index('name="password"')
        )
        assert 'href="/login/oidc?next=/ideas"' in page
        # Focus would jump past the button, which keyboard users meet first.
        assert "autofocus" not in email_input(page)


@pytest.mark.parametrize("word", ["on", "ON", "yes", "true", "1"])
def test_on_turns_a_switch_on_as_the_readme_writes_it(word):
    assert environment_overrides({"OIDC_CREATE_PEOPLE": word})["OIDC_CREATE_PEOPLE"] is True


@pytest.mark.parametrize("word", ["off", "no", "0", "false"])
def test_off_turns_it_off(word):
    assert environment_overrides({"OIDC_CREATE_PEOPLE": word})["OIDC_CREATE_PEOPLE"] is False
