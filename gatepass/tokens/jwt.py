"""Signing and verifying JWT access tokens (RFC 9068) with PyJWT."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import jwt

from gatepass.signing_keys.material import PublicKey
from gatepass.tokens.signer import TYP, TokenSigner


@dataclass(frozen=True, slots=True)
class VerificationKey:
    kid: str
    alg: str
    key: PublicKey


class Issuer(Protocol):
    """What signing and verifying need of a tenant; the cache's ``TenantEntry`` is one."""

    @property
    def issuer(self) -> str: ...

    @property
    def signer(self) -> TokenSigner: ...

    @property
    def verification_keys(self) -> Mapping[str, VerificationKey]: ...


class InvalidTokenError(Exception):
    """The token is not one of ours, or not valid any more. Never says which, to callers."""


def sign(tenant: Issuer, claims: dict[str, Any]) -> str:
    return tenant.signer.sign(claims)


def verify(tenant: Issuer, token: str, *, leeway: int = 0) -> dict[str, Any]:
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
