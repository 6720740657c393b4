"""Signing in with email and password, resolving a session cookie, signing out.

A session token is 256 random bits in an HttpOnly cookie; the database holds only its keyed
hash. The CSRF token is a second keyed hash of the session token, so it needs no storage and
is worthless without the cookie. Every sign-in, successful or not, is audited.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select
from sqlalchemy.orm import Session, joinedload

from gatepass.apikeys.ratelimit import RateLimiter
from gatepass.audit.service import Actor, record
from gatepass.credential_secrets import SecretHasher, derive_key
from gatepass.db import utcnow
from gatepass.sessions.models import ConsoleSession
from gatepass.tenants.models import Tenant
from gatepass.users.models import User
from gatepass.users.service import EMAIL, MAX_PASSWORD

# Sign-in attempts allowed per window, per account and per source address.
ACCOUNT_ATTEMPTS, IP_ATTEMPTS, ATTEMPT_WINDOW = 10, 50, 300

IDLE_TIMEOUT = timedelta(hours=1)
MAX_AGE = timedelta(hours=12)
TOUCH_EVERY = timedelta(minutes=1)
MAX_TOKEN = 100

_PASSWORDS = PasswordHasher()
# Verified against when the email is unknown, so that both cases take as long.
_DUMMY_HASH = _PASSWORDS.hash(secrets.token_urlsafe(16))


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


def sign_in(
    session: Session,
    tenant: Tenant,
    *,
    email: str,
    password: str,
    source_ip: str,
    user_agent: str,
    keys: SessionKeys,
) -> SignedIn | None:
    """A new session, or ``None`` when email or password is wrong (audited either way).

    The caller commits in both cases, so that a failed attempt leaves its audit record.
    """
    email = email.strip().lower()
    user = session.scalar(select(User).where(User.tenant_id == tenant.id, User.email == email))
    ok = _password_ok(user, password)
    actor = _attempt_actor(email, source_ip, user_agent)
    if user is None or not ok or user.status != "active":
        reason = "unknown_user" if user is None else ("bad_password" if not ok else user.status)
        record(
            session,
            tenant_id=tenant.id,
            actor=actor,
            action="session.sign_in_failed",
            target_type="user",
            target=actor.id,
            details={"reason": reason},
        )
        return None
    if _PASSWORDS.check_needs_rehash(user.password_hash):
        user.password_hash = _PASSWORDS.hash(password)
    token = secrets.token_urlsafe(32)
    now = utcnow()
    row = ConsoleSession(
        tenant_id=tenant.id,
        user=user,
        token_hash=keys.tokens.digest(token),
        created_at=now,
        last_seen_at=now,
        expires_at=now + MAX_AGE,
        source_ip=source_ip[:64],
        user_agent=user_agent[:400],
    )
    session.add(row)
    record(
        session,
        tenant_id=tenant.id,
        actor=actor,
        action="session.sign_in",
        target_type="user",
        target=user.email,
    )
    return SignedIn(row, token)


def organisations_of(session: Session, email: str) -> list[Tenant]:
    """The tenants where this email has an account (a console user may be in several)."""
    return list(
        session.scalars(
            select(Tenant)
            .join(User, User.tenant_id == Tenant.id)
            .where(User.email == email.strip().lower())
            .order_by(Tenant.name, Tenant.slug)
        )
    )


def organisation(session: Session, slug: str) -> Tenant | None:
    return session.scalar(select(Tenant).where(Tenant.slug == slug))


def accepting(session: Session, tenants: list[Tenant], email: str, password: str) -> list[Tenant]:
    """Of ``tenants``, those where this email and password would sign in (an active account).

    Used to offer a choice of organisation only to someone who has proved the password, so the
    list never tells a stranger where an email has accounts. No session is made here.
    """
    email = email.strip().lower()
    found: list[Tenant] = []
    for tenant in tenants:
        user = session.scalar(select(User).where(User.tenant_id == tenant.id, User.email == email))
        if _password_ok(user, password) and user is not None and user.status == "active":
            found.append(tenant)
    return found


def dummy_verify(password: str) -> None:
    """Spend the time of a password check, for an email with no account anywhere."""
    _password_ok(None, password)


async def throttled(limiter: RateLimiter, tenant_id: int, email: str, source_ip: str) -> int:
    """Seconds to wait before another sign-in attempt for this account or address, or 0.

    Counted in Redis when configured (shared by every process), in memory otherwise. Every
    attempt counts, so guessing is bounded whether or not the guesses fail.
    """
    account = hashlib.sha256(f"{tenant_id}:{email.strip().lower()}".encode()).hexdigest()[:32]
    by_account = await limiter.hit(f"signin:a:{account}", ACCOUNT_ATTEMPTS, ATTEMPT_WINDOW)
    by_ip = await limiter.hit(f"signin:ip:{source_ip}", IP_ATTEMPTS, ATTEMPT_WINDOW)
    refused = [state for state in (by_account, by_ip) if not state.allowed]
    if not refused:
        return 0
    return max(1, max(state.reset for state in refused) - int(time.time()))


def record_throttled(
    session: Session, tenant: Tenant, *, email: str, source_ip: str, user_agent: str
) -> None:
    actor = _attempt_actor(email, source_ip, user_agent)
    record(
        session,
        tenant_id=tenant.id,
        actor=actor,
        action="session.sign_in_failed",
        target_type="user",
        target=actor.id,
        details={"reason": "throttled"},
    )


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


def _attempt_actor(email: str, source_ip: str, user_agent: str) -> Actor:
    """Who tried to sign in. Something typed in the email field that is no address (it could be
    a password typed in the wrong field) is not recorded."""
    email = email.strip().lower()
    shown = email if EMAIL.match(email) else "(not an email address)"
    return Actor(kind="user", id=shown, source_ip=source_ip, user_agent=user_agent)


def _password_ok(user: User | None, password: str) -> bool:
    if len(password) > MAX_PASSWORD:
        password = password[:MAX_PASSWORD]  # still verify, so the timing says nothing
    try:
        return _PASSWORDS.verify(user.password_hash if user else _DUMMY_HASH, password) and (
            user is not None
        )
    except (VerificationError, InvalidHashError):
        return False
