"""API keys (pre-shared keys): service keys and personal keys owned by a console user."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, ForeignKey, LargeBinary, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from gatepass.db import Base, utcnow
from gatepass.groups.models import ClientGroup
from gatepass.permissions.models import Permission
from gatepass.users.models import User

api_key_permissions = Table(
    "api_key_permissions",
    Base.metadata,
    Column("key_pk", ForeignKey("api_keys.id", ondelete="CASCADE"), primary_key=True),
    Column("permission_id", ForeignKey("permissions.id", ondelete="CASCADE"), primary_key=True),
)

api_key_groups = Table(
    "api_key_groups",
    Base.metadata,
    Column("key_pk", ForeignKey("api_keys.id", ondelete="CASCADE"), primary_key=True),
    Column("group_id", ForeignKey("client_groups.id", ondelete="CASCADE"), primary_key=True),
)


class ApiKey(Base):
    __tablename__ = "api_keys"
    __table_args__ = (UniqueConstraint("tenant_id", "key_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    key_id: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    owner_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True, default=None
    )
    status: Mapped[str] = mapped_column(String(20), default="active")
    created_by: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)
    last_used_at: Mapped[datetime | None] = mapped_column(default=None)
    rate_limit: Mapped[int | None] = mapped_column(default=None)
    rate_period: Mapped[int | None] = mapped_column(default=None)

    owner: Mapped[User | None] = relationship()
    permissions: Mapped[list[Permission]] = relationship(
        secondary=api_key_permissions, order_by=Permission.name
    )
    groups: Mapped[list[ClientGroup]] = relationship(
        secondary=api_key_groups, order_by=ClientGroup.name
    )
    secrets: Mapped[list[ApiKeySecret]] = relationship(
        back_populates="key", cascade="all, delete-orphan", order_by="ApiKeySecret.id"
    )


class ApiKeySecret(Base):
    """One version of a key's secret, found by its keyed hash through a unique index."""

    __tablename__ = "api_key_secrets"

    id: Mapped[int] = mapped_column(primary_key=True)
    key_pk: Mapped[int] = mapped_column(ForeignKey("api_keys.id", ondelete="CASCADE"), index=True)
    digest: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    hint: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(default=None)
    last_used_at: Mapped[datetime | None] = mapped_column(default=None)

    key: Mapped[ApiKey] = relationship(back_populates="secrets")
