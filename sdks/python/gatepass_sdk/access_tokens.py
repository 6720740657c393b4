"""Checking a Gatepass JWT access token (RFC 9068 §4) against a key from the tenant's JWKS.

The JWS compact serialization (RFC 7515 §7.1) is split and decoded here, strictly. PyJWT's
``jwt.decode`` would do the same work but re-validates each base64url character in Python,
which costs more than the ES256 signature check itself; this path adds a few microseconds to
it. Claims are checked as RFC 9068 §4 and RFC 7519 §4.1 require.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from gatepass_sdk.caller import Caller
from gatepass_sdk.errors import InvalidTokenError
from gatepass_sdk.verification_keys import VerificationKey

ACCESS_TOKEN_TYPES = frozenset({"at+jwt", "application/at+jwt"})  # RFC 9068 §2.1
MAX_TOKEN_LENGTH = 8192
_BASE64URL = re.compile(r"[A-Za-z0-9_-]+")
# RFC 4648 §3.5: the bits after the last full byte are zero, so the last character is one of these.
_CANONICAL_LAST = {0: None, 2: frozenset("AQgw"), 3: frozenset("AEIMQUYcgkosw048")}


@dataclass(frozen=True, slots=True)
class Expected:
    """What every accepted token must say: who issued it, for whom, within which clock skew."""

    issuer: str
    audiences: frozenset[str]
    leeway: float


class Jws(NamedTuple):
    kid: str
    alg: str
    signing_input: bytes
    payload: str
    signature: bytes


def parse(token: str) -> Jws:
    """The parts of a compact JWS; the payload is decoded only once the signature holds.

    Only the signature segment is checked character by character: the signature covers the
    other two exactly as sent, so any stray character in them fails the signature check. Its
    encoding must also be the canonical one, so that one signature has one spelling only.
    """
    if len(token) > MAX_TOKEN_LENGTH or not token.isascii() or token.count(".") != 2:
        raise InvalidTokenError("malformed")
    header_segment, payload_segment, signature_segment = token.split(".")
    if not _BASE64URL.fullmatch(signature_segment) or not _canonical(signature_segment):
        raise InvalidTokenError("base64url")
    kid, alg = _header(header_segment)
    signing_input = token[: len(header_segment) + 1 + len(payload_segment)].encode("ascii")
    return Jws(kid, alg, signing_input, payload_segment, _decode(signature_segment))


def verified_claims(jws: Jws, key: VerificationKey) -> dict[str, Any]:
    """The payload, once the signature is checked with ``key`` and the key's own algorithm."""
    if jws.alg != key.alg:
        raise InvalidTokenError("alg")
    if not key.verify(jws.signing_input, jws.signature):
        raise InvalidTokenError("signature")
    return _json(jws.payload)


def check_claims(claims: Mapping[str, Any], expected: Expected, now: float) -> None:
    if claims.get("iss") != expected.issuer:
        raise InvalidTokenError("iss")
    audience = claims.get("aud")
    audiences = [audience] if isinstance(audience, str) else audience
    if not isinstance(audiences, list) or not any(
        isinstance(a, str) and a in expected.audiences for a in audiences
    ):
        raise InvalidTokenError("aud")
    if _number(claims, "exp") <= now - expected.leeway:
        raise InvalidTokenError("exp")
    if "nbf" in claims and _number(claims, "nbf") > now + expected.leeway:
        raise InvalidTokenError("nbf")
    _number(claims, "iat")
    for name in ("sub", "client_id", "jti"):
        if not isinstance(claims.get(name), str):
            raise InvalidTokenError(name)


def caller(claims: Mapping[str, Any]) -> Caller:
    scope, groups = claims.get("scope", ""), claims.get("groups", [])
    if not isinstance(scope, str) or not isinstance(groups, list):
        raise InvalidTokenError("scope or groups")
    if not all(isinstance(group, str) for group in groups):
        raise InvalidTokenError("groups")
    return Caller(
        subject=str(claims["client_id"]),
        kind="oauth_client",
        permissions=frozenset(scope.split()),
        groups=tuple(groups),
        expires_at=float(claims["exp"]),
        claims=claims,
    )


def _number(claims: Mapping[str, Any], name: str) -> float:
    value = claims.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidTokenError(name)
    return float(value)


@functools.lru_cache(maxsize=64)
def _header(segment: str) -> tuple[str, str]:
    """``kid`` and ``alg`` of an access token's header (RFC 9068 §4), decoded and checked once:
    every token signed with one key has the very same header."""
    header = _json(segment)
    kid, typ, alg = header.get("kid"), header.get("typ"), header.get("alg")
    if not isinstance(kid, str) or not isinstance(typ, str) or not isinstance(alg, str):
        raise InvalidTokenError("no kid, typ or alg")
    if typ.lower() not in ACCESS_TOKEN_TYPES:
        raise InvalidTokenError("not an access token")
    if "crit" in header:  # RFC 7515 §4.1.11: no extension is understood here
        raise InvalidTokenError("crit")
    return kid, alg


def _canonical(segment: str) -> bool:
    last = _CANONICAL_LAST.get(len(segment) % 4, frozenset())
    return last is None or segment[-1] in last


def _decode(segment: str) -> bytes:
    if len(segment) % 4 == 1:
        raise InvalidTokenError("base64url")
    try:
        return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    except (binascii.Error, ValueError):
        raise InvalidTokenError("base64url") from None


def _json(segment: str) -> dict[str, Any]:
    try:
        value = json.loads(_decode(segment).decode("utf-8"))
    except (ValueError, RecursionError):  # bad UTF-8, bad JSON, or nested deeper than json can
        raise InvalidTokenError("json") from None
    if not isinstance(value, dict):
        raise InvalidTokenError("json")
    return value
