"""Fixtures for the API's tests: a personal access token for anyone, and a client that sends
it (never a session cookie)."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from serviceideas.api.auth import TOKEN_PREFIX, token_hash
from serviceideas.api.models import ApiToken, Scope
from serviceideas.database import utcnow
from serviceideas.extensions import db
from serviceideas.people.models import User
from tests.conftest import TEST_BASE_URL

ALL_SCOPES = tuple(Scope)
# Where the API's absolute links point: BASE_URL, never the request's Host.
API_ROOT = TEST_BASE_URL + "/api/v1"


@pytest.fixture
def make_token(app: Flask) -> Callable[..., str]:
    """A live token for `user` with `scopes` (all of them unless told), stored as the app
    stores one; returns the secret to send. Written directly, so these tests do not depend on
    the settings page that makes tokens (tested on its own)."""

    def make(
        user: User,
        scopes: tuple[Scope | str, ...] = ALL_SCOPES,
        *,
        expires_in: timedelta = timedelta(days=30),
        name: str = "test token",
    ) -> str:
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
        db.session.add(
            ApiToken(
                user_id=user.id,
                name=name,
                token_hash=token_hash(secret),
                prefix=secret[:10],
                scopes=" ".join(Scope(scope).value for scope in scopes),
                expires_at=utcnow() + expires_in,
            )
        )
        db.session.commit()
        return secret

    return make


class ApiClient:
    """Calls /api/v1 with a bearer token: `api.get("/ideas")` is GET /api/v1/ideas."""

    def __init__(self, client: FlaskClient, secret: str | None) -> None:
        self.client = client
        self.headers = {"Authorization": f"Bearer {secret}"} if secret else {}

    def open(self, method: str, path: str, **kwargs: Any) -> Any:
        headers = {**self.headers, **kwargs.pop("headers", {})}
        return self.client.open("/api/v1" + path, method=method, headers=headers, **kwargs)

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.open("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> Any:
        return self.open("POST", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> Any:
        return self.open("PUT", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> Any:
        return self.open("PATCH", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> Any:
        return self.open("DELETE", path, **kwargs)


@pytest.fixture
def api_as(app: Flask, make_token: Callable[..., str]) -> Callable[..., ApiClient]:
    """`api_as(user)`: a client carrying a token of `user` (all scopes their roles allow
    unless `scopes=` says otherwise); `api_as(None)`: no token at all."""

    def make(user: User | None, scopes: tuple[Scope | str, ...] = ALL_SCOPES) -> ApiClient:
        client = app.test_client(use_cookies=False)
        return ApiClient(client, make_token(user, scopes) if user is not None else None)

    return make
