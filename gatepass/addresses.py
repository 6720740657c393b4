"""Source addresses as counted by throttles and by the audit log's failure rows."""

from __future__ import annotations

import ipaddress


def source_key(source: str) -> str:
    """The address as counted: an IPv6 address by its /64 network (one host commonly holds a
    whole /64, so counting its addresses one by one would give it 2^64 allowances), anything
    else as given."""
    try:
        address = ipaddress.ip_address(source)
    except ValueError:
        return source[:64]
    if address.version == 6:
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)
