"""The outbox: webhook messages written in the transaction of the change they report.

A change rolled back leaves no message; a change committed leaves one per subscribed, enabled
endpoint, which ``delivery.deliver_due`` sends until it is delivered or given up. Messages are
written with ``INSERT ... SELECT`` over the tenant's endpoints (one statement, none when the
tenant has no endpoint), and a bulk change writes the messages of all its credentials with one
more, never as one object per credential here.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ColumnElement, Select, String, insert, literal, or_, select, true
from sqlalchemy.orm import Session

from gatepass.audit.service import Actor
from gatepass.db import UTCDateTime, utcnow
from gatepass.tenants.models import Tenant
from gatepass.webhooks.events import CREDENTIAL_EVENTS
from gatepass.webhooks.models import ALL_EVENTS, WebhookEndpoint, WebhookMessage


@dataclass(frozen=True)
class Subject:
    """The credential an event is about: ``kind`` is ``oauth_client`` or ``api_key``, ``id``
    its client ID or key ID."""

    kind: str
    id: str
    name: str


def new_message_id() -> str:
    return "msg_" + secrets.token_urlsafe(16)


def emit(
    session: Session,
    *,
    tenant_id: int,
    event: str,
    credential: Subject,
    data: dict[str, Any],
    actor: Actor | None = None,
) -> None:
    """Queue ``event`` about ``credential`` for every endpoint of the tenant that takes it, in
    the caller's transaction. ``data`` joins the payload's ``data``; it must hold no secret."""
    if event not in CREDENTIAL_EVENTS:
        raise ValueError(f"unknown webhook event type {event!r}")
    columns = {
        "message_id": literal(new_message_id()),
        "subject_id": literal(credential.id),
        "subject_name": literal(credential.name[:200]),
    }
    enqueue(session, tenant_id, event, kind=credential.kind, actor=actor, data=data, **columns)


def announce(
    session: Session,
    tenant_id: int,
    event: str,
    *,
    subject: tuple[str, str, Select[Any]],
    actor: Actor,
    details: dict[str, Any],
) -> None:
    """Queue the lifecycle's ``event`` about a credential (its kind, id, and the query of its
    stored name), with the audit record's ``details``: one ``INSERT ... SELECT``, which writes
    and reads nothing else when the tenant has no endpoint. The name ``details`` gives (a
    deleted credential's is only there) comes before the stored one."""
    kind, ref, stored = subject
    name = details.get("name")
    columns = {
        "message_id": literal(new_message_id()),
        "subject_id": literal(ref),
        "subject_name": literal(name) if isinstance(name, str) else stored.scalar_subquery(),
    }
    data = {k: v for k, v in details.items() if k != "name"}
    enqueue(session, tenant_id, event, kind=kind, actor=actor, data=data, **columns)


def emit_each(
    session: Session,
    *,
    tenant_id: int,
    event: str,
    kind: str,
    subjects: Select[Any],
    actor: Actor,
    data: dict[str, Any],
) -> None:
    """``emit`` for each credential ``subjects`` selects (two columns: its id and its name)."""
    rows = subjects.subquery()
    ref, name = rows.c
    columns = {
        "message_id": literal(new_message_id() + ".", String) + ref,
        "subject_id": ref,
        "subject_name": name,
    }
    enqueue(session, tenant_id, event, kind=kind, actor=actor, data=data, joined=rows, **columns)


def enqueue(
    session: Session,
    tenant_id: int,
    event: str,
    *,
    kind: str,
    actor: Actor | None,
    data: dict[str, Any],
    joined: Any = None,
    **columns: ColumnElement[Any],
) -> int:
    """One message per endpoint of the tenant that takes ``event`` (per row of ``joined``, if
    given); ``columns`` name the message and its subject. Returns how many were written."""
    now = utcnow()
    endpoints = select(WebhookEndpoint.id).where(*subscribed(tenant_id, event)).subquery()
    constants: dict[str, ColumnElement[Any]] = {
        "tenant_id": literal(tenant_id),
        "endpoint_pk": endpoints.c.id,
        "event_type": literal(event),
        "tenant_slug": select(Tenant.slug).where(Tenant.id == tenant_id).scalar_subquery(),
        "subject_kind": literal(kind),
        "actor_type": literal(actor.kind if actor else ""),
        "actor": literal(actor.id if actor else ""),
        "data": literal(data, JSON),
        "occurred_at": literal(now, UTCDateTime()),
        "next_attempt_at": literal(now, UTCDateTime()),
        "status": literal("pending"),
        "attempts": literal(0),
        **columns,
    }
    source = select(*constants.values())
    source = source.select_from(endpoints if joined is None else joined.join(endpoints, true()))
    written = session.execute(insert(WebhookMessage).from_select(list(constants), source))
    return int(getattr(written, "rowcount", 0) or 0)


def subscribed(tenant_id: int, event: str) -> tuple[ColumnElement[bool], ...]:
    """SQL: the enabled endpoints of the tenant that take ``event``."""
    return (
        WebhookEndpoint.tenant_id == tenant_id,
        WebhookEndpoint.enabled.is_(True),
        or_(
            WebhookEndpoint.events == ALL_EVENTS,
            WebhookEndpoint.events.contains(f" {event} ", autoescape=True),
        ),
    )


def payload(message: WebhookMessage) -> dict[str, Any]:
    """The body a receiver gets (Standard Webhooks' ``type``, ``timestamp``, ``data``)."""
    data: dict[str, Any] = {**message.data, "tenant": message.tenant_slug}
    if message.subject_kind:
        data.update(kind=message.subject_kind, id=message.subject_id, name=message.subject_name)
    if message.actor_type:
        data["actor"] = {"type": message.actor_type, "id": message.actor}
    return {"type": message.event_type, "timestamp": iso(message.occurred_at), "data": data}


def iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def queue_test(session: Session, tenant: Tenant, endpoint: WebhookEndpoint, actor: Actor) -> str:
    """A ``webhook.test`` message for ``endpoint`` alone (enabled or not); returns its id."""
    message = WebhookMessage(
        tenant_id=tenant.id,
        endpoint_pk=endpoint.id,
        message_id=new_message_id(),
        event_type="webhook.test",
        tenant_slug=tenant.slug,
        actor_type=actor.kind,
        actor=actor.id,
        data={"endpoint": endpoint.endpoint_id},
    )
    session.add(message)
    return message.message_id
