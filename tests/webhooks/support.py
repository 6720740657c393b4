"""Endpoints, credentials and deliveries for the webhook tests, through the service functions."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from gatepass.destinations import Rules
from gatepass.settings import Settings
from gatepass.tenants import service as tenants
from gatepass.tenants.models import Tenant
from gatepass.webhooks import delivery, service
from gatepass.webhooks.models import WebhookAttempt, WebhookMessage
from gatepass.webhooks.signing import SecretBox
from tests.factories import ACTOR, Factory

# The receiver listens on 127.0.0.1 over plain HTTP: allowed by the operator's settings only.
ALLOW_LOCAL = {"webhook_allow_http": True, "webhook_allow_private": True, "webhook_interval": 0}
RULES = Rules(allow_http=True, allow_private=True)


@contextmanager
def in_acme(factory: Factory) -> Iterator[tuple[Session, Tenant]]:
    with factory.db.transaction() as session:
        yield session, tenants.get_tenant(session, "acme")


def add_endpoint(factory: Factory, url: str, events: tuple[str, ...] = ()) -> tuple[str, str]:
    """An endpoint of acme; returns its id and its signing secret."""
    with in_acme(factory) as (session, tenant):
        spec = service.EndpointSpec(url=url, events=events)
        box = SecretBox.from_master_key(factory.settings.master_key())
        endpoint, secret = service.create_endpoint(
            session, tenant, spec, actor=ACTOR, rules=RULES, box=box
        )
        return endpoint.endpoint_id, secret.reveal()


def deliver(factory: Factory, settings: Settings, now: datetime | None = None) -> int:
    return delivery.deliver_due(factory.db, settings, now=now)


def messages(factory: Factory) -> list[WebhookMessage]:
    with factory.db.read() as session:
        return list(session.scalars(select(WebhookMessage).order_by(WebhookMessage.id)))


def attempts_of(factory: Factory, message_pk: int) -> list[WebhookAttempt]:
    with factory.db.read() as session:
        stmt = select(WebhookAttempt).where(WebhookAttempt.message_pk == message_pk)
        return list(session.scalars(stmt.order_by(WebhookAttempt.id)))
