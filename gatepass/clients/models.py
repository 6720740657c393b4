"""OAuth clients and their secret versions."""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from gatepass.credentials.columns import CredentialColumns, SecretColumns, grants
from gatepass.db import Base
from gatepass.groups.models import ClientGroup
from gatepass.permissions.models import Permission


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
    # Its public keys as a JWKS (JSON text), for ``private_key_jwt`` (RFC 7523 §2.2): a client
    # with keys has no secret, and one with a secret has no keys (``clients.keys``).
    jwks: Mapped[str | None] = mapped_column(Text, default=None)
    # ... or the URL where it publishes them (RFC 7591 §2), fetched by ``publickeys.remote``
    jwks_uri: Mapped[str | None] = mapped_column(String(2000), default=None)
    # ... and/or the external identities whose tokens authenticate it: federation rules as
    # JSON text (``clients.federation``)
    federation: Mapped[str | None] = mapped_column(Text, default=None)

    @property
    def keyed(self) -> bool:
        """Whether it authenticates with a signed JWT (its own key's, ``private_key_jwt``, or
        a trusted issuer's, federation) rather than a secret."""
        return self.jwks is not None or self.jwks_uri is not None or self.federation is not None

    permissions: Mapped[list[Permission]]
    groups: Mapped[list[ClientGroup]]
    permissions, groups = grants(
        "oauth_clients", "client_pk", permissions="client_permissions", groups="client_group_links"
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
    # indexed: a leak report finds a secret by its hash alone (``gatepass.leaks``)
    digest: Mapped[bytes] = mapped_column(LargeBinary(32), index=True)

    client: Mapped[OAuthClient] = relationship(back_populates="secrets")


class UsedAssertion(Base):
    """The ``jti`` of a client assertion already accepted, kept until the assertion expires so
    it is refused if sent again (RFC 7523 §3, item 7), when no Redis is there to remember it."""

    __tablename__ = "used_client_assertions"
    __table_args__ = (UniqueConstraint("client_pk", "jti"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    client_pk: Mapped[int] = mapped_column(ForeignKey("oauth_clients.id", ondelete="CASCADE"))
    jti: Mapped[str] = mapped_column(String(200))
    expires_at: Mapped[datetime] = mapped_column(index=True)
