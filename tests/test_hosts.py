"""Absolute links come from SERVICEIDEAS_BASE_URL, never from the request's Host header, and a
request for a host the app does not serve is refused (SECURITY.md, "Links and hosts")."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from serviceideas import config as settings
from serviceideas.notifications import services as notifications
from serviceideas.notifications.models import Category
from serviceideas.people.models import Role
from serviceideas.urls import absolute

BASE_URL = "https://ideas.example.com"
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def app_settings():
    return {"BASE_URL": BASE_URL}


def password_link(response):
    page = response.get_data(as_text=True)
    found = re.search(r'id="password-link" type="text" readonly value="([^"]+)"', page)
    return found.group(1) if found else None


def test_the_admins_password_link_starts_with_the_base_url(client_as, make_user):
    admin = client_as(make_user(Role.ADMIN))
    person = make_user(password=None)
    link = password_link(admin.post(f"/admin/users/{person.id}/password-link"))
    assert link is not None and link.startswith(f"{BASE_URL}/password/")


def test_a_forged_host_never_reaches_the_password_link(client_as, make_user):
    admin = client_as(make_user(Role.ADMIN))
    person = make_user(password=None)
    response = admin.post(
        f"/admin/users/{person.id}/password-link", headers={"Host": "evil.example"}
    )
    assert "evil.example" not in response.get_data(as_text=True)
    assert response.status_code == 400 and password_link(response) is None


@pytest.mark.parametrize(
    "host",
    [
        "evil.example",
        "evil.example:5000",
        "ideas.example.com.evil",
        "ideas.example.com@evil",
        "a b",
    ],
)
def test_a_request_for_a_foreign_host_is_a_clean_400(client, host):
    response = client.get("/login", headers={"Host": host})
    assert response.status_code == 400
    assert "Something in that request was not right" in response.get_data(as_text=True)


def test_a_fragment_request_for_a_foreign_host_is_a_clean_400(client):
    response = client.get("/login", headers={"Host": "evil.example", "HX-Request": "true"})
    assert response.status_code == 400


@pytest.mark.parametrize("host", ["ideas.example.com", "localhost", "127.0.0.1:5123"])
def test_the_configured_host_and_local_test_hosts_are_served(client, host):
    assert client.get("/login", headers={"Host": host}).status_code == 200


def test_email_calendar_and_unsubscribe_links_use_the_base_url(app):
    assert absolute("/ideas/1") == f"{BASE_URL}/ideas/1"
    assert notifications.absolute is absolute  # one way to build an absolute link
    with app.test_request_context("/", base_url="http://localhost"):
        assert notifications.unsubscribe_url(1, Category.TRAINING).startswith(
            f"{BASE_URL}/unsubscribe/"
        )
    assert notifications.unsubscribe_url(1, Category.TRAINING).startswith(f"{BASE_URL}/")


def test_no_link_is_built_from_the_request_host():
    sources = [*(ROOT / "serviceideas").rglob("*.py"), *(ROOT / "templates").rglob("*.html")]
    offenders = [
        str(path.relative_to(ROOT))
        for path in sources
        if re.search(r"_external\s*=\s*True", path.read_text(encoding="utf-8"))
    ]
    assert offenders == []


def config_for(env_name, **values):
    config = {key: getattr(settings.Config, key) for key in dir(settings.Config) if key.isupper()}
    config.update(ENV_NAME=env_name, **values)
    return config


def test_production_trusts_only_the_base_urls_host_and_the_extra_names():
    environment = {
        "SERVICEIDEAS_BASE_URL": "https://Ideas.Example.com/",
        "SERVICEIDEAS_TRUSTED_HOSTS": " ideas.internal , ,.ops.example.com",
    }
    config = config_for("production", **settings.environment_overrides(environment))
    assert settings.trusted_hosts(config) == [
        "ideas.example.com",
        "ideas.internal",
        ".ops.example.com",
    ]


def test_without_a_base_url_the_local_names_are_served():
    for env_name in ("production", "development"):
        hosts = settings.trusted_hosts(config_for(env_name))
        assert set(hosts) == {"127.0.0.1", "localhost"}


def test_development_and_tests_also_serve_the_local_names():
    hosts = settings.trusted_hosts(config_for("development", BASE_URL=BASE_URL))
    assert hosts == ["ideas.example.com", "localhost", "127.0.0.1"]


def test_allowed_hosts_given_outright_are_kept():
    config = config_for("production", ALLOWED_HOSTS=["a.example"], BASE_URL=BASE_URL)
    assert settings.trusted_hosts(config) == ["a.example"]


def test_a_base_url_without_a_host_is_refused():
    with pytest.raises(settings.ConfigurationError, match="SERVICEIDEAS_BASE_URL"):
        settings.check(config_for("production", SECRET_KEY="k" * 40, BASE_URL="ideas"))
