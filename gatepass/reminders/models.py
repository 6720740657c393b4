"""What was told about which credential: once per notice, and once per recipient of its mail."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from gatepass.db import Base, utcnow


class SentReminder(Base):
    """A notice (``recipient`` empty) or its mail to one recipient.

    A notice is a credential (kind and row id), a reason (``expiry``, ``dormant``), a threshold
    in days and ``about``, the instant it is about (the expiry; the last use, or the creation of
    a credential never used), so a new expiry date or a new use makes a new notice.
    """

    __tablename__ = "sent_reminders"
    __table_args__ = (
        UniqueConstraint(
            "credential_kind", "credential_id", "reason", "threshold", "about", "recipient"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    credential_kind: Mapped[str] = mapped_column(String(20))  # "oauth_client", "api_key"
    credential_id: Mapped[int]
    reason: Mapped[str] = mapped_column(String(20))
    threshold: Mapped[int]  # days
    about: Mapped[str] = mapped_column(String(40))  # ISO 8601 instant
    recipient: Mapped[str] = mapped_column(String(320), default="")
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)
