"""Who answers for a credential, as every mail about one names them (an expiry reminder, a
dormancy notice, a leak): its creator if an active console user of the tenant, a personal API
key's owner if active, and the tenant's active administrators. Never someone who has left."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from gatepass.users.models import User


def admins(session: Session, tenant_id: int) -> set[str]:
    """The emails of the tenant's active administrators."""
    return set(
        session.scalars(
            select(User.email).where(
                User.tenant_id == tenant_id, User.role == "admin", User.status == "active"
            )
        )
    )


def answerable(
    session: Session, tenant_id: int, row: Any, *, admins_: set[str] | None = None
) -> tuple[str, ...]:
    """The emails to tell about ``row`` (a client or an API key), each once, sorted.
    ``admins_``: the tenant's administrators when already read (one scan of many rows)."""
    people = set(admins(session, tenant_id) if admins_ is None else admins_)
    if "@" in row.created_by:
        creator = session.scalar(
            select(User.email).where(
                User.tenant_id == tenant_id,
                User.email == row.created_by,
                User.status == "active",
            )
        )
        people.update([creator] if creator else [])
    owner = getattr(row, "owner", None)
    if owner is not None and owner.status == "active":
        people.add(owner.email)
    return tuple(sorted(people))
