"""Rules shared by every kind of credential with rotating secrets (OAuth clients, API keys)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import ColumnElement, and_, func, or_, update
from sqlalchemy.orm import Session

from gatepass.db import utcnow
from gatepass.errors import InvalidInputError
from gatepass.groups.models import ClientGroup
from gatepass.permissions.models import Permission

MAX_GRACE = timedelta(days=30)


class SecretVersion(Protocol):
    expires_at: datetime | None


def revoke_every(session: Session, model: Any, tenant_id: int) -> int:
    """Revoke every active credential of ``model`` in the tenant in one statement; how many."""
    revoked = session.execute(
        update(model)
        .where(model.tenant_id == tenant_id, model.status == "active")
        .values(status="revoked", revoked_at=utcnow())
        .execution_options(synchronize_session="fetch")
    )
    return int(getattr(revoked, "rowcount", 0) or 0)


def end_secrets(versions: Iterable[SecretVersion], grace: timedelta | None) -> None:
    """Older secrets stop now, or when ``grace`` runs out; an earlier end is kept."""
    if grace is not None and not timedelta(0) <= grace <= MAX_GRACE:
        raise InvalidInputError("grace period must be between 0 and 30 days")
    ends = utcnow() + (grace or timedelta(0))
    for version in versions:
        if version.expires_at is None or version.expires_at > ends:
            version.expires_at = ends


def grace_details(grace: timedelta | None) -> dict[str, int]:
    return {"grace_seconds": int(grace.total_seconds()) if grace else 0}


def status_condition(model: Any, status: str, now: datetime) -> ColumnElement[bool]:
    """SQL for ``status_of(row) == status`` over a credential model (client or API key)."""
    never_expires = or_(model.expires_at.is_(None), model.expires_at > now)
    if status == "active":
        return and_(model.status == "active", never_expires)
    if status == "expired":
        return and_(model.status == "active", model.expires_at <= now)
    if status == "revoked":
        return model.status == "revoked"  # type: ignore[no-any-return]
    raise InvalidInputError(f"unknown status '{status}'")


def listing_conditions(
    model: Any,
    *,
    name: str | None,
    created_by: str | None,
    permission: str | None,
    group: str | None,
) -> list[ColumnElement[bool]]:
    """The filters every credential listing shares (clients and API keys alike)."""
    conditions: list[ColumnElement[bool]] = []
    if name:
        conditions.append(func.lower(model.name).contains(name.lower(), autoescape=True))
    if created_by is not None:
        conditions.append(model.created_by == created_by)
    if permission is not None:
        conditions.append(model.permissions.any(Permission.name == permission))
    if group is not None:
        conditions.append(model.groups.any(ClientGroup.name == group))
    return conditions
