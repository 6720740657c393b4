"""One-time links that hand a new secret to someone by email (seed 003, done safely).

The mail holds a link to the console, never the secret. The link's token is random, stored only
as a keyed hash, and is part of the key that seals the secret; opening the link (a POST, so mail
scanners that follow links do not use it up) reveals the secret once and erases it. An unopened
link expires. Creating and opening a link are both audited; neither record holds the secret.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from gatepass.audit.service import Actor, record
from gatepass.credential_secrets import SecretHasher, derive_key
from gatepass.db import utcnow
from gatepass.deliveries.models import SecretDelivery
from gatepass.errors import InvalidInputError
from gatepass.tenants.models import Tenant
from gatepass.users.service import EMAIL

NONCE = 12
TOKEN_BYTES = 32
MAX_EMAIL = 320
FAMILY = {"oauth_client": "client", "api_key": "apikey"}


@dataclass(frozen=True)
class DeliveryKeys:
    """Keys derived from the server secret: one indexes link tokens, one roots the sealing."""

    index: SecretHasher
    sealing_root: bytes

    @classmethod
    def from_master_key(cls, master_key: bytes) -> DeliveryKeys:
        return cls(
            index=SecretHasher(derive_key(master_key, b"gatepass delivery index v1")),
            sealing_root=derive_key(master_key, b"gatepass delivery sealing v1"),
        )

    def cipher(self, token: str) -> AESGCM:
        return AESGCM(derive_key(self.sealing_root, b"link " + token.encode()))


@dataclass(frozen=True)
class Link:
    """A stored link: its token (to put in the mail, nowhere else) and when it expires."""

    token: str
    expires_at: datetime


@dataclass(frozen=True)
class Opened:
    """What an opened link reveals, once."""

    tenant_slug: str
    target_type: str
    payload: dict[str, str]


def check_recipient(email: str) -> str:
    email = email.strip().lower()
    if len(email) > MAX_EMAIL or not EMAIL.match(email):
        raise InvalidInputError("'Email to' must be an email address such as ana@example.com")
    return email


def create_delivery(
    session: Session,
    tenant: Tenant,
    *,
    recipient: str,
    target_type: str,
    target: str,
    payload: dict[str, str],
    lifetime: timedelta,
    actor: Actor,
    keys: DeliveryKeys,
) -> Link:
    """Store a sealed one-time link for ``payload``."""
    recipient = check_recipient(recipient)
    forget_expired(session)
    token = secrets.token_urlsafe(TOKEN_BYTES)
    digest = keys.index.digest(token)
    nonce = secrets.token_bytes(NONCE)
    sealed = nonce + keys.cipher(token).encrypt(nonce, json.dumps(payload).encode(), digest)
    expires_at = utcnow() + lifetime
    session.add(
        SecretDelivery(
            tenant_id=tenant.id,
            link_digest=digest,
            recipient=recipient,
            target_type=target_type,
            target=target,
            sealed=sealed,
            created_by=actor.label,
            expires_at=expires_at,
        )
    )
    record(
        session,
        tenant_id=tenant.id,
        actor=actor,
        action=f"{FAMILY[target_type]}.email",
        target_type=target_type,
        target=target,
        details={"recipient": recipient, "expires_at": expires_at.isoformat()},
    )
    return Link(token, expires_at)


def open_delivery(
    session: Session, token: str, *, keys: DeliveryKeys, actor: Actor
) -> Opened | None:
    """Reveal the secret behind a link and erase it, so the link is dead from now on.

    ``None`` when the link is unknown, used or expired (an expired one is erased now too);
    the caller commits either way.
    """
    if not 20 <= len(token) <= 100:
        return None
    digest = keys.index.digest(token)
    delivery = session.scalar(
        select(SecretDelivery).where(SecretDelivery.link_digest == digest).with_for_update()
    )
    if delivery is None or delivery.sealed is None:
        return None
    if delivery.expires_at <= utcnow():
        delivery.sealed = None
        return None
    sealed = delivery.sealed
    try:
        plain = keys.cipher(token).decrypt(sealed[:NONCE], sealed[NONCE:], digest)
    except InvalidTag:  # the server secret changed since the link was made
        return None
    # Erase only if nobody else has: the condition makes a concurrent second open find no row,
    # on every backend (a row lock alone does not hold on SQLite, which locks at the first write).
    erased = session.execute(
        update(SecretDelivery)
        .where(SecretDelivery.id == delivery.id, SecretDelivery.sealed.is_not(None))
        .values(sealed=None, opened_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if getattr(erased, "rowcount", 0) != 1:
        return None
    slug = session.scalar(select(Tenant.slug).where(Tenant.id == delivery.tenant_id)) or ""
    record(
        session,
        tenant_id=delivery.tenant_id,
        actor=Actor(
            kind="recipient",
            id=delivery.recipient,
            source_ip=actor.source_ip,
            user_agent=actor.user_agent,
        ),
        action=f"{FAMILY[delivery.target_type]}.email_opened",
        target_type=delivery.target_type,
        target=delivery.target,
    )
    payload: dict[str, str] = json.loads(plain)
    return Opened(slug, delivery.target_type, payload)


# what a link's page may say before it is opened: which credential, and what happened to it
ABOUT = ("kind", "name", "ref", "event")


def describe_delivery(session: Session, token: str, *, keys: DeliveryKeys) -> dict[str, str] | None:
    """What a link hands over, without its secret and without using the link up: for its page
    to name the credential before the recipient asks to see the secret. ``None`` when the link
    is unknown, used or expired."""
    if not 20 <= len(token) <= 100:
        return None
    digest = keys.index.digest(token)
    delivery = session.scalar(select(SecretDelivery).where(SecretDelivery.link_digest == digest))
    if delivery is None or delivery.sealed is None or delivery.expires_at <= utcnow():
        return None
    sealed = delivery.sealed
    try:
        plain = keys.cipher(token).decrypt(sealed[:NONCE], sealed[NONCE:], digest)
    except InvalidTag:
        return None
    payload: dict[str, str] = json.loads(plain)
    about = {"ref": delivery.target, "event": "created"}
    about.update({name: payload[name] for name in ABOUT if name in payload})
    return about


def forget_expired(session: Session, older_than: timedelta = timedelta(days=30)) -> int:
    """Drop link records long past their expiry (the audit log keeps the history)."""
    result = session.execute(
        delete(SecretDelivery).where(SecretDelivery.expires_at < utcnow() - older_than)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def cancel_delivery(
    session: Session, token: str, *, keys: DeliveryKeys, actor: Actor, reason: str
) -> None:
    """The mail could not be sent: the link is erased and the failure audited."""
    delivery = session.scalar(
        select(SecretDelivery).where(SecretDelivery.link_digest == keys.index.digest(token))
    )
    if delivery is None:
        return
    session.delete(delivery)
    record(
        session,
        tenant_id=delivery.tenant_id,
        actor=actor,
        action=f"{FAMILY[delivery.target_type]}.email_failed",
        target_type=delivery.target_type,
        target=delivery.target,
        details={"recipient": delivery.recipient, "reason": reason[:300]},
    )
