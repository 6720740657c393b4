"""Ending a rotation's grace period early, and safely: an older secret version that has not been
used for a while stops now, instead of at the end of its grace period.

"Unused" is read from each version's last use, which every process records at most once a
minute per secret and writes within ``LAST_USE_LAG`` seconds. A version whose recorded last use
is ``idle`` old was therefore last used at least ``idle - LAST_USE_LAG`` ago; ``MIN_IDLE`` keeps
that a real pause, not a gap between two calls of a busy integration.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from gatepass.audit.service import Actor
from gatepass.credentials import lifecycle
from gatepass.credentials.columns import CredentialColumns
from gatepass.db import utcnow
from gatepass.errors import InvalidInputError
from gatepass.tenants.models import Tenant

C = TypeVar("C", bound=CredentialColumns)

LAST_USE_LAG = timedelta(seconds=75)  # one minute of resolution, and the 15 s write interval
MIN_IDLE = timedelta(minutes=5)
MAX_IDLE = timedelta(days=30)


def retire_unused(
    session: Session,
    tenant: Tenant,
    kind: lifecycle.Kind[C],
    ref: str,
    *,
    idle: timedelta,
    actor: Actor,
) -> tuple[C, int]:
    """End now every older secret version still in its grace period that has not been used for
    ``idle``; the newest version is never ended. Returns the credential and how many ended."""
    if not MIN_IDLE <= idle <= MAX_IDLE:
        raise InvalidInputError("the idle time must be between 5 minutes and 30 days")
    row = lifecycle.get(session, tenant, kind, ref)
    now = utcnow()
    ended = [v for v in _in_grace(lifecycle.held(row).secrets, now) if _idle(v, now, idle)]
    for version in ended:
        version.expires_at = now
    if ended:
        lifecycle.publish_change(session, tenant, kind, ref)
        details = {"retired": len(ended), "idle_seconds": int(idle.total_seconds())}
        lifecycle.record_action(
            session, tenant, kind, action="retire_unused", ref=ref, actor=actor, details=details
        )
    return row, len(ended)


def _in_grace(versions: list[Any], now: datetime) -> list[Any]:
    """The older versions still working: every live one but the newest."""
    live = [v for v in versions if v.expires_at is None or _aware(v.expires_at) > now]
    newest = max(live, key=lambda v: (_aware(v.created_at), v.id), default=None)
    return [v for v in live if v is not newest]


def _idle(version: Any, now: datetime, idle: timedelta) -> bool:
    last = version.last_used_at
    return last is None or _aware(last) <= now - idle


def _aware(when: datetime) -> datetime:
    """A stored time as an aware UTC one, however the database handed it back."""
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)
