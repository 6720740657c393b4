"""Where a request carries its credential (seeds 002 and 003, RFC 6750 §2).

A Bearer token in ``Authorization`` (RFC 6750 §2.1), a DPoP-bound one as
``Authorization: DPoP`` (RFC 9449 §7.1, its proof in the ``DPoP`` header: ``proofs``), or an API
key in ``Authorization-PSK``, ``X-API-Key`` or the ``apikey`` query parameter. RFC 6750 §2 lets
a request use one method only; two credentials are ``invalid_request``. Other ``Authorization``
schemes are left alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import unquote_plus

from gatepass_sdk.errors import InvalidRequestError

QUERY_PARAMETER = "apikey"
KEY_HEADERS = frozenset({b"authorization-psk", b"x-api-key"})
CREDENTIAL_HEADERS = KEY_HEADERS | {b"authorization"}
_QUERY_MARK = QUERY_PARAMETER.encode() + b"="


@dataclass(frozen=True, slots=True)
class Credential:
    kind: Literal["bearer", "dpop", "api_key"]  # dpop: a token sent as ``Authorization: DPoP``
    value: str = field(repr=False)


def from_headers(headers: list[tuple[bytes, bytes]]) -> list[Credential]:
    """The credentials among ASGI headers (lower-case names, latin-1 values)."""
    found = (
        _in_header(name, value.decode("latin-1"))
        for name, value in headers
        if name in CREDENTIAL_HEADERS  # the other headers are not even decoded
    )
    return [credential for credential in found if credential is not None]


def from_environ(environ: Mapping[str, Any]) -> list[Credential]:
    """The credentials among a WSGI environ's headers (PEP 3333: ``HTTP_X_API_KEY``)."""
    found = (_in_header(name, environ.get(variable)) for name, variable in _ENVIRON_NAMES)
    return [credential for credential in found if credential is not None]


def _in_header(name: bytes, value: Any) -> Credential | None:
    if not isinstance(value, str):
        return None
    if name == b"authorization":
        scheme, _, token = value.strip().partition(" ")
        if scheme.lower() in ("bearer", "dpop"):
            return Credential("dpop" if scheme.lower() == "dpop" else "bearer", token.strip())
        return None
    if name in KEY_HEADERS:
        return Credential("api_key", value.strip())
    return None


_ENVIRON_NAMES = [
    (name, "HTTP_" + name.decode().upper().replace("-", "_")) for name in sorted(CREDENTIAL_HEADERS)
]


def split_query(query: bytes) -> tuple[list[Credential], bytes]:
    """API keys in the query string, and the query string without them.

    The rest of the query is kept byte for byte, so what the application sees (and may log)
    is the request as sent, minus the key.
    """
    if _QUERY_MARK not in query and b"%" not in query:  # "%61pikey=" is the same name
        return [], query
    keys: list[Credential] = []
    kept: list[bytes] = []
    for pair in query.split(b"&"):
        name, _, value = pair.partition(b"=")
        if unquote_plus(name.decode("latin-1")) == QUERY_PARAMETER:
            keys.append(Credential("api_key", unquote_plus(value.decode("latin-1"))))
        else:
            kept.append(pair)
    return keys, b"&".join(kept)


def proofs(headers: list[tuple[bytes, bytes]]) -> list[str]:
    """The ``DPoP`` headers among ASGI headers (RFC 9449 §4.1: there must be one)."""
    return [value.decode("latin-1") for name, value in headers if name == b"dpop"]


def one(found: list[Credential]) -> Credential | None:
    if len(found) > 1:
        raise InvalidRequestError(f"{len(found)} credentials")
    return found[0] if found else None
