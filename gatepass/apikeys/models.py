"""API keys (pre-shared keys): service keys and personal keys owned by a console user."""

from __future__ import annotations

from sqlalchemy import ForeignKey, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from gatepass.credentials.columns import CredentialColumns, SecretColumns, grants
from gatepass.db import Base
from gatepass.groups.models import ClientGroup
from gatepass.permissions.models import Permission
from gatepass.users.models import User


class ApiKey(CredentialColumns, Base):
    __tablename__ = "api_keys"
    __table_args__ = (UniqueConstraint("tenant_id", "key_id"),)

    key_id: Mapped[str] = mapped_column(String(40))
    owner_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True, default=None
    )
    rate_limit: Mapped[int | None] = mapped_column(default=None)
    rate_period: Mapped[int | None] = mapped_column(default=None)

    owner: Mapped[User | None] = relationship()
    permissions: Mapped[list[Permission]]
    groups: Mapped[list[ClientGroup]]
    permissions, groups = grants(
        "api_keys", "key_pk", permissions="api_key_permissions", groups="api_key_groups"
    )
    secrets: Mapped[list[ApiKeySecret]] = relationship(
        back_populates="key", cascade="all, delete-orphan", order_by="ApiKeySecret.id"
    )


class ApiKeySecret(SecretColumns, Base):
    """One version of a key's secret, found by its keyed hash through a unique index."""

    __tablename__ = "api_key_secrets"

    key_pk: Mapped[int] = mapped_column(ForeignKey("api_keys.id", ondelete="CASCADE"), index=True)
    digest: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)

    key: Mapped[ApiKey] = relationship(back_populates="secrets")
