"""Emailed one-time links to a new secret: the mail carries a link, never the secret."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from gatepass.db import Base, utcnow


class SecretDelivery(Base):
    """One link, found by the keyed hash of its token.

    ``sealed`` holds the secret encrypted under a key derived from the server secret and the
    link's token, which is stored nowhere: the database and the server secret together cannot
    open it. It is erased when the link is opened, so a link works once.
    """

    __tablename__ = "secret_deliveries"

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    link_digest: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    recipient: Mapped[str] = mapped_column(String(320))
    target_type: Mapped[str] = mapped_column(String(20))
    target: Mapped[str] = mapped_column(String(100))
    sealed: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    created_by: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)
    opened_at: Mapped[datetime | None] = mapped_column(default=None)
