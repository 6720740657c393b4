"""The API key service on a migrated database: each outcome of create, regenerate, revoke and
delete, its audit event and the change it publishes for every process's cache."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from gatepass import credential_secrets as cs
from gatepass.apikeys import service as apikeys
from gatepass.apikeys.kind import API_KEY
from gatepass.audit.models import AuditEvent
from gatepass.audit.service import Actor
from gatepass.changes import feed
from gatepass.credentials import lifecycle
from gatepass.db import utcnow
from gatepass.errors import ForbiddenError, InvalidInputError, NotFoundError
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


def create(factory: Factory, spec: apikeys.NewApiKey) -> tuple[str, cs.Plaintext]:
    with in_acme(factory) as (session, tenant):
        key, secret = apikeys.create_key(session, tenant, spec, actor=ACTOR, hasher=factory.hasher)
        return key.key_id, secret


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
    spec = apikeys.NewApiKey(name="Scanner", rate_limit=apikeys.RateLimit(limit=600, period=60))
    key_id, secret = create(acme, spec)
    with in_acme(acme) as (session, tenant):
        key = lifecycle.get(session, tenant, API_KEY, key_id)
        assert (key.name, key.rate_limit, key.rate_period) == ("Scanner", 600, 60)
        assert [s.digest for s in key.secrets] == [acme.hasher.digest(secret)]
        assert lifecycle.status_of(API_KEY, key) == "active"
    assert key_id.startswith("ak_")
    assert actions(acme, key_id) == ["apikey.create"]
    assert changes_after(acme, before) == [(feed.KIND_APIKEY, key_id)]


def test_a_past_expiry_makes_nothing(acme: Factory) -> None:
    with pytest.raises(InvalidInputError):
        create(acme, apikeys.NewApiKey(name="Late", expires_at=utcnow() - timedelta(seconds=1)))
    with in_acme(acme) as (session, tenant):
        assert lifecycle.list_all(session, tenant, API_KEY) == []


@pytest.mark.parametrize(
    "actor",
    [ACTOR, Actor(kind="user", id="ada@example.com", role="viewer")],
    ids=["operator", "owner"],
)
def test_the_operator_and_the_owner_act_for_a_personal_key(actor: Actor) -> None:
    apikeys.check_owner_acts(actor, " Ada@Example.com ", refusal="refused")


@pytest.mark.parametrize(
    "actor",
    [
        Actor(kind="user", id="bob@example.com", role="admin"),
        Actor(kind="client", id="ada@example.com", role="admin"),
    ],
    ids=["another user", "a client"],
)
def test_no_one_else_acts_for_a_personal_key(actor: Actor) -> None:
    with pytest.raises(ForbiddenError, match=r"^refused$"):
        apikeys.check_owner_acts(actor, "ada@example.com", refusal="refused")


def test_regenerate_without_grace_ends_the_old_secret_now(acme: Factory) -> None:
    key_id, old = create(acme, apikeys.NewApiKey(name="Scanner"))
    with in_acme(acme) as (session, tenant):
        _, new = lifecycle.rotate(
            session, tenant, API_KEY, key_id, grace=None, actor=ACTOR, hasher=acme.hasher
        )
    assert new.reveal() != old.reveal()
    with in_acme(acme) as (session, tenant):
        secrets = {s.digest: s for s in lifecycle.get(session, tenant, API_KEY, key_id).secrets}
        ended = secrets[acme.hasher.digest(old)].expires_at
        assert ended is not None
        assert ended <= utcnow()
        assert secrets[acme.hasher.digest(new)].expires_at is None
    assert actions(acme, key_id) == ["apikey.create", "apikey.regenerate"]


def test_revoke_is_audited_once_and_a_revoked_key_cannot_regenerate(acme: Factory) -> None:
    key_id, _ = create(acme, apikeys.NewApiKey(name="Scanner"))
    for _ in range(2):
        with in_acme(acme) as (session, tenant):
            revoked = lifecycle.revoke(session, tenant, API_KEY, key_id, actor=ACTOR)
            assert lifecycle.status_of(API_KEY, revoked) == "revoked"
    with in_acme(acme) as (session, tenant), pytest.raises(InvalidInputError):
        lifecycle.rotate(
            session, tenant, API_KEY, key_id, grace=None, actor=ACTOR, hasher=acme.hasher
        )
    assert actions(acme, key_id) == ["apikey.create", "apikey.revoke"]


def test_revoke_all_counts_only_active_keys_and_publishes_one_change(acme: Factory) -> None:
    first, _ = create(acme, apikeys.NewApiKey(name="One"))
    create(acme, apikeys.NewApiKey(name="Two"))
    create(acme, apikeys.NewApiKey(name="Three"))
    with in_acme(acme) as (session, tenant):
        lifecycle.revoke(session, tenant, API_KEY, first, actor=ACTOR)
    before = newest_change(acme)
    with in_acme(acme) as (session, tenant):
        assert lifecycle.revoke_all(session, tenant, API_KEY, actor=ACTOR) == 2
        assert {
            lifecycle.status_of(API_KEY, k) for k in lifecycle.list_all(session, tenant, API_KEY)
        } == {"revoked"}
    assert changes_after(acme, before) == [(feed.KIND_APIKEY, feed.EVERY)]


def test_a_deleted_key_is_not_found(acme: Factory) -> None:
    key_id, _ = create(acme, apikeys.NewApiKey(name="Scanner"))
    with in_acme(acme) as (session, tenant):
        lifecycle.delete(session, tenant, API_KEY, key_id, actor=ACTOR)
    with in_acme(acme) as (session, tenant), pytest.raises(NotFoundError):
        lifecycle.get(session, tenant, API_KEY, key_id)
    assert actions(acme, key_id) == ["apikey.create", "apikey.delete"]
