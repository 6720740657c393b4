"""Creating and rotating a tenant's signing keys.

A tenant always has a *current* key, which signs tokens, and a *next* key, published in the JWKS
before it signs anything. Rotation promotes the next key, so resource servers that cached the
JWKS since the last rotation already know the key of new tokens; the old current key stays
published until every token it signed has expired, so tokens already issued keep verifying.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gatepass.audit.service import Actor, record_change
from gatepass.changes import feed
from gatepass.clients.models import OAuthClient
from gatepass.db import utcnow
from gatepass.signing_keys.material import (
    KeyCipher,
    generate_private_key,
    new_kid,
    public_jwk,
)
from gatepass.signing_keys.models import SigningKey
from gatepass.tenants.models import Tenant

# Resource servers cache the JWKS; keep a retired key published this much longer than its tokens.
PUBLISH_MARGIN = timedelta(minutes=10)


def create_keys(session: Session, tenant: Tenant, cipher: KeyCipher) -> SigningKey:
    """A new tenant's current key and the next one."""
    current = create_key(session, tenant, cipher)
    create_key(session, tenant, cipher, status="next")
    return current


def create_key(
    session: Session, tenant: Tenant, cipher: KeyCipher, *, status: str = "current"
) -> SigningKey:
    kid = new_kid()
    private_key = generate_private_key(tenant.signing_alg)
    key = SigningKey(
        tenant_id=tenant.id,
        kid=kid,
        alg=tenant.signing_alg,
        private_key_encrypted=cipher.seal(private_key, kid),
        public_jwk=public_jwk(private_key, kid=kid, alg=tenant.signing_alg),
        status=status,
    )
    session.add(key)
    session.flush()
    return key


def rotate(session: Session, tenant: Tenant, cipher: KeyCipher, *, actor: Actor) -> SigningKey:
    """Make a new key current; the old one stays published while its tokens can be valid."""
    now = utcnow()
    longest_lifetime = _longest_lifetime(session, tenant)
    keys = session.scalars(
        select(SigningKey).where(
            SigningKey.tenant_id == tenant.id, SigningKey.status.in_(("current", "next"))
        )
    ).all()
    upcoming = None
    for old in keys:
        if old.status == "next" and old.alg == tenant.signing_alg and upcoming is None:
            upcoming = old
            continue
        old.retired_at = now
        if old.status == "next":  # never signed anything (the algorithm changed): drop it
            old.status, old.publish_until = "retired", now
            continue
        old.status = "previous"
        old.publish_until = now + timedelta(seconds=longest_lifetime) + PUBLISH_MARGIN
    key = upcoming or create_key(session, tenant, cipher)
    key.status = "current"
    create_key(session, tenant, cipher, status="next")
    feed.publish(session, tenant.id, feed.KIND_KEYS)
    record_change(
        session, tenant.id, actor, "signing_key.rotate", key.kid, details={"alg": key.alg}
    )
    return key


def _longest_lifetime(session: Session, tenant: Tenant) -> int:
    per_client = session.scalar(
        select(func.max(OAuthClient.token_lifetime)).where(OAuthClient.tenant_id == tenant.id)
    )
    return max(tenant.token_lifetime, per_client or 0)


def published_keys(session: Session, tenant_id: int) -> list[SigningKey]:
    """The current and next keys, and every previous key whose tokens may still be in use."""
    now = utcnow()
    keys = session.scalars(
        select(SigningKey)
        .where(
            SigningKey.tenant_id == tenant_id,
            SigningKey.status.in_(("current", "next", "previous")),
        )
        .order_by(SigningKey.id.desc())
    ).all()
    return [k for k in keys if k.status != "previous" or (k.publish_until or now) > now]


def list_keys(session: Session, tenant_id: int) -> list[SigningKey]:
    return list(
        session.scalars(
            select(SigningKey).where(SigningKey.tenant_id == tenant_id).order_by(SigningKey.id)
        )
    )
