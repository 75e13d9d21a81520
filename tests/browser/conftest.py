"""Browser tests: the app served on 127.0.0.1 in a thread, driven by Playwright in Chromium.

The browser is the system's Chromium (Debian's `chromium-headless-shell`, else `chromium`);
nothing is downloaded. A missing
browser fails these tests, it never skips them. Under pytest-xdist each worker launches its own
browser, and each test serves its app on a free port of its own.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from werkzeug.serving import make_server

CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def chromium_path() -> str:
    """Debian's `chromium-headless-shell` where installed (`.ci/run` installs it), else its
    `chromium`. The shell is the same Chromium built for Chromium's old headless mode, which is
    what Playwright's own headless runs use: the full browser's headless mode draws like a
    desktop window and cost 40 % more processor time per browser test (measured on the phone
    and dashboard tests: 37.8 s against 22.7 s). CHROMIUM names another."""
    path = (
        os.environ.get("CHROMIUM")
        or shutil.which("chromium-headless-shell")
        or shutil.which("chromium")
        or shutil.which("chromium-browser")
    )
    if not path:
        pytest.fail(
            "Chromium is not installed: apt-get install -y chromium-headless-shell chromium"
            " (or set CHROMIUM=...)"
        )
    return path


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    return {
        **browser_type_launch_args,
        "executable_path": chromium_path(),
        "args": CHROMIUM_FLAGS,
        "headless": True,
    }


@pytest.fixture
def app_settings() -> dict[str, Any]:
    # A real browser sends real CSRF tokens.
    return {"WTF_CSRF_ENABLED": True}


class LiveServer:
    def __init__(self, app: Any, port: int = 0) -> None:
        """On `port`, or a free one (a server whose address was registered elsewhere in
        advance, as at an identity provider, takes its port from the test)."""
        self.server = make_server("127.0.0.1", port, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        # Looking for a shutdown every 0.05 s, not every 0.5 s: each test stops its server, and
        # waited a quarter of a second for it on average.
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def __enter__(self) -> LiveServer:
        self.thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.server.shutdown()
        self.thread.join(timeout=5)


@pytest.fixture
def live_server(app: Any) -> Iterator[LiveServer]:
    with LiveServer(app) as server:
        yield server


@pytest.fixture
def page(page: Any) -> Any:
    page.set_default_timeout(10_000)
    return page
