"""Verifying an API key: the outcome is a value, a code from a fixed set, never an exception.

``evaluate`` is pure; the verify endpoint and the cache feed it snapshots and the clock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from gatepass.apikeys.models import ApiKey, ApiKeySecret
from gatepass.credentials import rules
from gatepass.tokens.signer import compact_json
from gatepass.users.roles import ceiling


class VerifyCode(StrEnum):
    VALID = "VALID"
    NOT_FOUND = "NOT_FOUND"
    REVOKED = "REVOKED"
    SUSPENDED = "SUSPENDED"
    IP_NOT_ALLOWED = "IP_NOT_ALLOWED"
    EXPIRED = "EXPIRED"
    DISABLED = "DISABLED"
    RATE_LIMITED = "RATE_LIMITED"


@dataclass(frozen=True, slots=True)
class ApiKeyEntry:
    """What a verification needs to know about one secret of one key."""

    pk: int
    tenant_id: int
    key_id: str
    name: str
    revoked: bool
    suspended: bool
    expires_at: float | None
    secret_id: int
    secret_expires_at: float | None
    owner_email: str | None
    owner_active: bool
    scopes: tuple[str, ...]
    groups: tuple[str, ...]
    rate_limit: int | None
    rate_period: int | None
    networks: tuple[rules.Network, ...] = ()  # its IP allowlist; empty: anywhere
    # ``describe``'s document as compact JSON without its braces, made once per snapshot: the
    # verify endpoint answers it to every check of the key
    described: bytes = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "described", compact_json(describe(self))[1:-1].encode())


def evaluate(entry: ApiKeyEntry | None, now: float) -> VerifyCode:
    if entry is None:
        return VerifyCode.NOT_FOUND
    if entry.revoked or (entry.secret_expires_at is not None and entry.secret_expires_at <= now):
        return VerifyCode.REVOKED
    if entry.suspended:
        return VerifyCode.SUSPENDED
    if not entry.owner_active:
        return VerifyCode.DISABLED
    if entry.expires_at is not None and entry.expires_at <= now:
        return VerifyCode.EXPIRED
    return VerifyCode.VALID


def describe(entry: ApiKeyEntry) -> dict[str, Any]:
    """The public part of a valid answer. ``allowed_ips`` lets a verifier that caches answers
    check each caller's address itself."""
    return {
        "key_id": entry.key_id,
        "name": entry.name,
        "kind": "personal" if entry.owner_email else "service",
        "owner": {"email": entry.owner_email} if entry.owner_email else None,
        "scopes": list(entry.scopes),
        "groups": list(entry.groups),
        "expires_at": int(entry.expires_at) if entry.expires_at is not None else None,
        "allowed_ips": [str(n) for n in entry.networks],
    }


def load_entry(session: Session, tenant_id: int, digest: bytes) -> ApiKeyEntry | None:
    """One indexed lookup by the secret's keyed hash; never a scan."""
    secret = session.scalar(
        select(ApiKeySecret)
        .where(ApiKeySecret.digest == digest)
        .options(
            selectinload(ApiKeySecret.key).selectinload(ApiKey.permissions),
            selectinload(ApiKeySecret.key).selectinload(ApiKey.groups),
            selectinload(ApiKeySecret.key).selectinload(ApiKey.owner),
        )
    )
    if secret is None or secret.key.tenant_id != tenant_id:
        return None
    return _entry(secret)


def load_secret_state(
    session: Session, tenant_id: int, key_id: str, secret_id: int
) -> ApiKeyEntry | None:
    """One secret of a key named by its ID, as ``load_entry`` gives it: what a token got by
    exchanging that secret (``oauth.exchange``) checks to end with it."""
    secret = session.scalar(
        select(ApiKeySecret)
        .join(ApiKeySecret.key)
        .where(ApiKey.tenant_id == tenant_id, ApiKey.key_id == key_id, ApiKeySecret.id == secret_id)
        .options(
            selectinload(ApiKeySecret.key).selectinload(ApiKey.permissions),
            selectinload(ApiKeySecret.key).selectinload(ApiKey.groups),
            selectinload(ApiKeySecret.key).selectinload(ApiKey.owner),
        )
    )
    return _entry(secret) if secret is not None else None


def _entry(secret: ApiKeySecret) -> ApiKeyEntry:
    key = secret.key
    scopes = tuple(p.name for p in key.permissions)
    owner = key.owner
    return ApiKeyEntry(
        pk=key.id,
        tenant_id=key.tenant_id,
        key_id=key.key_id,
        name=key.name,
        revoked=key.status == "revoked",
        suspended=key.status == "suspended",
        expires_at=key.expires_at.timestamp() if key.expires_at else None,
        secret_id=secret.id,
        secret_expires_at=secret.expires_at.timestamp() if secret.expires_at else None,
        owner_email=owner.email if owner else None,
        owner_active=owner is None or owner.status == "active",
        scopes=ceiling(owner.role, scopes) if owner else scopes,
        groups=tuple(g.name for g in key.groups),
        rate_limit=key.rate_limit,
        rate_period=key.rate_period,
        networks=rules.networks(key.allowed_ips),
    )
