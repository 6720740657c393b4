"""Publishing and reading the change feed (see ``changes.models.Change``).

``publish`` writes a row in the caller's transaction and queues a notice that ``changes.bus``
sends over Redis once that transaction commits (when a publisher is attached to the database).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from gatepass.changes.bus import Notice, pending
from gatepass.changes.models import Change
from gatepass.db import utcnow

KIND_CLIENT = "client"
KIND_TENANT = "tenant"
KIND_KEYS = "signing_keys"
KIND_TOKEN = "token"  # noqa: S105 - a change kind, not a credential
KIND_APIKEY = "api_key"
EVERY = "*"  # as a ref: every client, or every API key, of the tenant (revoke-all)
RETENTION = timedelta(days=1)


def publish(session: Session, tenant_id: int, kind: str, ref: str = "") -> None:
    session.add(Change(tenant_id=tenant_id, kind=kind, ref=ref))
    pending(session).append(Notice(tenant_id, kind, ref))


@dataclass(frozen=True)
class ChangeRow:
    id: int
    tenant_id: int
    kind: str
    ref: str


def read_since(session: Session, last_id: int, gaps: tuple[int, ...]) -> list[ChangeRow]:
    """Rows after ``last_id``, plus rows whose ids were gaps last time (still uncommitted then)."""
    condition = Change.id > last_id
    if gaps:
        condition = or_(condition, Change.id.in_(gaps))
    rows = session.execute(
        select(Change.id, Change.tenant_id, Change.kind, Change.ref)
        .where(condition)
        .order_by(Change.id)
        .limit(5000)
    )
    return [ChangeRow(*row) for row in rows]


def newest_id(session: Session) -> int:
    value = session.scalar(select(Change.id).order_by(Change.id.desc()).limit(1))
    return value or 0


def prune(session: Session) -> None:
    session.execute(delete(Change).where(Change.at < utcnow() - RETENTION))
