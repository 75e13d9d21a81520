"""Which addresses the server will call with a webhook (docs/architecture.md, "Addresses the
server will call"): https only, never its own network unless a setting allows it."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask_babel import Babel

from serviceideas.webhooks.addresses import AddressRefused, check_address, check_destination
from serviceideas.webhooks.models import URL_MAX

# Names the tests resolve (getaddrinfo is replaced: no test asks a real DNS server).
DNS = {
    "hooks.example.com": ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"],
    "inside.example.com": ["10.1.2.3"],
    "both.example.com": ["93.184.216.34", "192.168.1.10"],
    "metadata.example.com": ["169.254.169.254"],
    "mapped.example.com": ["::ffff:127.0.0.1"],
}


@pytest.fixture(scope="module")
def flask_app() -> Flask:
    app = Flask(__name__)  # the checks read only the settings: no database needed
    app.config.update(
        WEBHOOKS_ALLOW_HTTP=False, WEBHOOKS_ALLOW_PRIVATE=False, ENV_NAME="production"
    )
    Babel(app)  # the refusals are translated texts (in English here)
    return app


@pytest.fixture(autouse=True)
def context(flask_app: Flask, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    def getaddrinfo(host: str, port: Any, *args: Any, **kwargs: Any) -> list[Any]:
        if host not in DNS:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [
            (
                socket.AF_INET6 if ":" in ip else socket.AF_INET,
                socket.SOCK_STREAM,
                socket.IPPROTO_TCP,
                "",
                (ip, 0),
            )
            for ip in DNS[host]
        ]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    with flask_app.app_context():
        yield


@pytest.mark.parametrize(
    "url",
    [
        "https://hooks.example.com/in",
        "https://hooks.example.com:8443/in?token=abc",
        "https://HOOKS.example.com/in",
        "  https://hooks.example.com/in  ",  # spaces around are dropped
        "https://93.184.216.34/in",
        "https://[2606:2800:220:1:248:1893:25c8:1946]/in",
    ],
)
def test_an_address_on_the_internet_is_taken(url: str) -> None:
    assert check_address(url) == url.strip()


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("", "fill in the address"),
        ("http://hooks.example.com/in", "must start with https://"),
        ("ftp://hooks.example.com/in", "must start with https://"),
        ("javascript:alert(1)", "must start with https://"),
        ("hooks.example.com/in", "must start with https://"),
        ("https:///in", "needs a host"),
        ("https://user:secret@hooks.example.com/in", "user name or password"),
        ("https://hooks.example.com@10.1.2.3/in", "user name or password"),
        ("https://hooks.example.com/in#top", "fragment"),
        ("https://hooks.example.com/in put", "spaces"),
        ("https://hooks.example.com\\@10.1.2.3/", "'\\'"),
        ("https://hooks.example.com:99999/in", "not a web address"),
        ("https://hooks.example.com:port/in", "not a web address"),
        ("https://nowhere.example.com/in", "could not find nowhere.example.com"),
        ("https://%31%30.1.2.3/in", "not a host name"),
        ("https://hooks.example.com/" + "a" * URL_MAX, f"to {URL_MAX} characters"),
    ],
)
def test_what_is_not_an_address_is_refused_with_the_reason(url: str, says: str) -> None:
    with pytest.raises(AddressRefused) as refused:
        check_address(url)
    assert says in refused.value.message
    assert refused.value.field == "url"


PRIVATE = [
    ("https://127.0.0.1/in", "loopback"),
    ("https://127.1/in", "loopback"),  # the C library's short spelling
    ("https://0x7f000001/in", "loopback"),  # hexadecimal
    ("https://2130706433/in", "loopback"),  # one decimal number
    ("https://0177.0.0.1/in", "loopback"),  # octal
    ("https://[::1]/in", "loopback"),
    ("https://[::ffff:127.0.0.1]/in", "loopback"),  # IPv4-mapped IPv6
    ("https://[2002:7f00:1::]/in", "loopback"),  # 6to4 carrying 127.0.0.1
    ("https://localhost/in", "loopback"),
    ("https://api.localhost/in", "loopback"),
    ("https://10.0.0.1/in", "private"),
    ("https://172.16.5.4/in", "private"),
    ("https://192.168.0.1/in", "private"),
    ("https://[fd12:3456::1]/in", "private"),
    ("https://100.64.0.1/in", "shared"),
    ("https://inside.example.com/in", "inside.example.com leads to 10.1.2.3"),
    ("https://both.example.com/in", "both.example.com leads to 192.168.1.10"),
    ("https://mapped.example.com/in", "loopback"),
]
NEVER = [
    ("https://169.254.169.254/latest/meta-data/", "cloud metadata"),
    ("https://metadata.example.com/", "cloud metadata"),
    ("https://169.254.1.1/", "link-local"),
    ("https://[fe80::1]/in", "link-local"),
    ("https://0.0.0.0/in", "unspecified"),
    ("https://0/in", "unspecified"),
    ("https://[::]/in", "unspecified"),
    ("https://224.0.0.1/in", "multicast"),
    ("https://[ff02::1]/in", "multicast"),
    ("https://255.255.255.255/in", "reserved"),
    ("https://240.0.0.1/in", "reserved"),
]


@pytest.mark.parametrize(("url", "says"), PRIVATE + NEVER)
def test_an_address_on_the_servers_own_network_is_refused(url: str, says: str) -> None:
    with pytest.raises(AddressRefused) as refused:
        check_address(url)
    assert says in refused.value.message
    assert "only to addresses on the internet" in refused.value.message


@pytest.mark.parametrize(("url", "says"), PRIVATE)
def test_the_company_network_is_allowed_by_the_setting(
    flask_app: Flask, url: str, says: str
) -> None:
    flask_app.config.update(WEBHOOKS_ALLOW_PRIVATE=True, ENV_NAME="testing")
    try:
        assert check_address(url) == url
    finally:
        flask_app.config.update(WEBHOOKS_ALLOW_PRIVATE=False, ENV_NAME="production")


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://10.0.0.1/in", True),
        ("https://127.0.0.1/in", False),
        ("https://[::1]/in", False),
        ("https://localhost/in", False),
        ("https://mapped.example.com/in", False),
    ],
)
def test_in_production_the_setting_allows_the_network_but_not_the_server_itself(
    flask_app: Flask, url: str, allowed: bool
) -> None:
    """Loopback is the server itself (its database, its own admin ports): the setting opens it
    only in development and testing, where the receiver runs beside the app."""
    flask_app.config.update(WEBHOOKS_ALLOW_PRIVATE=True, ENV_NAME="production")
    try:
        if allowed:
            assert check_address(url) == url
        else:
            with pytest.raises(AddressRefused, match="loopback address") as refused:
                check_address(url)
            assert "only in development and testing" in refused.value.message
    finally:
        flask_app.config["WEBHOOKS_ALLOW_PRIVATE"] = False


@pytest.mark.parametrize(
    "url",
    [
        "https://169.254.169.254/latest/meta-data/",  # AWS, Google, Azure, Oracle...
        "https://[fd00:ec2::254]/latest/meta-data/",  # AWS over IPv6 (inside fc00::/7)
        "https://100.100.100.200/latest/meta-data/",  # Alibaba (inside 100.64/10)
        "https://169.254.170.2/v2/credentials",  # AWS ECS task credentials
        "https://192.0.0.192/opc/v1/instance/",  # Oracle's older address
        "https://168.63.129.16/machine",  # Azure's host agent (a global address)
        "https://[::ffff:100.100.100.200]/",
    ],
)
def test_cloud_metadata_services_are_refused_even_with_the_setting(url: str) -> None:
    with pytest.raises(AddressRefused, match="cloud metadata service") as refused:
        check_address(url, allow_private=True, allow_http=True)
    assert "unless" not in refused.value.message  # no setting allows it


@pytest.mark.parametrize(("url", "says"), NEVER)
def test_link_local_multicast_and_unspecified_are_refused_even_with_the_setting(
    url: str, says: str
) -> None:
    with pytest.raises(AddressRefused) as refused:
        check_address(url, allow_private=True, allow_http=True)
    assert says in refused.value.message


def test_plain_http_is_allowed_by_the_setting(flask_app: Flask) -> None:
    flask_app.config["WEBHOOKS_ALLOW_HTTP"] = True
    try:
        assert check_address("http://hooks.example.com/in") == "http://hooks.example.com/in"
        with pytest.raises(AddressRefused, match="loopback"):
            check_address("http://127.1/in")  # the address rules still hold
    finally:
        flask_app.config["WEBHOOKS_ALLOW_HTTP"] = False


def test_at_send_time_the_destination_is_every_address_the_host_has_now() -> None:
    assert check_destination("https://hooks.example.com/in") == DNS["hooks.example.com"]
    assert check_destination("https://0x5db8d822/in") == ["93.184.216.34"]


def test_a_name_that_now_leads_inside_is_refused_at_send_time() -> None:
    """Registered while it led outside, a name resolving to the inside later (DNS rebinding)
    is refused when the delivery is sent."""
    DNS["rebinding.example.com"] = ["93.184.216.34"]
    try:
        assert check_address("https://rebinding.example.com/in")
        DNS["rebinding.example.com"] = ["127.0.0.1"]
        with pytest.raises(AddressRefused, match="loopback"):
            check_destination("https://rebinding.example.com/in")
    finally:
        del DNS["rebinding.example.com"]
