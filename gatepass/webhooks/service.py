"""Managing a tenant's webhook endpoints: administrators only, each change audited.

The signing secret is shown once, when the endpoint is created and when its secret is rotated;
audit records name the endpoint and its URL, never the secret.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from gatepass.audit.service import Actor, record_change
from gatepass.credential_secrets import Plaintext
from gatepass.db import utcnow
from gatepass.destinations import Rules, origin
from gatepass.errors import ConflictError, ForbiddenError, InvalidInputError, NotFoundError
from gatepass.pagination import Page, PageRequest, fetch
from gatepass.tenants.models import Tenant
from gatepass.text import check_plain
from gatepass.webhooks import delivery, outbox
from gatepass.webhooks.events import EVENT_TYPES
from gatepass.webhooks.models import (
    ALL_EVENTS,
    WebhookAttempt,
    WebhookEndpoint,
    WebhookMessage,
    new_endpoint_id,
)
from gatepass.webhooks.signing import SecretBox, new_secret

MAX_DESCRIPTION = 500
MAX_ENDPOINTS = 20  # per tenant


@dataclass(frozen=True)
class EndpointSpec:
    """A new endpoint, or the changes to one (``None``: unchanged)."""

    url: str | None = None
    description: str | None = None
    events: Sequence[str] | None = None  # empty: every event type
    enabled: bool | None = None


def check_admin(actor: Actor) -> None:
    if actor.role not in (None, "admin"):
        raise ForbiddenError("only an administrator of the tenant manages webhooks")


def create_endpoint(
    session: Session,
    tenant: Tenant,
    spec: EndpointSpec,
    *,
    actor: Actor,
    rules: Rules,
    box: SecretBox,
) -> tuple[WebhookEndpoint, Plaintext]:
    check_admin(actor)
    if len(list_endpoints(session, tenant)) >= MAX_ENDPOINTS:
        raise ConflictError(f"a tenant has at most {MAX_ENDPOINTS} webhook endpoints")
    endpoint = WebhookEndpoint(
        tenant_id=tenant.id,
        endpoint_id=new_endpoint_id(),
        description="",
        enabled=True,
        created_by=actor.label,
        created_at=utcnow(),
    )
    _apply(endpoint, replace(spec, url=spec.url or "", events=spec.events or ()), rules)
    secret = new_secret()
    endpoint.sealed_secret = box.seal(secret, endpoint.endpoint_id)
    session.add(endpoint)
    _audit(session, actor, "webhook.create", endpoint, _described(endpoint))
    return endpoint, secret


def update_endpoint(
    session: Session,
    tenant: Tenant,
    endpoint_id: str,
    spec: EndpointSpec,
    *,
    actor: Actor,
    rules: Rules,
) -> WebhookEndpoint:
    check_admin(actor)
    endpoint = get_endpoint(session, tenant, endpoint_id)
    before, url = _described(endpoint), endpoint.url
    _apply(endpoint, spec, rules)
    changed = {k: v for k, v in _described(endpoint).items() if before[k] != v}
    if endpoint.url != url:
        changed["url_changed"] = True
    if changed:
        _audit(session, actor, "webhook.update", endpoint, changed)
    return endpoint


def delete_endpoint(session: Session, tenant: Tenant, endpoint_id: str, *, actor: Actor) -> None:
    """Delete the endpoint with its messages not yet sent and its delivery log."""
    check_admin(actor)
    endpoint = get_endpoint(session, tenant, endpoint_id)
    session.delete(endpoint)
    _audit(session, actor, "webhook.delete", endpoint, {"url": origin(endpoint.url)})


def rotate_secret(
    session: Session, tenant: Tenant, endpoint_id: str, *, actor: Actor, box: SecretBox
) -> tuple[WebhookEndpoint, Plaintext]:
    """A new signing secret, used from the next attempt on (retries included)."""
    check_admin(actor)
    endpoint = get_endpoint(session, tenant, endpoint_id)
    secret = new_secret()
    endpoint.sealed_secret = box.seal(secret, endpoint.endpoint_id)
    _audit(session, actor, "webhook.rotate_secret", endpoint, {})
    return endpoint, secret


def send_test(session: Session, tenant: Tenant, endpoint_id: str, *, actor: Actor) -> str:
    """Queue a ``webhook.test`` event for the endpoint; returns its message id."""
    check_admin(actor)
    endpoint = get_endpoint(session, tenant, endpoint_id)
    if not endpoint.enabled:
        raise ConflictError(f"webhook endpoint '{endpoint_id}' is disabled: enable it first")
    message_id = outbox.queue_test(session, tenant, endpoint, actor)
    _audit(session, actor, "webhook.test", endpoint, {"message_id": message_id})
    return message_id


def redeliver(
    session: Session, tenant: Tenant, endpoint_id: str, message_id: str, *, actor: Actor
) -> WebhookMessage:
    check_admin(actor)
    endpoint = get_endpoint(session, tenant, endpoint_id)
    message = session.scalar(
        select(WebhookMessage).where(
            WebhookMessage.endpoint_pk == endpoint.id, WebhookMessage.message_id == message_id
        )
    )
    if message is None:
        raise NotFoundError(f"no message '{message_id[:80]}' for webhook endpoint '{endpoint_id}'")
    delivery.redeliver(session, message)
    _audit(session, actor, "webhook.redeliver", endpoint, {"message_id": message_id})
    return message


def get_endpoint(session: Session, tenant: Tenant, endpoint_id: str) -> WebhookEndpoint:
    found = session.scalar(
        select(WebhookEndpoint).where(
            WebhookEndpoint.tenant_id == tenant.id, WebhookEndpoint.endpoint_id == endpoint_id
        )
    )
    if found is None:
        raise NotFoundError(f"webhook endpoint '{endpoint_id[:40]}' does not exist")
    return found


def list_endpoints(session: Session, tenant: Tenant) -> list[WebhookEndpoint]:
    return list(
        session.scalars(
            select(WebhookEndpoint)
            .where(WebhookEndpoint.tenant_id == tenant.id)
            .order_by(WebhookEndpoint.id)
        )
    )


def attempts(
    session: Session, tenant: Tenant, endpoint_id: str, page: PageRequest
) -> Page[WebhookAttempt]:
    """The delivery log of an endpoint, newest attempt first."""
    endpoint = get_endpoint(session, tenant, endpoint_id)
    stmt = (
        select(WebhookAttempt)
        .join(WebhookMessage, WebhookMessage.id == WebhookAttempt.message_pk)
        .where(WebhookMessage.endpoint_pk == endpoint.id)
    )
    return fetch(session, stmt, WebhookAttempt.id, page)


def _apply(endpoint: WebhookEndpoint, spec: EndpointSpec, rules: Rules) -> None:
    if spec.url is not None:
        endpoint.url = rules.check_url(spec.url)
    if spec.description is not None:
        description = check_plain(spec.description.strip(), "description")
        if len(description) > MAX_DESCRIPTION:
            raise InvalidInputError(f"description must be at most {MAX_DESCRIPTION} characters")
        endpoint.description = description
    if spec.events is not None:
        endpoint.events = subscription(spec.events)
    if spec.enabled is not None:
        endpoint.enabled = spec.enabled


def subscription(events: Sequence[str]) -> str:
    """What the ``events`` column holds for these event types (none: every type)."""
    unknown = sorted({e for e in events if e not in EVENT_TYPES})
    if unknown:
        shown = ", ".join(e[:60] for e in unknown[:5])
        raise InvalidInputError(f"unknown event type(s): {shown}; see the event catalog")
    chosen = sorted(set(events))
    return f" {' '.join(chosen)} " if chosen else ALL_EVENTS


def _described(endpoint: WebhookEndpoint) -> dict[str, Any]:
    """An endpoint as its audit records show it. Every role reads the audit log, and a
    receiver's path or query often holds its own token (incoming-webhook URLs): only the
    scheme and host are shown, and ``url_changed`` says the rest changed."""
    return {
        "url": origin(endpoint.url),
        "description": endpoint.description,
        "events": endpoint.event_types,
        "enabled": endpoint.enabled,
    }


def _audit(
    session: Session, actor: Actor, action: str, endpoint: WebhookEndpoint, details: dict[str, Any]
) -> None:
    record_change(session, endpoint.tenant_id, actor, action, endpoint.endpoint_id, details=details)
