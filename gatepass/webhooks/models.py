"""Webhook endpoints, the messages waiting for them (the outbox) and each delivery attempt."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from gatepass.db import Base, utcnow

ALL_EVENTS = "*"


def new_endpoint_id() -> str:
    return "ep_" + secrets.token_urlsafe(12)


class WebhookEndpoint(Base):
    """Where a tenant's events go; its signing secret is stored sealed (``signing.SecretBox``)."""

    __tablename__ = "webhook_endpoints"
    __table_args__ = (UniqueConstraint("tenant_id", "endpoint_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    endpoint_id: Mapped[str] = mapped_column(String(40), default=new_endpoint_id)
    url: Mapped[str] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text, default="")
    # "*" (every event type), or the subscribed types each between spaces: " a b " (so that
    # one SQL LIKE finds the endpoints of a type, on every backend)
    events: Mapped[str] = mapped_column(Text, default=ALL_EVENTS)
    enabled: Mapped[bool] = mapped_column(default=True)
    sealed_secret: Mapped[bytes] = mapped_column(LargeBinary)
    created_by: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def event_types(self) -> list[str]:
        return [] if self.events == ALL_EVENTS else self.events.split()


class WebhookMessage(Base):
    """One event for one endpoint, written in the transaction of the change it reports.

    ``message_id`` is the ``webhook-id`` a receiver deduplicates on: the same on every retry.
    The payload is built from these columns at delivery, so a bulk change (revoke all) writes
    its messages with one ``INSERT ... SELECT``.
    """

    __tablename__ = "webhook_messages"
    __table_args__ = (Index("ix_webhook_messages_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    endpoint_pk: Mapped[int] = mapped_column(
        ForeignKey("webhook_endpoints.id", ondelete="CASCADE"), index=True
    )
    message_id: Mapped[str] = mapped_column(String(300))
    event_type: Mapped[str] = mapped_column(String(60))
    tenant_slug: Mapped[str] = mapped_column(String(100))
    subject_kind: Mapped[str] = mapped_column(String(40), default="")
    subject_id: Mapped[str] = mapped_column(String(200), default="")
    subject_name: Mapped[str] = mapped_column(String(200), default="")
    actor_type: Mapped[str] = mapped_column(String(20), default="")
    actor: Mapped[str] = mapped_column(String(320), default="")
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)
    status: Mapped[str] = mapped_column(String(20), default="pending")  # delivered, failed
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    claim: Mapped[str | None] = mapped_column(String(32), default=None)


class WebhookAttempt(Base):
    """One POST of a message: what the receiver answered (or why it could not be reached)."""

    __tablename__ = "webhook_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    message_pk: Mapped[int] = mapped_column(
        ForeignKey("webhook_messages.id", ondelete="CASCADE"), index=True
    )
    attempt: Mapped[int] = mapped_column()
    at: Mapped[datetime] = mapped_column(default=utcnow)
    status_code: Mapped[int | None] = mapped_column(default=None)
    error: Mapped[str] = mapped_column(String(200), default="")
    duration_ms: Mapped[int] = mapped_column(default=0)
    succeeded: Mapped[bool] = mapped_column(default=False)

    message: Mapped[WebhookMessage] = relationship(lazy="joined")
