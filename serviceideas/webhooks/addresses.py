"""Which addresses the server will call with a webhook, so that nobody can make it call its own
neighbours (docs/architecture.md, "Addresses the server will call").

`check_address` checks what an admin types (at registration and on every edit);
`check_destination` checks again at send time and gives the IP addresses the delivery may
connect to, so a name that later resolves somewhere else (DNS rebinding) is refused then too.
`ascii_host` is the name a request carries (Host, TLS), `short_address` what pages, logs and
notices show of an address (never its secret part).
"""

from __future__ import annotations

import ipaddress
import re
import socket
from typing import Final
from urllib.parse import SplitResult, urlsplit

from flask import current_app
from flask_babel import gettext, lazy_gettext

from serviceideas.errors import RuleViolation
from serviceideas.webhooks.models import URL_MAX

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

FIELD: Final = "url"

# What each kind of address is, in words, for the refusal. Those in PRIVATE lead to the
# company's own network and are allowed by WEBHOOKS_ALLOW_PRIVATE (loopback, the server
# itself, only in development and testing); the others never are: nothing that answers HTTP
# lives there, or (link-local, METADATA) cloud metadata services do.
LOOPBACK, PRIVATE_RANGE, SHARED = "loopback", "private", "shared (carrier-grade NAT)"
LINK_LOCAL = "link-local (where cloud metadata services answer)"
METADATA_SERVICE = "cloud metadata service"
UNSPECIFIED, MULTICAST, RESERVED = "unspecified", "multicast", "reserved"
PRIVATE: Final = frozenset({LOOPBACK, PRIVATE_RANGE, SHARED})
# Each kind as the refusal names it.
KIND_WORDS: Final = {
    LOOPBACK: lazy_gettext("a loopback address"),
    PRIVATE_RANGE: lazy_gettext("a private address"),
    SHARED: lazy_gettext("a shared (carrier-grade NAT) address"),
    LINK_LOCAL: lazy_gettext("a link-local (where cloud metadata services answer) address"),
    METADATA_SERVICE: lazy_gettext("a cloud metadata service address"),
    UNSPECIFIED: lazy_gettext("an unspecified address"),
    MULTICAST: lazy_gettext("a multicast address"),
    RESERVED: lazy_gettext("a reserved address"),
}
LOOPBACK_ALLOWED_IN: Final = frozenset({"development", "testing"})  # ENV_NAME

# Cloud metadata services (instance credentials) at addresses no range rule refuses once
# WEBHOOKS_ALLOW_PRIVATE is on, or at all: refused always. 169.254.169.254 (AWS, Google,
# Azure, Oracle...) and 169.254.170.2 (AWS ECS) are link-local as well.
METADATA: Final = frozenset(
    ipaddress.ip_address(address)
    for address in (
        "169.254.169.254",
        "169.254.170.2",
        "fd00:ec2::254",  # AWS over IPv6, inside fc00::/7
        "100.100.100.200",  # Alibaba Cloud, inside 100.64/10
        "192.0.0.192",  # Oracle Cloud's older address
        "168.63.129.16",  # Azure's host agent (WireServer), a global address
    )
)

THIS_NETWORK = ipaddress.ip_network("0.0.0.0/8")  # "this host": 0.x reaches the server itself
SHARED_NETWORK = ipaddress.ip_network("100.64.0.0/10")
NAT64 = ipaddress.ip_network("64:ff9b::/96")  # an IPv4 address, reached through a NAT64 gateway

# Old spellings of an IPv4 address that the C library still reads: 127.1, 0x7f000001, 0177.1.
LEGACY_IPV4 = re.compile(r"[0-9a-fA-FxX.]+")
HOST_NAME = re.compile(r"[A-Za-z0-9_.-]+")


class AddressRefused(RuleViolation):
    """An address the server will not call, with the reason (beside the form's address)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, FIELD)


def check_address(
    url: str | None, *, allow_http: bool | None = None, allow_private: bool | None = None
) -> str:
    """The address an admin typed, stripped, or AddressRefused saying what is wrong with it.

    The host is resolved now: a name that cannot be found is refused (more likely a typing
    mistake than a receiver not yet set up), as is one that leads to an address the server
    will not call. The settings default to the app's WEBHOOKS_ALLOW_HTTP and
    WEBHOOKS_ALLOW_PRIVATE."""
    url = (url or "").strip()
    if not url:
        raise AddressRefused(gettext("Please fill in the address."))
    check_destination(url, allow_http=allow_http, allow_private=allow_private)
    return url


def check_destination(
    url: str, *, allow_http: bool | None = None, allow_private: bool | None = None
) -> list[str]:
    """The IP addresses a delivery to `url` may connect to (every address its host has now,
    in the resolver's order), or AddressRefused. One address the server will not call refuses
    them all: a name that leads both outside and inside is not to be trusted."""
    config = current_app.config
    if allow_http is None:
        allow_http = bool(config.get("WEBHOOKS_ALLOW_HTTP"))
    if allow_private is None:
        allow_private = bool(config.get("WEBHOOKS_ALLOW_PRIVATE"))
    loopback_allowed = config.get("ENV_NAME") in LOOPBACK_ALLOWED_IN
    parts = _parts(url, allow_http=allow_http)
    host = parts.hostname or ""
    addresses = _addresses(host)
    for address in addresses:
        kind = kind_of(address)
        allowed = kind in PRIVATE and (kind != LOOPBACK or loopback_allowed)
        if kind is None or (allow_private and allowed):
            continue
        words = KIND_WORDS[kind]
        if _ip_literal(host) is not None:
            refusal = gettext(
                "%(host)s is %(kind)s: webhooks go only to addresses on the internet",
                host=host,
                kind=words,
            )
        else:
            refusal = gettext(
                "%(host)s leads to %(address)s, which is %(kind)s: webhooks go only to"
                " addresses on the internet",
                host=host,
                address=str(address),
                kind=words,
            )
        if kind == LOOPBACK:
            refusal = gettext(
                "%(refusal)s (the server itself: allowed only in development and testing, with"
                " the SERVICEIDEAS_WEBHOOKS_ALLOW_PRIVATE setting on).",
                refusal=refusal,
            )
        elif kind in PRIVATE:
            refusal = gettext(
                "%(refusal)s (unless the server's SERVICEIDEAS_WEBHOOKS_ALLOW_PRIVATE setting is"
                " on).",
                refusal=refusal,
            )
        else:
            refusal = gettext("%(refusal)s.", refusal=refusal)
        raise AddressRefused(refusal)
    return [str(address) for address in addresses]


def kind_of(address: IPAddress) -> str | None:
    """What kind of address this is (LOOPBACK, PRIVATE_RANGE, ...), or None for one on the
    internet. An IPv6 address carrying an IPv4 one (IPv4-mapped, 6to4, NAT64) is the IPv4
    address it carries."""
    if address in METADATA:
        return METADATA_SERVICE
    if isinstance(address, ipaddress.IPv6Address):
        carried = address.ipv4_mapped or address.sixtofour
        if carried is None and address in NAT64:
            carried = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if carried is None and address.teredo is not None:
            carried = address.teredo[1]  # the client's own address
        if carried is not None:
            return kind_of(carried)
    if address.is_unspecified or (
        isinstance(address, ipaddress.IPv4Address) and address in THIS_NETWORK
    ):
        return UNSPECIFIED
    if address.is_loopback:
        return LOOPBACK
    if address.is_link_local or (
        isinstance(address, ipaddress.IPv6Address) and address.is_site_local
    ):
        return LINK_LOCAL
    if address.is_multicast:
        return MULTICAST
    if isinstance(address, ipaddress.IPv4Address) and address in SHARED_NETWORK:
        return SHARED
    if address.is_private:  # RFC 1918, fc00::/7, and the documentation and benchmark ranges
        return PRIVATE_RANGE if not address.is_reserved else RESERVED
    if address.is_reserved or not address.is_global:
        return RESERVED
    return None


def _parts(url: str, *, allow_http: bool) -> SplitResult:
    """The URL's parts, or AddressRefused when it is not an address the server can call."""
    if len(url) > URL_MAX:
        raise AddressRefused(
            gettext(
                "Keep the address to %(maximum)d characters (it has %(length)d).",
                maximum=URL_MAX,
                length=len(url),
            )
        )
    if any(c.isspace() or not c.isprintable() or c == "\\" for c in url):
        raise AddressRefused(
            gettext("The address may not hold spaces, control characters or '\\'.")
        )
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - read for its ValueError on a port that is not a number
    except ValueError:
        raise AddressRefused(
            gettext("That is not a web address (check the host and port).")
        ) from None
    scheme = parts.scheme.lower()
    if scheme == "http" and not allow_http:
        raise AddressRefused(
            gettext(
                "The address must start with https:// (plain http:// would send the events and "
                "their signatures unencrypted)."
            )
        )
    if scheme not in ("https", "http"):
        raise AddressRefused(gettext("The address must start with https://."))
    if not parts.hostname:
        raise AddressRefused(
            gettext("The address needs a host, as in https://hooks.example.com/in.")
        )
    if "@" in parts.netloc:
        raise AddressRefused(
            gettext(
                "The address may not hold a user name or password (before an '@'): put a token "
                "the receiver checks in the path or query instead."
            )
        )
    if "#" in url:
        raise AddressRefused(
            gettext("The address may not have a fragment (a '#' and what follows).")
        )
    return parts


def _addresses(host: str) -> list[IPAddress]:
    """The IP addresses `host` stands for: itself if it is one (in any spelling the C library
    reads), else what it resolves to now. AddressRefused when it resolves to nothing."""
    literal = _ip_literal(host)
    if literal is not None:
        return [literal]
    try:
        name = host.encode("idna").decode("ascii")
    except UnicodeError:
        raise AddressRefused(
            gettext("%(host)s is not a host name the server can look up.", host=host)
        ) from None
    if not HOST_NAME.fullmatch(name):
        raise AddressRefused(
            gettext("%(host)s is not a host name the server can look up.", host=host)
        )
    if name.rstrip(".").lower() == "localhost" or name.rstrip(".").lower().endswith(".localhost"):
        return [ipaddress.ip_address("127.0.0.1")]  # always this machine, whatever DNS says
    try:
        found = socket.getaddrinfo(name, None, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        found = []
    addresses: list[IPAddress] = []
    for *_, sockaddr in found:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])  # drop a zone index
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise AddressRefused(
            gettext(
                "The server could not find %(host)s: check its spelling (a receiver's host must "
                "exist in DNS when it is registered).",
                host=host,
            )
        )
    return addresses


def _ip_literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        pass
    if LEGACY_IPV4.fullmatch(host) and any(c.isdigit() for c in host):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None


def ascii_host(host: str) -> str:
    """The host as a request names it (Host header, TLS's SNI and certificate check): an
    internationalised name in its IDNA form (`bücher.example` → `xn--bcher-kva.example`, as
    it was looked up and as certificates name it), lower case, without a final dot; an IP
    address as it is. UnicodeError for a name IDNA cannot write (the check refuses those)."""
    host = host.rstrip(".").lower()
    if _ip_literal(host) is not None:
        return host
    return host.encode("idna").decode("ascii")


SHOWN_PATH: Final = 12  # characters of an address's path shown: a chat product's holds a secret


def short_address(url: str) -> str:
    """An address as pages and notices show it: its scheme and host whole, its path cut short
    (Slack's and Teams' addresses carry their secret in the path), never its query."""
    parts = urlsplit(url)
    path = parts.path if len(parts.path) <= SHOWN_PATH else parts.path[:SHOWN_PATH] + "…"
    return f"{parts.scheme}://{parts.netloc}{path}{'?…' if parts.query else ''}"
