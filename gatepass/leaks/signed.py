"""The generic report API's request signature: HMAC-SHA256 under a secret the operator shares
with the scanners that report (``GATEPASS_LEAK_REPORT_SECRET``).

A request carries ``Gatepass-Leak-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of
"<t>." + body>``. The time binds the signature to the moment it was made: one older or newer
than ``WINDOW`` is refused, so a captured request cannot be replayed later (within the window a
replay changes nothing, as a report acts at most once on a secret).
"""

from __future__ import annotations

import hashlib
import hmac
import re

HEADER = "gatepass-leak-signature"
WINDOW = 300  # seconds, either way
_FORMAT = re.compile(r"^t=(\d{1,12}),v1=([0-9a-f]{64})\Z")


def sign(secret: bytes, body: bytes, at: int) -> str:
    """The header value for ``body`` sent at ``at`` (what a reporter computes)."""
    return f"t={at},v1={_mac(secret, body, at)}"


def verify(secret: bytes, header: str, body: bytes, now: float) -> bool:
    found = _FORMAT.match(header.strip())
    if found is None:
        return False
    at, given = int(found[1]), found[2]
    if abs(now - at) > WINDOW:
        return False
    return hmac.compare_digest(_mac(secret, body, at), given)


def _mac(secret: bytes, body: bytes, at: int) -> str:
    return hmac.new(secret, f"{at}.".encode() + body, hashlib.sha256).hexdigest()
