"""The columns every credential kind shares, and those of its secret versions.

An OAuth client and an API key are the same thing to the lifecycle: a named credential of a
tenant with a status, an expiry and a last use, holding versions of a secret of which only the
keyed hash (``digest``) and a hint are stored. Each kind's model adds what is its own (a client
ID and token lifetime; a key ID, owner and rate limit).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Column, ForeignKey, LargeBinary, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from gatepass.db import Base, utcnow
from gatepass.groups.models import ClientGroup
from gatepass.permissions.models import Permission


class CredentialColumns:
    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), default="active")  # active or revoked
    created_by: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)
    last_used_at: Mapped[datetime | None] = mapped_column(default=None)
    # CIDR ranges it may be used from, space-separated (``rules.allowlist``); empty: anywhere
    allowed_ips: Mapped[str] = mapped_column(Text, default="", server_default="")


class SecretColumns:
    """One version of a secret: rotation adds a version and gives the older ones an end."""

    id: Mapped[int] = mapped_column(primary_key=True)
    digest: Mapped[bytes] = mapped_column(LargeBinary(32))  # keyed hash (credential_secrets)
    hint: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(default=None)
    last_used_at: Mapped[datetime | None] = mapped_column(default=None)


def grants(table: str, column: str, *, permissions: str, groups: str) -> tuple[Any, Any]:
    """The ``permissions`` and ``groups`` relationships of the credential model stored in
    ``table``: through link tables of those names, whose column ``column`` names the
    credential. A link goes when either end does."""

    def linked(name: str, target: str, target_column: str, order_by: Any) -> Any:
        ends = ((table, column), (target, target_column))
        links = Table(
            name,
            Base.metadata,
            *(
                Column(c, ForeignKey(f"{t}.id", ondelete="CASCADE"), primary_key=True)
                for t, c in ends
            ),
        )
        return relationship(secondary=links, order_by=order_by)

    return (
        linked(permissions, "permissions", "permission_id", Permission.name),
        linked(groups, "client_groups", "group_id", ClientGroup.name),
    )
