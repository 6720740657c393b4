"""Revoke all: every active or suspended credential of one kind in a tenant, in one statement.

An incident's first step ("the integrations' secrets may have leaked"), so it costs the same for
10 credentials or 100k: one UPDATE, one change entry that tells every process to drop all of
them, and the per-credential audit records and webhook messages written by ``INSERT ... SELECT``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.orm import Session

from gatepass.audit.service import Actor, record, record_each
from gatepass.changes import feed
from gatepass.credentials.lifecycle import REVOCABLE, C, Kind, publish_change
from gatepass.db import utcnow
from gatepass.permissions import service as permissions
from gatepass.tenants.models import Tenant
from gatepass.webhooks import outbox
from gatepass.webhooks.events import BY_ACTION

MANAGEMENT_KEPT = "credentials that verify API keys or manage Gatepass"


def revoke_all(
    session: Session,
    tenant: Tenant,
    kind: Kind[C],
    *,
    actor: Actor,
    keep_management: bool = False,
) -> int:
    """Revoke every active or suspended credential of the kind in the tenant (but those that
    verify API keys or manage Gatepass, with ``keep_management``); how many.

    The tenant's history gets one event with the count, and each revoked credential's its own
    ``revoke`` event and webhook, selected by the ``revoked_at`` instant this statement wrote.
    """
    model: Any = kind.model
    now = utcnow()
    revoked = session.execute(
        update(model)
        .where(*revocable(kind, tenant, keep_management=keep_management))
        .values(status="revoked", revoked_at=now)
        .execution_options(synchronize_session="fetch")
    )
    count = int(getattr(revoked, "rowcount", 0) or 0)
    if count:
        publish_change(session, tenant, kind, feed.EVERY)
        _tell_each(session, tenant, kind, actor=actor, now=now)
    details: dict[str, Any] = {"count": count}
    if keep_management:
        details["kept"] = MANAGEMENT_KEPT
    record(
        session,
        tenant_id=tenant.id,
        actor=actor,
        action=f"{kind.audit}.revoke_all",
        target_type="tenant",
        target=tenant.slug,
        details=details,
    )
    return count


def _tell_each(session: Session, tenant: Tenant, kind: Kind[C], *, actor: Actor, now: Any) -> None:
    """Each credential revoked at ``now``: its ``revoke`` audit event and its webhooks."""
    model: Any = kind.model
    just_revoked = (
        model.tenant_id == tenant.id,
        model.status == "revoked",
        model.revoked_at == now,
    )
    by = {"by": "revoke all"}
    record_each(
        session,
        tenant_id=tenant.id,
        actor=actor,
        action=f"{kind.audit}.revoke",
        target_type=kind.target_type,
        targets=select(kind.ref_column()).where(*just_revoked),
        at=now,
        details=by,
    )
    outbox.emit_each(
        session,
        tenant_id=tenant.id,
        event=BY_ACTION["revoke"],
        kind=kind.target_type,
        subjects=select(kind.ref_column(), model.name).where(*just_revoked),
        actor=actor,
        data=by,
    )


def count_revocable(
    session: Session, tenant: Tenant, kind: Kind[C], *, keep_management: bool = False
) -> int:
    """How many credentials ``revoke_all`` with the same ``keep_management`` would revoke now."""
    model: Any = kind.model
    where = revocable(kind, tenant, keep_management=keep_management)
    return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def revocable(
    kind: Kind[C], tenant: Tenant, *, keep_management: bool
) -> tuple[ColumnElement[bool], ...]:
    """The credentials of ``tenant`` that revoke all revokes: active or suspended ones, but
    with ``keep_management`` not those holding a management permission (the built-in
    ``api_keys:verify``, ``credentials:read``, ``credentials:manage`` and ``tenant:admin``):
    a gateway that verifies keys, or the automation that manages Gatepass, keeps working."""
    model: Any = kind.model
    where = [model.tenant_id == tenant.id, model.status.in_(REVOCABLE)]
    if keep_management:
        where.append(~model.permissions.any(permissions.MANAGEMENT))
    return tuple(where)
