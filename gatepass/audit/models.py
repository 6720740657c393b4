"""Audit events: who did what to which credential, when and from where. Never a secret."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, text
from sqlalchemy.orm import Mapped, mapped_column

from gatepass.db import Base, utcnow


class AuditEvent(Base):
    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int | None] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor_type: Mapped[str] = mapped_column(String(20))
    actor: Mapped[str] = mapped_column(String(320))
    action: Mapped[str] = mapped_column(String(60))
    target_type: Mapped[str] = mapped_column(String(40), default="")
    target: Mapped[str] = mapped_column(String(200), default="")
    source_ip: Mapped[str] = mapped_column(String(64), default="")
    user_agent: Mapped[str] = mapped_column(String(400), default="")
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Repeated failures share one row per (tenant, source, action, reason, minute): ``count``
    # says how many; ``aggregate_key`` names that row (null for every other event).
    count: Mapped[int] = mapped_column(default=1, server_default=text("1"))
    aggregate_key: Mapped[str | None] = mapped_column(String(64), unique=True, default=None)
