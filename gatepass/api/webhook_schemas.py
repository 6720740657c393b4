"""The documents of the webhook routes (``api.webhooks``); the CLI's ``--json`` uses them too."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from gatepass.api.schemas import Input
from gatepass.webhooks.events import EVENT_TYPES
from gatepass.webhooks.models import WebhookAttempt, WebhookEndpoint

EventType = Literal[EVENT_TYPES]  # type: ignore[valid-type]


class WebhookIn(Input):
    url: str = Field(max_length=2000, description="https URL that receives the events.")
    description: str = Field(default="", max_length=500)
    events: list[EventType] = Field(
        default_factory=list, max_length=50, description="Event types sent; empty: all."
    )
    enabled: bool = True


class WebhookPatch(Input):
    url: str | None = Field(default=None, max_length=2000)
    description: str | None = Field(default=None, max_length=500)
    events: list[EventType] | None = Field(default=None, max_length=50)
    enabled: bool | None = None


class WebhookOut(BaseModel):
    id: str
    url: str
    description: str
    events: list[str] = Field(description="Event types sent; empty: all.")
    enabled: bool
    created_by: str
    created_at: datetime

    @classmethod
    def of(cls, endpoint: WebhookEndpoint) -> WebhookOut:
        return cls(
            id=endpoint.endpoint_id,
            url=endpoint.url,
            description=endpoint.description,
            events=endpoint.event_types,
            enabled=endpoint.enabled,
            created_by=endpoint.created_by,
            created_at=endpoint.created_at,
        )


class WebhookIssued(WebhookOut):
    secret: str = Field(
        description="The signing secret (Standard Webhooks `whsec_...`), shown only this once."
    )

    @classmethod
    def issued(cls, endpoint: WebhookEndpoint, secret: str) -> WebhookIssued:
        return cls(**WebhookOut.of(endpoint).model_dump(), secret=secret)


class MessageQueued(BaseModel):
    message_id: str = Field(description="The `webhook-id` the receiver will get.")


class DeliveryOut(BaseModel):
    at: datetime
    message_id: str
    event_type: str
    attempt: int
    status_code: int | None = Field(description="The receiver's answer; null if none came.")
    error: str
    duration_ms: int
    succeeded: bool
    message_status: Literal["pending", "delivered", "failed"]

    @classmethod
    def of(cls, attempt: WebhookAttempt) -> DeliveryOut:
        message = attempt.message
        return cls(
            at=attempt.at,
            message_id=message.message_id,
            event_type=message.event_type,
            attempt=attempt.attempt,
            status_code=attempt.status_code,
            error=attempt.error,
            duration_ms=attempt.duration_ms,
            succeeded=attempt.succeeded,
            message_status=message.status,
        )
