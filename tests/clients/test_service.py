"""The OAuth client service on a migrated database: each outcome of create, rotate, revoke and
delete, its audit event and the change it publishes for every process's cache."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from gatepass import credential_secrets as cs
from gatepass.audit.models import AuditEvent
from gatepass.changes import feed
from gatepass.clients import service as clients
from gatepass.clients.kind import CLIENT
from gatepass.credentials import lifecycle
from gatepass.db import utcnow
from gatepass.errors import ConflictError, InvalidInputError, NotFoundError
from gatepass.tenants import service as tenants
from gatepass.tenants.models import Tenant
from tests.factories import ACTOR, Factory


@pytest.fixture
def acme(factory: Factory) -> Factory:
    factory.tenant("acme")
    return factory


@contextmanager
def in_acme(factory: Factory) -> Iterator[tuple[Session, Tenant]]:
    with factory.db.transaction() as session:
        yield session, tenants.get_tenant(session, "acme")


def create(factory: Factory, spec: clients.NewClient) -> tuple[str, cs.Plaintext]:
    with in_acme(factory) as (session, tenant):
        client, secret = clients.create_client(
            session, tenant, spec, actor=ACTOR, hasher=factory.hasher
        )
        return client.client_id, secret


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


def test_create_stores_only_the_secret_s_digest_audits_and_publishes(acme: Factory) -> None:
    before = newest_change(acme)
    client_id, secret = create(acme, clients.NewClient(name="Billing", scopes=["nql"]))
    with in_acme(acme) as (session, tenant):
        client = lifecycle.get(session, tenant, CLIENT, client_id)
        assert client.name == "Billing"
        assert [p.name for p in client.permissions] == ["nql"]
        assert [s.digest for s in client.secrets] == [acme.hasher.digest(secret)]
        assert lifecycle.status_of(CLIENT, client) == "active"
    assert client_id.startswith("gp-")
    assert actions(acme, client_id) == ["client.create"]
    assert changes_after(acme, before) == [(feed.KIND_CLIENT, client_id)]


def test_a_client_id_taken_in_the_tenant_is_a_conflict(acme: Factory) -> None:
    create(acme, clients.NewClient(name="One", client_id="billing"))
    with pytest.raises(ConflictError):
        create(acme, clients.NewClient(name="Two", client_id="billing"))


@pytest.mark.parametrize(
    "spec",
    [
        clients.NewClient(name="Colon", client_id="bad:id"),
        clients.NewClient(name="Short", client_id="ab"),
        clients.NewClient(name="Secret-shaped", client_id="gpcs_lookslikeasecret"),
        clients.NewClient(name="Past", expires_at=utcnow() - timedelta(minutes=1)),
        clients.NewClient(name="Lifetime", token_lifetime=1),
    ],
    ids=["colon", "short", "secret-shaped", "expired", "lifetime"],
)
def test_invalid_specs_make_nothing(acme: Factory, spec: clients.NewClient) -> None:
    with pytest.raises(InvalidInputError):
        create(acme, spec)
    with in_acme(acme) as (session, tenant):
        assert lifecycle.list_all(session, tenant, CLIENT) == []


def test_rotation_without_grace_ends_the_old_secret_now(acme: Factory) -> None:
    client_id, old = create(acme, clients.NewClient(name="Billing"))
    with in_acme(acme) as (session, tenant):
        _, new = lifecycle.rotate(
            session, tenant, CLIENT, client_id, grace=None, actor=ACTOR, hasher=acme.hasher
        )
    assert new.reveal() != old.reveal()
    with in_acme(acme) as (session, tenant):
        secrets = {s.digest: s for s in lifecycle.get(session, tenant, CLIENT, client_id).secrets}
        ended = secrets[acme.hasher.digest(old)].expires_at
        assert ended is not None
        assert ended <= utcnow()
        assert secrets[acme.hasher.digest(new)].expires_at is None
    assert actions(acme, client_id) == ["client.create", "client.rotate_secret"]


def test_revoke_is_audited_once_and_a_revoked_client_cannot_rotate(acme: Factory) -> None:
    client_id, _ = create(acme, clients.NewClient(name="Billing"))
    for _ in range(2):
        with in_acme(acme) as (session, tenant):
            revoked = lifecycle.revoke(session, tenant, CLIENT, client_id, actor=ACTOR)
            assert lifecycle.status_of(CLIENT, revoked) == "revoked"
    with in_acme(acme) as (session, tenant), pytest.raises(InvalidInputError):
        lifecycle.rotate(
            session, tenant, CLIENT, client_id, grace=None, actor=ACTOR, hasher=acme.hasher
        )
    assert actions(acme, client_id) == ["client.create", "client.revoke"]


def test_revoke_all_counts_only_active_clients(acme: Factory) -> None:
    first, _ = create(acme, clients.NewClient(name="One"))
    create(acme, clients.NewClient(name="Two"))
    with in_acme(acme) as (session, tenant):
        lifecycle.revoke(session, tenant, CLIENT, first, actor=ACTOR)
    before = newest_change(acme)
    with in_acme(acme) as (session, tenant):
        assert lifecycle.revoke_all(session, tenant, CLIENT, actor=ACTOR) == 1
        assert {
            lifecycle.status_of(CLIENT, c) for c in lifecycle.list_all(session, tenant, CLIENT)
        } == {"revoked"}
    assert changes_after(acme, before) == [(feed.KIND_CLIENT, feed.EVERY)]


def test_a_deleted_client_is_not_found(acme: Factory) -> None:
    client_id, _ = create(acme, clients.NewClient(name="Billing"))
    with in_acme(acme) as (session, tenant):
        lifecycle.delete(session, tenant, CLIENT, client_id, actor=ACTOR)
    with in_acme(acme) as (session, tenant), pytest.raises(NotFoundError):
        lifecycle.get(session, tenant, CLIENT, client_id)
    assert actions(acme, client_id) == ["client.create", "client.delete"]


def test_an_expiry_passed_reads_as_expired(acme: Factory) -> None:
    expires = utcnow() + timedelta(hours=1)
    client_id, _ = create(acme, clients.NewClient(name="Billing", expires_at=expires))
    with in_acme(acme) as (session, tenant):
        client = lifecycle.get(session, tenant, CLIENT, client_id)
        assert lifecycle.status_of(CLIENT, client) == "active"
        assert lifecycle.status_of(CLIENT, client, now=expires + timedelta(seconds=1)) == "expired"
