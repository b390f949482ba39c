"""Which addresses an outbound webhook request may reach (server-side request forgery guard).

A callback URL is user input: without a guard it could make the platform call its own
database, a cloud metadata endpoint (169.254.169.254) or anything else on the private
network. Every address the host name resolves to must be a public (globally routable) one,
unless an operator allows a network (``MEETING_WEBHOOK_ALLOWED_NETWORKS``). The request then
goes to the checked address itself (``pinned_url``), so a second DNS answer cannot swap in a
private one (DNS rebinding), and redirects are never followed.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
MAX_URL_LENGTH = 2048
SCHEMES = {"http": 80, "https": 443}


class BlockedUrlError(ValueError):
    """A webhook URL that may not be called; ``reason`` is safe to show its owner."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Target:
    """A checked URL and the address the request must use."""

    url: str
    scheme: str
    host: str
    port: int
    address: IPAddress

    def pinned_url(self) -> str:
        """The URL with the host replaced by the checked address (Host/SNI stay the name)."""
        parts = urlsplit(self.url)
        literal = f"[{self.address}]" if self.address.version == 6 else str(self.address)
        netloc = f"{literal}:{self.port}"
        return urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))

    @property
    def host_header(self) -> str:
        default = SCHEMES[self.scheme] == self.port
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if default else f"{host}:{self.port}"


def parse_networks(cidrs: Iterable[str]) -> list[IPNetwork]:
    return [ipaddress.ip_network(c.strip(), strict=False) for c in cidrs if c.strip()]


def is_allowed_address(address: IPAddress, allowed: Sequence[IPNetwork]) -> bool:
    """Public addresses always; others only inside an operator-allowed network."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1
    if any(address in network for network in allowed):
        return True
    # is_global is False for loopback, RFC 1918, link-local (metadata), CGNAT, ULA, reserved..
    return address.is_global and not address.is_multicast


def check_url_syntax(url: str) -> tuple[str, str, int]:
    """``(scheme, host, port)`` of an http(s) URL without credentials, or BlockedUrlError."""
    if len(url) > MAX_URL_LENGTH:
        raise BlockedUrlError(f"URL longer than {MAX_URL_LENGTH} characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as e:
        raise BlockedUrlError(f"not a valid URL: {e}") from e
    if parts.scheme not in SCHEMES:
        raise BlockedUrlError("only http and https URLs are allowed")
    if not parts.hostname:
        raise BlockedUrlError("the URL has no host")
    if parts.username or parts.password:
        raise BlockedUrlError("credentials in the URL are not allowed; sign with the secret")
    return parts.scheme, parts.hostname, port or SCHEMES[parts.scheme]


async def resolve_target(url: str, allowed: Sequence[IPNetwork]) -> Target:
    """``check_target`` off the event loop (DNS resolution blocks)."""
    return await asyncio.to_thread(check_target, url, allowed)


def check_target(url: str, allowed: Sequence[IPNetwork]) -> Target:
    """Resolve the URL's host and check every address it has; the first one is used."""
    scheme, host, port = check_url_syntax(url)
    addresses = resolve_host(host, port)
    blocked = [a for a in addresses if not is_allowed_address(a, allowed)]
    if blocked:
        raise BlockedUrlError(
            f"{host} resolves to a non-public address ({blocked[0]}); an operator can allow "
            "its network with MEETING_WEBHOOK_ALLOWED_NETWORKS"
        )
    return Target(url, scheme, host, port, addresses[0])


def resolve_host(host: str, port: int) -> list[IPAddress]:
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as e:
        raise BlockedUrlError(f"cannot resolve {host}: {e.strerror or e}") from e
    addresses: list[IPAddress] = []
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise BlockedUrlError(f"{host} has no address")
    return addresses
