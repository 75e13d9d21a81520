"""Tests of the languages. Their app adds the pseudo-language (tests/i18n/pseudo.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from babel.messages.catalog import Catalog
from flask import Flask
from flask.testing import FlaskClient

from serviceideas import catalogues
from serviceideas.people.models import User
from tests.conftest import login_as
from tests.i18n import pseudo


@pytest.fixture(scope="session")
def extracted() -> Catalog:
    """Every text marked for translation, as `make translations` extracts them (once a run:
    reading every file takes seconds)."""
    return catalogues.extract()


@pytest.fixture(scope="session")
def pseudo_settings(tmp_path_factory: pytest.TempPathFactory, extracted: Catalog) -> dict[str, Any]:
    return pseudo.build(tmp_path_factory.mktemp("pseudo-language"), extracted)


@pytest.fixture
def app_settings(pseudo_settings: dict[str, Any]) -> dict[str, Any]:
    return pseudo_settings


@pytest.fixture
def pseudo_as(app: Flask) -> Callable[[User | None], FlaskClient]:
    """A test client whose browser asks for the pseudo-language, signed in as the given
    person (who has chosen no language), or signed out for None."""

    def make(user: User | None) -> FlaskClient:
        client = app.test_client()
        client.environ_base["HTTP_ACCEPT_LANGUAGE"] = pseudo.PSEUDO
        return login_as(client, user) if user is not None else client

    return make
