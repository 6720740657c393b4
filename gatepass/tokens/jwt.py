"""Signing and verifying JWT access tokens (RFC 9068) with PyJWT."""

from __future__ import annotations

from typing import Any

import jwt

from gatepass.cache.entries import TenantEntry
from gatepass.tokens.signer import TYP


class InvalidTokenError(Exception):
    """The token is not one of ours, or not valid any more. Never says which, to callers."""


def sign(tenant: TenantEntry, claims: dict[str, Any]) -> str:
    return tenant.signer.sign(claims)


def verify(tenant: TenantEntry, token: str, *, leeway: int = 0) -> dict[str, Any]:
    """Claims of a token this tenant issued and that has not expired."""
    if len(token) > 8192:
        raise InvalidTokenError("token too long")
    try:
        header = jwt.get_unverified_header(token)
        key = tenant.verification_keys.get(str(header.get("kid")))
        if key is None or header.get("typ") != TYP:
            raise InvalidTokenError("unknown key or type")
        claims: dict[str, Any] = jwt.decode(
            token,
            key.key,
            algorithms=[key.alg],
            issuer=tenant.issuer,
            leeway=leeway,
            options={"verify_aud": False, "require": ["exp", "iat", "jti", "client_id"]},
        )
    except jwt.PyJWTError as exc:
        raise InvalidTokenError(type(exc).__name__) from None
    return claims
