"""Headers every answer carries, the `Allow` header of a 405, and what the static route serves."""

from __future__ import annotations

import re

import pytest

from serviceideas import ROOT

HSTS = "max-age=31536000; includeSubDomains"
FRAGMENT = {"HX-Request": "true"}


@pytest.fixture
def static_folder(app, monkeypatch, tmp_path):
    """A static folder of the test's own, holding a vendored file and the kind of dot files a
    build leaves behind, so that the test does not depend on what `make setup` made."""
    (tmp_path / "vendor").mkdir()
    (tmp_path / "vendor" / "htmx.min.js").write_text("// htmx\n")
    (tmp_path / "vendor" / ".copied").write_text("")
    (tmp_path / ".stamp").write_text("")
    (tmp_path / ".hidden").mkdir()
    (tmp_path / ".hidden" / "file.txt").write_text("not for the public\n")
    # The app's own setting; monkeypatch puts it back for the tests that share this app.
    monkeypatch.setattr(app, "static_folder", str(tmp_path))
    return tmp_path


# Strict-Transport-Security


def test_https_deployments_tell_browsers_to_keep_to_https(app, client, static_folder):
    app.config["SESSION_COOKIE_SECURE"] = True  # the `app` fixture puts the setting back
    for url in ("/login", "/", "/no-such-page", "/static/vendor/htmx.min.js"):
        response = client.get(url)
        assert response.headers.get("Strict-Transport-Security") == HSTS, url
    response = client.put("/ideas")
    assert response.headers.get("Strict-Transport-Security") == HSTS


def test_plain_http_deployments_send_no_strict_transport_security(app, client, static_folder):
    assert app.config["SESSION_COOKIE_SECURE"] is False
    for url in ("/login", "/", "/no-such-page", "/static/vendor/htmx.min.js"):
        assert "Strict-Transport-Security" not in client.get(url).headers, url


# 405 names the methods a URL takes


@pytest.mark.parametrize("headers", [{}, FRAGMENT], ids=["page", "fragment"])
@pytest.mark.parametrize(
    ("method", "url", "allowed"),
    [
        ("PUT", "/ideas", {"GET", "HEAD", "OPTIONS"}),
        ("DELETE", "/login", {"GET", "HEAD", "OPTIONS", "POST"}),
        ("GET", "/ideas/1/vote", {"POST", "OPTIONS"}),
        ("GET", "/notifications/read-all", {"POST", "OPTIONS"}),
        ("PATCH", "/training/modules/1/publish", {"POST", "OPTIONS"}),
    ],
)
def test_a_405_says_which_methods_the_url_takes(client, method, url, allowed, headers):
    response = client.open(url, method=method, headers=headers)
    assert response.status_code == 405
    assert set(response.allow) == allowed
    text = response.get_data(as_text=True)
    assert "This page cannot be used that way." in text
    # A page for a browser, the error fragment for htmx.
    assert ("<html" in text) is not bool(headers)


# Dot files under static/ are not served


@pytest.mark.parametrize(
    "url",
    [
        "/static/vendor/.copied",
        "/static/.stamp",
        "/static/.hidden/file.txt",
        "/static/vendor/%2Ecopied",
        "/static/.no-such-file",
    ],
)
def test_dot_files_under_static_are_not_served(client, static_folder, url):
    response = client.get(url)
    assert response.status_code == 404
    assert "not for the public" not in response.get_data(as_text=True)


def test_the_files_beside_them_are_served(client, static_folder):
    response = client.get("/static/vendor/htmx.min.js")
    assert response.status_code == 200
    assert response.get_data(as_text=True) == "// htmx\n"


def test_the_build_writes_no_stamp_into_the_static_folder():
    # A stamp beside the files it stands for would be served; the Makefile targets the
    # vendored files themselves instead.
    makefile = (ROOT / "Makefile").read_text()
    targets = re.findall(r"^([^\s:#=]+(?:\s+[^\s:#=]+)*)\s*:(?!=)", makefile, re.MULTILINE)
    under_static = [t for line in targets for t in line.split() if t.startswith("static/")]
    assert "static/vendor/htmx.min.js" in under_static
    assert not [t for t in under_static if any(p.startswith(".") for p in t.split("/"))]
