"""The client's address for per-address limits, honouring ``X-Forwarded-For`` only from
configured trusted proxies (``MEETING_TRUSTED_PROXIES``).

Behind a load balancer every request arrives from the balancer's address; trusting the header
from anyone else would let a client pick its own address and dodge every per-address limit.
The header is read right to left: entries appended by trusted proxies are skipped, the first
untrusted one is the client (anything to its left was written by the client and is ignored).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence

from starlette.requests import HTTPConnection

from settings.networks import IPNetwork

UNKNOWN = "unknown"


def _is_trusted(address: str, trusted: Sequence[IPNetwork]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in trusted)


def forwarded_client(peer: str, forwarded_for: Iterable[str], trusted: Sequence[IPNetwork]) -> str:
    """The client address given the socket peer and every ``X-Forwarded-For`` header value."""
    if not trusted or not _is_trusted(peer, trusted):
        return peer
    hops = [hop.strip() for value in forwarded_for for hop in value.split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _is_trusted(hop, trusted):
            return _normalise(hop)
    return _normalise(hops[0]) if hops else peer


def _normalise(hop: str) -> str:
    """A syntactically valid address, or a fixed marker (garbage never becomes a bucket key)."""
    try:
        return str(ipaddress.ip_address(hop))
    except ValueError:
        return UNKNOWN


def client_address(connection: HTTPConnection, trusted: Sequence[IPNetwork]) -> str:
    peer = connection.client.host if connection.client else UNKNOWN
    return forwarded_client(peer, connection.headers.getlist("x-forwarded-for"), trusted)
