"""The input rules of a credential (an OAuth client or an API key), in one place.

The management API, the CLI and the console all end in the services that apply these, so the
same input gets the same answer from each; the API's schemas use the same bounds so that its
OpenAPI document says what the services enforce.
"""

from __future__ import annotations

import ipaddress

from gatepass.errors import InvalidInputError
from gatepass.text import MAX_DESCRIPTION, description

__all__ = [
    "MAX_ALLOWED_IPS",
    "MAX_DESCRIPTION",
    "MAX_NAME",
    "MAX_RATE_LIMIT",
    "MAX_RATE_PERIOD",
    "allowlist",
    "allows",
    "description",
    "name",
    "networks",
]

MAX_NAME = 200
MAX_RATE_LIMIT = 1_000_000_000  # requests per period
MAX_RATE_PERIOD = 86_400  # seconds: one day

RATE_LIMIT_RULE = f"rate limit must be 1 to {MAX_RATE_LIMIT:,} requests per 1 s to 1 day"


def name(value: str) -> str:
    """A credential's name, trimmed: required, at most ``MAX_NAME`` characters."""
    trimmed = value.strip()
    if not trimmed or len(trimmed) > MAX_NAME:
        raise InvalidInputError(f"name is required (at most {MAX_NAME} characters)")
    return trimmed


def check_rate_limit(limit: int, period: int) -> None:
    if not 1 <= limit <= MAX_RATE_LIMIT or not 1 <= period <= MAX_RATE_PERIOD:
        raise InvalidInputError(RATE_LIMIT_RULE)


# --- the IP allowlist ------------------------------------------------------------------------

MAX_ALLOWED_IPS = 50
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def allowlist(values: list[str]) -> str:
    """Addresses and CIDR ranges a credential may be used from, as stored: normalised (host bits
    cleared), space-separated, in the order given. Empty: from anywhere."""
    if len(values) > MAX_ALLOWED_IPS:
        raise InvalidInputError(f"at most {MAX_ALLOWED_IPS} allowed IP ranges")
    networks: list[str] = []
    for value in values:
        try:
            network = ipaddress.ip_network(value.strip(), strict=False)
        except ValueError:
            raise InvalidInputError(
                f"'{value[:60]}' is not an IP address or CIDR range (e.g. 203.0.113.0/24)"
            ) from None
        networks.append(str(network))
    return " ".join(dict.fromkeys(networks))


def networks(stored: str) -> tuple[Network, ...]:
    """A stored allowlist, parsed once (into a credential's cache entry)."""
    return tuple(ipaddress.ip_network(n) for n in stored.split())


def allows(allowed: tuple[Network, ...], address: str | None) -> bool:
    """Whether a caller at ``address`` may use a credential restricted to ``allowed`` (none:
    any address). An address that is not an IP (none known) is never allowed by a list."""
    if not allowed:
        return True
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # ::ffff:203.0.113.9, as a dual-stack socket reports IPv4 callers
    return any(ip in network for network in allowed)
