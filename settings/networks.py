"""Network lists in settings (``MEETING_TRUSTED_PROXIES``): parsed once, validated at start-up.

The web layer's ``app.client_address`` applies them to requests; parsing lives here so the
settings can validate themselves without importing the web layer.
"""

from __future__ import annotations

import ipaddress

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(value: str) -> tuple[IPNetwork, ...]:
    """Comma-separated addresses or CIDRs; raises ``ValueError`` naming a bad entry."""
    networks = []
    for item in (part.strip() for part in value.split(",")):
        if not item:
            continue
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError as e:
            raise ValueError(f"not an IP address or CIDR: {item!r}") from e
    return tuple(networks)
