"""Signing in with email and password, resolving a session cookie, signing out.

A session token is 256 random bits in an HttpOnly cookie; the database holds only its keyed
hash. The CSRF token is a second keyed hash of the session token, so it needs no storage and
is worthless without the cookie. Every sign-in, successful or not, is audited.

The functions here are the database steps of a sign-in, each a short transaction of its own:
the password is checked between them, with no connection held (``gatepass.sessions.signing_in``).
"""

from __future__ import annotations

import base64
import hmac
import secrets
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, joinedload

from gatepass.audit.service import Actor, record, record_failure
from gatepass.credential_secrets import SecretHasher, derive_key
from gatepass.db import utcnow
from gatepass.sessions.models import ConsoleSession
from gatepass.tenants.models import Tenant
from gatepass.users.models import User
from gatepass.users.service import EMAIL

IDLE_TIMEOUT = timedelta(hours=1)
MAX_AGE = timedelta(hours=12)
TOUCH_EVERY = timedelta(minutes=1)
MAX_TOKEN = 100


@dataclass(frozen=True)
class Attempt:
    """One sign-in attempt: to the tenant ``slug``, or wherever the email has an account."""

    email: str
    password: str = field(repr=False)
    source_ip: str
    user_agent: str
    slug: str | None = None


@dataclass(frozen=True)
class SessionKeys:
    """Subkeys of the server secret for session tokens and CSRF tokens."""

    tokens: SecretHasher
    csrf: SecretHasher

    @classmethod
    def from_master_key(cls, master_key: bytes) -> SessionKeys:
        return cls(
            tokens=SecretHasher(derive_key(master_key, b"gatepass console session v1")),
            csrf=SecretHasher(derive_key(master_key, b"gatepass console csrf v1")),
        )

    def csrf_token(self, session_token: str) -> str:
        return base64.urlsafe_b64encode(self.csrf.digest(session_token)).decode().rstrip("=")

    def csrf_matches(self, session_token: str, presented: str) -> bool:
        return hmac.compare_digest(self.csrf_token(session_token).encode(), presented.encode())


@dataclass(frozen=True)
class SignedIn:
    session: ConsoleSession
    token: str  # goes into the cookie, never stored


@dataclass(frozen=True)
class Account:
    """A console user an email may sign in as, read before its password is checked."""

    tenant_id: int
    tenant_slug: str
    tenant_name: str
    user_id: int
    password_hash: str
    status: str


@dataclass(frozen=True)
class Lookup:
    """The accounts an attempt may open, and the tenants that audit it if it fails."""

    accounts: tuple[Account, ...]
    audit_in: tuple[int, ...]


def lookup(session: Session, email: str, slug: str | None) -> Lookup:
    """The accounts of ``email`` in the tenant ``slug``, or in every tenant when it is None.

    A named tenant audits a failed attempt even for an email with no account in it; an email
    with no account anywhere is audited nowhere (there is no tenant to tell).
    """
    query = (
        select(User, Tenant)
        .join(Tenant, Tenant.id == User.tenant_id)
        .where(User.email == email.strip().lower())
        .order_by(Tenant.name, Tenant.slug)
    )
    if slug is not None:
        query = query.where(Tenant.slug == slug)
    accounts = tuple(
        Account(t.id, t.slug, t.name or t.slug, u.id, u.password_hash, u.status)
        for u, t in session.execute(query).all()
    )
    if slug is not None and not accounts:
        tenant = organisation(session, slug)
        return Lookup((), (tenant.id,) if tenant is not None else ())
    return Lookup(accounts, tuple(a.tenant_id for a in accounts))


def open_session(
    session: Session,
    account: Account,
    *,
    new_hash: str | None,
    attempt: Attempt,
    keys: SessionKeys,
) -> SignedIn | None:
    """A new session for ``account``, whose password was checked against ``account.password_hash``
    outside this transaction; ``None`` (audited) if the account changed meanwhile."""
    user = session.get(User, account.user_id, with_for_update=True)
    if user is None or user.password_hash != account.password_hash or user.status != "active":
        reason = "changed" if user is None or user.status == "active" else user.status
        record_failures(session, {account.tenant_id: reason}, attempt)
        return None
    if new_hash is not None:
        user.password_hash = new_hash
    token = secrets.token_urlsafe(32)
    now = utcnow()
    row = ConsoleSession(
        tenant_id=account.tenant_id,
        user=user,
        token_hash=keys.tokens.digest(token),
        created_at=now,
        last_seen_at=now,
        expires_at=now + MAX_AGE,
        source_ip=attempt.source_ip[:64],
        user_agent=attempt.user_agent[:400],
    )
    session.add(row)
    record(
        session,
        tenant_id=account.tenant_id,
        actor=_attempt_actor(attempt),
        action="session.sign_in",
        target_type="user",
        target=user.email,
    )
    return SignedIn(row, token)


def record_failures(session: Session, reasons: dict[int, str], attempt: Attempt) -> None:
    """Audit a failed attempt in each tenant of ``reasons`` (tenant id -> why it failed)."""
    for tenant_id, reason in reasons.items():
        record_failure(session, **failure_record(tenant_id, reason, attempt))


def failure_record(tenant_id: int, reason: str, attempt: Attempt) -> dict[str, Any]:
    """The audit record of a failed sign-in in one tenant, as ``record_failure`` takes it."""
    actor = _attempt_actor(attempt)
    return {
        "tenant_id": tenant_id,
        "actor": actor,
        "action": "session.sign_in_failed",
        "reason": reason,
        "target_type": "user",
        "target": actor.id,
    }


def organisation(session: Session, slug: str) -> Tenant | None:
    return session.scalar(select(Tenant).where(Tenant.slug == slug))


def resolve(
    session: Session, tenant_id: int, token: str, *, keys: SessionKeys
) -> ConsoleSession | None:
    """The live session of an active user of this tenant that ``token`` names, if any."""
    if not token or len(token) > MAX_TOKEN:
        return None
    row = session.scalar(
        select(ConsoleSession)
        .where(ConsoleSession.token_hash == keys.tokens.digest(token))
        .options(joinedload(ConsoleSession.user))
    )
    now = utcnow()
    if row is None or row.tenant_id != tenant_id or row.user.status != "active":
        return None
    if row.expires_at <= now or row.last_seen_at + IDLE_TIMEOUT <= now:
        return None
    if now - row.last_seen_at >= TOUCH_EVERY:
        row.last_seen_at = now
    return row


def sign_out(session: Session, row: ConsoleSession, *, actor: Actor) -> None:
    session.delete(row)
    record(
        session,
        tenant_id=row.tenant_id,
        actor=actor,
        action="session.sign_out",
        target_type="user",
        target=row.user.email,
    )


def end_user_sessions(session: Session, user_id: int) -> None:
    """Sign a user out everywhere (their account was disabled)."""
    session.execute(delete(ConsoleSession).where(ConsoleSession.user_id == user_id))


def purge_expired(session: Session) -> None:
    session.execute(delete(ConsoleSession).where(ConsoleSession.expires_at <= utcnow()))


def _attempt_actor(attempt: Attempt) -> Actor:
    """Who tried to sign in. Something typed in the email field that is no address (it could be
    a password typed in the wrong field) is not recorded."""
    email = attempt.email.strip().lower()
    shown = email if EMAIL.match(email) else "(not an email address)"
    return Actor(kind="user", id=shown, source_ip=attempt.source_ip, user_agent=attempt.user_agent)
