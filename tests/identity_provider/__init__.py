"""A real OpenID Connect provider for the tests, on loopback: the npm package oidc-provider
(package.json's devDependencies), started by node from tests/identity_provider/provider.mjs.

    provider = IdentityProvider([base_url + "/login/oidc/callback"], [base_url + "/login"])
    provider.add_account(sub="jane", email="jane@example.com", department="Kitchen")
    app settings: provider.settings(OIDC_CREATE_PEOPLE=True)
    response = client.get("/login/oidc")
    back = provider.sign_in(response.location, "jane")  # the provider's own form, over HTTP
    client.get(path_and_query(back))
    provider.stop()

People (`accounts`) and `mischief` live in a state file that the provider reads again at each
use, so a test changes them without a restart. Mischief makes the token endpoint answer with a
bad ID token: "expired", "audience" (for another client), "tampered" (payload changed after
signing), "issuer" (another provider's) or "nonce" (not the one the app sent).

The provider's sign-in form (oidc-provider's development interactions) takes the person's
`sub` as its login and any password; consent is implicit, as for a company's own applications.

Back-channel logout: given `backchannel_logout_uri`, the provider POSTs a logout token there
when a person signs out at it (`sign_out`). `logout_token(sub=…)` mints one with the
provider's own signing key, for tests that POST it themselves.
"""

from __future__ import annotations

import base64
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterable
from html import unescape
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
from cryptography.hazmat.primitives.asymmetric import rsa
from joserfc import jwt
from joserfc.jwk import RSAKey

HERE = Path(__file__).resolve().parent
PROVIDER_SCRIPT = HERE / "provider.mjs"
NODE_MODULES = HERE.parent.parent / "node_modules"
MISCHIEF = ("expired", "audience", "tampered", "issuer", "nonce")
LOGOUT_EVENT = "http://schemas.openid.net/event/backchannel-logout"
PROVIDER_NAME = "Test IdP"


class ProviderUnavailable(RuntimeError):
    """node or the oidc-provider package is missing."""


def missing_requirement() -> str | None:
    """Why the provider cannot run here, or None when it can."""
    if not shutil.which("node"):
        return "node is not installed (apt-get install nodejs)"
    if not (NODE_MODULES / "oidc-provider" / "package.json").exists():
        return "node_modules/oidc-provider is missing (npm ci --include=dev)"
    return None


def skip_unless_available() -> None:
    """Skip the calling test (fail it in CI) when the provider cannot run here."""
    import pytest

    problem = missing_requirement()
    if problem:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI: the OpenID Connect tests need {problem}")
        pytest.skip(f"{problem}; CI runs these tests")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _b64(number: int) -> str:
    raw = number.to_bytes((number.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def private_rsa_jwk() -> dict[str, str]:
    """A new 2048-bit RSA signing key, as a private JWK."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private, public = key.private_numbers(), key.public_key().public_numbers()
    return {
        "kty": "RSA",
        "kid": secrets.token_hex(8),
        "alg": "RS256",
        "use": "sig",
        "n": _b64(public.n),
        "e": _b64(public.e),
        "d": _b64(private.d),
        "p": _b64(private.p),
        "q": _b64(private.q),
        "dp": _b64(private.dmp1),
        "dq": _b64(private.dmq1),
        "qi": _b64(private.iqmp),
    }


def path_and_query(url: str) -> str:
    """`/login/oidc/callback?code=…&state=…` of a full URL: what a test client asks for."""
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


class IdentityProvider:
    """oidc-provider on 127.0.0.1, with one confidential client registered for the app."""

    def __init__(
        self,
        redirect_uris: Iterable[str],
        post_logout_redirect_uris: Iterable[str] = (),
        *,
        client_id: str = "serviceideas",
        client_secret: str | None = None,
        port: int | None = None,
        backchannel_logout_uri: str | None = None,
    ) -> None:
        problem = missing_requirement()
        if problem:
            raise ProviderUnavailable(problem)
        self.port = port or free_port()
        self.issuer = f"http://127.0.0.1:{self.port}"
        self.client_id = client_id
        self.client_secret = client_secret or secrets.token_urlsafe(24)
        self.folder = Path(tempfile.mkdtemp(prefix="identity-provider-"))
        self.state_file = self.folder / "state.json"
        self.log_file = self.folder / "provider.log"  # removed with the folder by stop()
        self._state: dict[str, Any] = {"accounts": [], "mischief": None}
        self._write_state()
        self._signing_key = private_rsa_jwk()
        logout_uri = {"backchannel_logout_uri": backchannel_logout_uri}
        config = {
            "port": self.port,
            "issuer": self.issuer,
            "clients": [
                {
                    "client_id": client_id,
                    "client_secret": self.client_secret,
                    "redirect_uris": list(redirect_uris),
                    "post_logout_redirect_uris": list(post_logout_redirect_uris),
                    "grant_types": ["authorization_code"],
                    "response_types": ["code"],
                    **(logout_uri if backchannel_logout_uri else {}),
                }
            ],
            "jwks": {"keys": [self._signing_key]},
            "state_file": str(self.state_file),
        }
        config_file = self.folder / "config.json"
        config_file.write_text(json.dumps(config))
        self.browser = requests.Session()  # the person's browser at the provider
        with self.log_file.open("wb") as log:
            self.process = subprocess.Popen(
                ["node", str(PROVIDER_SCRIPT), str(config_file)],
                stdin=subprocess.PIPE,  # closed when this process ends: the provider ends too
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=HERE.parent.parent,
            )
        self._wait_until_ready()

    def _wait_until_ready(self, seconds: float = 20) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if "ready" in self.log_file.read_text(errors="replace").splitlines():
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        log = self.log_file.read_text(errors="replace")
        self.stop()
        raise RuntimeError(
            f"The test identity provider (node {PROVIDER_SCRIPT.name}) did not start. "
            f"Its log:\n{log}"
        )

    def wait(self) -> int:
        """Until the provider stops; its exit status."""
        return self.process.wait()

    def stop(self) -> None:
        if self.process.stdin:
            self.process.stdin.close()
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.browser.close()
        shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> IdentityProvider:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    # The state the provider reads at each use

    def _write_state(self) -> None:
        partial = self.state_file.with_suffix(".partial")
        partial.write_text(json.dumps(self._state))
        os.replace(partial, self.state_file)  # the provider never reads half a file

    def set_accounts(self, accounts: Iterable[dict[str, Any]]) -> None:
        """The people the provider knows: dicts of claims, each with its `sub`."""
        self._state["accounts"] = [dict(account) for account in accounts]
        self._write_state()

    def add_account(self, **claims: Any) -> dict[str, Any]:
        """One more person: `sub` (their login at the provider's form) and their claims, e.g.
        email, email_verified (True unless given), name, given_name, family_name, department,
        groups, locale (in the ID token with the profile scope)."""
        account = {"email_verified": True, **claims}
        if "sub" not in account:
            raise ValueError("an account needs its sub")
        self._state["accounts"] = [
            each for each in self._state["accounts"] if each["sub"] != account["sub"]
        ] + [account]
        self._write_state()
        return account

    def mischief(self, mode: str | None) -> None:
        """From now on the token endpoint's ID token is spoiled this way (None: sound)."""
        if mode is not None and mode not in MISCHIEF:
            raise ValueError(f"mischief is one of {', '.join(MISCHIEF)}, not {mode!r}")
        self._state["mischief"] = mode
        self._write_state()

    def reset(self) -> None:
        """Nobody known, no mischief, and the person's browser forgets the provider."""
        self._state = {"accounts": [], "mischief": None}
        self._write_state()
        self.browser.close()
        self.browser = requests.Session()

    def settings(self, **overrides: Any) -> dict[str, Any]:
        """The app's settings for signing in with this provider."""
        return {
            "OIDC_ISSUER": self.issuer,
            "OIDC_CLIENT_ID": self.client_id,
            "OIDC_CLIENT_SECRET": self.client_secret,
            "OIDC_PROVIDER_NAME": PROVIDER_NAME,
            **overrides,
        }

    def metadata(self) -> dict[str, Any]:
        """The provider's discovery document."""
        response = requests.get(f"{self.issuer}/.well-known/openid-configuration", timeout=10)
        response.raise_for_status()
        return dict(response.json())

    def logout_token(self, *, forged: bool = False, **claims: Any) -> str:
        """A back-channel logout token as this provider signs one: for its client, from its
        issuer, issued now, with a fresh `jti` and the logout event. `claims` add to those or
        replace them (a claim given as None is left out); `forged` signs it with another key
        under this provider's key id."""
        now = int(time.time())
        payload = {
            "iss": self.issuer,
            "aud": self.client_id,
            "iat": now,
            "exp": now + 120,
            "jti": secrets.token_urlsafe(16),
            "events": {LOGOUT_EVENT: {}},
            **claims,
        }
        key = dict(private_rsa_jwk(), kid=self._signing_key["kid"]) if forged else self._signing_key
        header = {"alg": "RS256", "kid": key["kid"], "typ": "logout+jwt"}
        return jwt.encode(
            header,
            {name: value for name, value in payload.items() if value is not None},
            RSAKey.import_key(dict(key)),
        )

    # The person's side, over HTTP, for tests without a browser

    def sign_in(self, authorize_url: str, sub: str) -> str:
        """Take the app's redirect to the provider, sign in there as `sub` (unless the
        provider still remembers this browser), and return where the provider sends the
        person back: the app's callback URL with its code and state (or an error)."""
        if not any(account["sub"] == sub for account in self._state["accounts"]):
            # The provider would answer its own sign-in form with a bare server error.
            raise ValueError(f"the provider has no account {sub!r}: add_account(sub={sub!r}, …)")
        # The development sign-in form takes any password.
        return self._browse(authorize_url, {"login": sub, "password": "any password"})

    def sign_out(self, end_session_url: str) -> str:
        """Take the app's redirect to the provider's end-session endpoint, confirm "Yes, sign
        me out", and return where the provider sends the person then (the app's
        post-logout URL, or the provider's own "Signed out" page)."""
        return self._browse(end_session_url, {"logout": "yes"})

    def _browse(self, url: str, answers: dict[str, str]) -> str:
        response = None
        for _ in range(20):
            if response is not None and response.status_code == 200 and "<form" in response.text:
                response = self._submit(response, answers)
                continue
            if response is not None:
                if response.status_code not in (302, 303):
                    return response.url  # a page of the provider's own: an error, "Signed out"
                url = urljoin(response.url, response.headers["Location"])
            if not url.startswith(self.issuer + "/"):
                return url  # back at the app
            response = self.browser.get(url, allow_redirects=False, timeout=10)
        raise RuntimeError(f"the provider kept asking: {url}")

    def _submit(self, page: requests.Response, answers: dict[str, str]) -> requests.Response:
        form = re.search(r"<form([^>]*)>(.*?)</form>", page.text, re.S)
        if not form:
            raise RuntimeError(f"no form on the provider's page:\n{page.text}")
        action = re.search(r'action="([^"]*)"', form.group(1))
        fields = {
            unescape(name): unescape(value)
            for name, value in re.findall(
                r'<input[^>]*type="hidden"[^>]*name="([^"]*)"[^>]*value="([^"]*)"', form.group(2)
            )
        }
        wanted = set(re.findall(r'name="([^"]*)"', page.text))
        fields.update({name: value for name, value in answers.items() if name in wanted})
        target = urljoin(page.url, unescape(action.group(1)) if action else page.url)
        return self.browser.post(target, data=fields, allow_redirects=False, timeout=10)
