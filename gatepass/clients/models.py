"""OAuth clients and their secret versions."""

from __future__ import annotations

import secrets

from sqlalchemy import Column, ForeignKey, String, Table, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from gatepass.credentials.columns import CredentialColumns, SecretColumns
from gatepass.db import Base
from gatepass.groups.models import ClientGroup
from gatepass.permissions.models import Permission

client_permissions = Table(
    "client_permissions",
    Base.metadata,
    Column("client_pk", ForeignKey("oauth_clients.id", ondelete="CASCADE"), primary_key=True),
    Column("permission_id", ForeignKey("permissions.id", ondelete="CASCADE"), primary_key=True),
)

client_group_links = Table(
    "client_group_links",
    Base.metadata,
    Column("client_pk", ForeignKey("oauth_clients.id", ondelete="CASCADE"), primary_key=True),
    Column("group_id", ForeignKey("client_groups.id", ondelete="CASCADE"), primary_key=True),
)


def new_uid() -> str:
    """128 random bits: an identity that no later client can have, whatever its client ID."""
    return secrets.token_hex(16)


class OAuthClient(CredentialColumns, Base):
    __tablename__ = "oauth_clients"
    __table_args__ = (UniqueConstraint("tenant_id", "client_id"),)

    # A client ID can be chosen, so a deleted client's ID can come back; tokens and idempotency
    # records are bound to this instead (the ``client_uid`` claim), which never comes back.
    uid: Mapped[str] = mapped_column(String(32), unique=True, default=new_uid)
    client_id: Mapped[str] = mapped_column(String(100))
    token_lifetime: Mapped[int | None] = mapped_column(default=None)

    permissions: Mapped[list[Permission]] = relationship(
        secondary=client_permissions, order_by=Permission.name
    )
    groups: Mapped[list[ClientGroup]] = relationship(
        secondary=client_group_links, order_by=ClientGroup.name
    )
    secrets: Mapped[list[ClientSecret]] = relationship(
        back_populates="client",
        cascade="all, delete-orphan",
        order_by="ClientSecret.id",
    )


class ClientSecret(SecretColumns, Base):
    """One version of a client's secret."""

    __tablename__ = "client_secrets"

    client_pk: Mapped[int] = mapped_column(
        ForeignKey("oauth_clients.id", ondelete="CASCADE"), index=True
    )

    client: Mapped[OAuthClient] = relationship(back_populates="secrets")
