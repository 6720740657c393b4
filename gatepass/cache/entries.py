"""Immutable snapshots of what the protocol endpoints need, built from the database.

A snapshot is what a request reads; it never touches the ORM. Building one is the only
database work on the protocol path, and happens on a cache miss only.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from gatepass.clients.keys import parse_jwks
from gatepass.clients.models import ClientSecret, OAuthClient
from gatepass.credentials import rules
from gatepass.db import utcnow
from gatepass.federation import Rule, TrustedIssuer, parse_rules, trusted_issuers
from gatepass.groups.models import ClientGroup
from gatepass.permissions.models import Permission
from gatepass.publickeys.jwk import PublicKey
from gatepass.signing_keys import service as signing_keys
from gatepass.signing_keys.material import KeyCipher, public_key_from_jwk, published
from gatepass.tenants.models import Tenant
from gatepass.tokens.jwt import VerificationKey
from gatepass.tokens.signer import TokenSigner


@dataclass(frozen=True, slots=True)
class SecretVersion:
    id: int
    digest: bytes
    expires_at: float | None


@dataclass(frozen=True, slots=True)
class ClientEntry:
    pk: int
    tenant_id: int
    client_id: str
    uid: str  # never reused, unlike client_id: what tokens are bound to
    active: bool
    suspended: bool  # not active, but may be resumed
    expires_at: float | None
    scopes: tuple[str, ...]
    groups: tuple[str, ...]
    token_lifetime: int | None
    secrets: tuple[SecretVersion, ...]
    networks: tuple[rules.Network, ...] = ()  # its IP allowlist; empty: anywhere
    keys: tuple[PublicKey, ...] = ()  # its public keys for private_key_jwt; none: a secret
    jwks_uri: str | None = None  # ... or where it publishes them
    federation: tuple[Rule, ...] = ()  # the trusted issuers' tokens that authenticate it

    def usable(self, now: float) -> bool:
        return self.active and (self.expires_at is None or self.expires_at > now)

    def live_secrets(self, now: float) -> tuple[SecretVersion, ...]:
        return tuple(s for s in self.secrets if s.expires_at is None or s.expires_at > now)


@dataclass(frozen=True, slots=True)
class TenantEntry:
    id: int
    slug: str
    issuer: str
    audience: str
    allowed_audiences: frozenset[str]
    token_lifetime: int
    available_scopes: frozenset[str]
    signing_kid: str
    signing_alg: str
    signer: TokenSigner
    verification_keys: dict[str, VerificationKey]
    jwks_json: bytes
    next_key_expiry: float | None
    # the external issuers its clients' federation rules may trust, by issuer URL
    trusted_issuers: dict[str, TrustedIssuer] = field(default_factory=dict)
    require_dpop_nonce: bool = False  # DPoP proofs must carry a server nonce (RFC 9449 §8)
    token_exchange_lifetime: int | None = None  # of an exchanged token; None: exchange is off


def _ts(value: datetime | None) -> float | None:
    return value.timestamp() if value is not None else None


NO_CLIENT = 0  # a primary key no row has


def load_client(session: Session, tenant_id: int, client_id: str) -> ClientEntry | None:
    """The client's snapshot, or ``None``.

    An unknown client ID runs the same four queries as a known one (on a primary key no row
    has), so the time of a first lookup does not tell whether the client exists.
    """
    row = session.execute(
        select(
            OAuthClient.id,
            OAuthClient.uid,
            OAuthClient.status,
            OAuthClient.expires_at,
            OAuthClient.token_lifetime,
            OAuthClient.allowed_ips,
            OAuthClient.jwks,
            OAuthClient.jwks_uri,
            OAuthClient.federation,
        ).where(OAuthClient.tenant_id == tenant_id, OAuthClient.client_id == client_id)
    ).one_or_none()
    pk = row.id if row is not None else NO_CLIENT
    scopes = session.scalars(
        select(Permission.name)
        .select_from(OAuthClient)
        .join(OAuthClient.permissions)
        .where(OAuthClient.id == pk)
        .order_by(Permission.name)
    ).all()
    groups = session.scalars(
        select(ClientGroup.name)
        .select_from(OAuthClient)
        .join(OAuthClient.groups)
        .where(OAuthClient.id == pk)
        .order_by(ClientGroup.name)
    ).all()
    secrets = session.execute(
        select(ClientSecret.id, ClientSecret.digest, ClientSecret.expires_at)
        .where(ClientSecret.client_pk == pk)
        .order_by(ClientSecret.id)
    ).all()
    if row is None:
        return None
    return ClientEntry(
        pk=pk,
        tenant_id=tenant_id,
        client_id=client_id,
        uid=row.uid,
        active=row.status == "active",
        suspended=row.status == "suspended",
        expires_at=_ts(row.expires_at),
        scopes=tuple(scopes),
        groups=tuple(groups),
        token_lifetime=row.token_lifetime,
        secrets=tuple(SecretVersion(s.id, s.digest, _ts(s.expires_at)) for s in secrets),
        networks=rules.networks(row.allowed_ips),
        keys=parse_jwks(row.jwks),
        jwks_uri=row.jwks_uri,
        federation=parse_rules(row.federation),
    )


def load_tenant(
    session: Session, slug: str, *, public_url: str, cipher: KeyCipher
) -> TenantEntry | None:
    tenant = session.scalar(select(Tenant).where(Tenant.slug == slug))
    if tenant is None:
        return None
    keys = signing_keys.published_keys(session, tenant.id)
    current = next(k for k in keys if k.status == "current")
    scopes = session.scalars(
        select(Permission.name).where(Permission.tenant_id == tenant.id, Permission.available)
    )
    expiries = [k.publish_until.timestamp() for k in keys if k.publish_until is not None]
    return TenantEntry(
        id=tenant.id,
        slug=tenant.slug,
        issuer=f"{public_url}/realms/{tenant.slug}",
        audience=tenant.audience,
        allowed_audiences=frozenset(tenant.allowed_audiences),
        token_lifetime=tenant.token_lifetime,
        available_scopes=frozenset(scopes),
        signing_kid=current.kid,
        signing_alg=current.alg,
        signer=TokenSigner(
            cipher.open(current.private_key_encrypted, current.kid),
            alg=current.alg,
            kid=current.kid,
        ),
        verification_keys={
            k.kid: VerificationKey(k.kid, k.alg, public_key_from_jwk(k.public_jwk)) for k in keys
        },
        jwks_json=json.dumps({"keys": [published(k.public_jwk) for k in keys]}).encode(),
        next_key_expiry=min(expiries) if expiries else None,
        trusted_issuers=trusted_issuers(tenant.trusted_issuers),
        require_dpop_nonce=tenant.require_dpop_nonce,
        token_exchange_lifetime=tenant.token_exchange_lifetime,
    )


def now_ts() -> float:
    return utcnow().timestamp()
