"""Writing audit events, always inside the transaction of the change they describe."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Select, insert, literal, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from gatepass.addresses import source_key
from gatepass.audit.models import AuditEvent
from gatepass.db import utcnow
from gatepass.pagination import Page, PageRequest, fetch


@dataclass(frozen=True)
class Actor:
    """Who acts: a console user, an OAuth client, or an operator at the CLI.

    ``role`` bounds what the actor may grant; an operator (``None``) is not bounded.
    ``subject`` names the actor for good: unlike ``id`` (a client ID can be deleted and chosen
    again) it is never reused. Idempotency records are bound to it; audit records show ``id``.
    """

    kind: str
    id: str
    source_ip: str = ""
    user_agent: str = ""
    role: str | None = None
    subject: str = ""

    @classmethod
    def cli(cls) -> Actor:
        return cls(kind="operator", id="cli")

    @property
    def label(self) -> str:
        return self.id if self.kind != "operator" else "operator (cli)"


def record(
    session: Session,
    *,
    tenant_id: int | None,
    actor: Actor,
    action: str,
    target_type: str = "",
    target: str = "",
    details: dict[str, Any] | None = None,
) -> None:
    session.add(
        AuditEvent(
            tenant_id=tenant_id,
            actor_type=actor.kind,
            actor=actor.id,
            action=action,
            target_type=target_type,
            target=target,
            source_ip=actor.source_ip[:64],
            user_agent=actor.user_agent[:400],
            details=details or {},
        )
    )


def record_each(
    session: Session,
    *,
    tenant_id: int,
    actor: Actor,
    action: str,
    target_type: str,
    targets: Select[Any],
    at: datetime,
    details: dict[str, Any],
) -> int:
    """``record`` one event for each row ``targets`` selects (one column: the target), in one
    ``INSERT ... SELECT``: a change to 100k credentials writes their 100k events in the
    database, never as 100k objects here. Returns how many were written."""
    constants = {
        "tenant_id": literal(tenant_id),
        "at": literal(at, AuditEvent.at.type),
        "actor_type": literal(actor.kind),
        "actor": literal(actor.id),
        "action": literal(action),
        "target_type": literal(target_type),
        "source_ip": literal(actor.source_ip[:64]),
        "user_agent": literal(actor.user_agent[:400]),
        "details": literal(details, JSON),
    }
    rows = targets.subquery()
    source = select(*constants.values(), *rows.c)
    columns = [*constants, "target"]
    written = session.execute(insert(AuditEvent).from_select(columns, source))
    return int(getattr(written, "rowcount", 0) or 0)


def record_change(
    session: Session,
    tenant_id: int,
    actor: Actor,
    action: str,
    target: str,
    *,
    details: dict[str, Any] | None = None,
) -> None:
    """``record`` of a change to one thing of a tenant, whose type the action names:
    ``user.create`` of the user ``target``."""
    target_type = action.partition(".")[0]
    record(
        session,
        tenant_id=tenant_id,
        actor=actor,
        action=action,
        target_type=target_type,
        target=target,
        details=details,
    )


def record_failure(
    session: Session,
    *,
    tenant_id: int,
    actor: Actor,
    action: str,
    reason: str,
    target_type: str = "",
    target: str = "",
    details: dict[str, Any] | None = None,
    count: int = 1,
    minute: str | None = None,
) -> None:
    """Add ``count`` failures to the one row of their kind and minute (see ``aggregate_key``).

    A flood of failed calls would otherwise write a row per request. The first write of the
    minute inserts the row (with its details); later ones add to ``count`` atomically, so
    concurrent writers in other processes neither lose counts nor make a second row. ``minute``
    (``%Y-%m-%dT%H:%M``) names a row of an earlier minute, for counts written late.
    """
    now = utcnow()
    key = aggregate_key(tenant_id, actor, action, reason, now, minute=minute)
    values: dict[str, Any] = {
        "tenant_id": tenant_id,
        "at": now,
        "actor_type": actor.kind,
        "actor": actor.id,
        "action": action,
        "target_type": target_type,
        "target": target,
        "source_ip": actor.source_ip[:64],
        "user_agent": actor.user_agent[:400],
        "details": {**(details or {}), "reason": reason},
        "count": count,
        "aggregate_key": key,
    }
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(AuditEvent).values(values)
    stmt = stmt.on_conflict_do_update(
        index_elements=[AuditEvent.aggregate_key],
        set_={"count": AuditEvent.count + stmt.excluded.count},
    )
    session.execute(stmt)


def aggregate_key(
    tenant_id: int,
    actor: Actor,
    action: str,
    reason: str,
    at: datetime,
    *,
    minute: str | None = None,
) -> str:
    """The name of the row that counts this failure: one per tenant, source address (an IPv6
    address by its /64), action, reason and minute, and also per caller when the caller is
    authenticated (``subject``), so that two users behind one address are never counted under
    one name. An unauthenticated failure names only what the caller claimed, so it counts per
    address whatever it claims. The row shows the address of the minute's first failure."""
    minute = minute or at.strftime("%Y-%m-%dT%H:%M")
    where = source_key(actor.source_ip)
    parts = (str(tenant_id), where, action, reason, actor.subject or "", minute)
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


@dataclass(frozen=True)
class AuditFilter:
    """Narrows the audit log; every field given must match."""

    actor: str | None = None
    actor_type: str | None = None  # user, client, operator, recipient or system
    action: str | None = None  # exact, or a family ending in '.' such as 'client.'
    target: str | None = None
    target_type: str | None = None
    since: datetime | None = None  # inclusive
    until: datetime | None = None  # exclusive


def search_events(
    session: Session, tenant_id: int, where: AuditFilter, page: PageRequest
) -> Page[AuditEvent]:
    return fetch(session, _query(tenant_id, where), AuditEvent.id, page)


def export_events(session: Session, tenant_id: int, where: AuditFilter) -> Iterator[AuditEvent]:
    """Every matching event, oldest first, streamed in batches."""
    stmt = _query(tenant_id, where).order_by(AuditEvent.id).execution_options(yield_per=500)
    yield from session.scalars(stmt)


def _query(tenant_id: int, where: AuditFilter) -> Select[AuditEvent]:
    stmt = select(AuditEvent).where(AuditEvent.tenant_id == tenant_id)
    if where.actor is not None:
        stmt = stmt.where(AuditEvent.actor == where.actor)
    if where.actor_type is not None:
        stmt = stmt.where(AuditEvent.actor_type == where.actor_type)
    if where.action:
        if where.action.endswith("."):
            stmt = stmt.where(AuditEvent.action.startswith(where.action, autoescape=True))
        else:
            stmt = stmt.where(AuditEvent.action == where.action)
    if where.target is not None:
        stmt = stmt.where(AuditEvent.target == where.target)
    if where.target_type is not None:
        stmt = stmt.where(AuditEvent.target_type == where.target_type)
    if where.since is not None:
        stmt = stmt.where(AuditEvent.at >= where.since)
    if where.until is not None:
        stmt = stmt.where(AuditEvent.at < where.until)
    return stmt
