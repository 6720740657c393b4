"""A migrated database with tenant ``acme``, and what the lifecycle leaves behind there: the
audit actions of a target and the changes published for every process's cache."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import select
from sqlalchemy.orm import Session

from gatepass.audit.models import AuditEvent
from gatepass.changes import feed
from gatepass.tenants import service as tenants
from gatepass.tenants.models import Tenant
from tests.factories import Factory


@contextmanager
def in_acme(factory: Factory) -> Iterator[tuple[Session, Tenant]]:
    with factory.db.transaction() as session:
        yield session, tenants.get_tenant(session, "acme")


def actions(factory: Factory, target: str) -> list[str]:
    with factory.db.read() as session:
        events = session.scalars(
            select(AuditEvent).where(AuditEvent.target == target).order_by(AuditEvent.id)
        )
        return [event.action for event in events]


def changes_after(factory: Factory, last_id: int) -> list[tuple[str, str]]:
    with factory.db.read() as session:
        return [(row.kind, row.ref) for row in feed.read_since(session, last_id, ())]


def newest_change(factory: Factory) -> int:
    with factory.db.read() as session:
        return feed.newest_id(session)
