"""Revoke all (``revoking.revoke_all``), for each credential kind alike: what it revokes, what
``keep_management`` keeps, and the audit history it leaves, for the tenant and for each
credential it revoked."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select

from gatepass.apikeys import service as apikeys
from gatepass.apikeys.kind import API_KEY
from gatepass.audit.models import AuditEvent
from gatepass.clients import service as clients
from gatepass.clients.kind import CLIENT
from gatepass.credentials import lifecycle, revoking
from tests.credentials.support import actions, in_acme
from tests.factories import ACTOR, Factory

Make = Callable[[Factory, str, tuple[str, ...]], str]


def make_client(factory: Factory, name: str, scopes: tuple[str, ...]) -> str:
    with in_acme(factory) as (session, tenant):
        spec = clients.NewClient(name=name, scopes=list(scopes))
        client, _ = clients.create_client(session, tenant, spec, actor=ACTOR, hasher=factory.hasher)
        return client.client_id


def make_key(factory: Factory, name: str, scopes: tuple[str, ...]) -> str:
    with in_acme(factory) as (session, tenant):
        spec = apikeys.NewApiKey(name=name, scopes=list(scopes))
        key, _ = apikeys.create_key(session, tenant, spec, actor=ACTOR, hasher=factory.hasher)
        return key.key_id


KINDS = [
    pytest.param(CLIENT, make_client, id="client"),
    pytest.param(API_KEY, make_key, id="api_key"),
]
# one credential per kind of permission it may hold: product only, none, and each management one
HOLDINGS = {
    "product": ("nql",),
    "nothing": (),
    "verifier": ("api_keys:verify", "nql"),
    "reader": ("credentials:read",),
    "manager": ("credentials:manage",),
    "admin": ("tenant:admin",),
}


def made(acme: Factory, make: Make) -> dict[str, str]:
    return {name: make(acme, name, scopes) for name, scopes in HOLDINGS.items()}


def statuses(acme: Factory, kind: lifecycle.Kind[Any]) -> dict[str, str]:
    with in_acme(acme) as (session, tenant):
        return {row.name: row.status for row in lifecycle.list_all(session, tenant, kind)}


@pytest.mark.parametrize(("kind", "make"), KINDS)
def test_by_default_every_active_or_suspended_credential_is_revoked(
    acme: Factory, kind: lifecycle.Kind[Any], make: Make
) -> None:
    refs = made(acme, make)
    with in_acme(acme) as (session, tenant):
        lifecycle.suspend(session, tenant, kind, refs["manager"], actor=ACTOR)
        assert revoking.count_revocable(session, tenant, kind) == 6
    with in_acme(acme) as (session, tenant):
        assert revoking.revoke_all(session, tenant, kind, actor=ACTOR) == 6
    assert set(statuses(acme, kind).values()) == {"revoked"}


@pytest.mark.parametrize(("kind", "make"), KINDS)
def test_keep_management_keeps_verifiers_and_management_credentials(
    acme: Factory, kind: lifecycle.Kind[Any], make: Make
) -> None:
    made(acme, make)
    with in_acme(acme) as (session, tenant):
        assert revoking.count_revocable(session, tenant, kind, keep_management=True) == 2
        assert revoking.revoke_all(session, tenant, kind, actor=ACTOR, keep_management=True) == 2
    assert statuses(acme, kind) == {
        "product": "revoked",
        "nothing": "revoked",
        "verifier": "active",
        "reader": "active",
        "manager": "active",
        "admin": "active",
    }


@pytest.mark.parametrize(("kind", "make"), KINDS)
def test_each_revoked_credential_has_its_own_revoke_event(
    acme: Factory, kind: lifecycle.Kind[Any], make: Make
) -> None:
    refs = made(acme, make)
    with in_acme(acme) as (session, tenant):
        lifecycle.revoke(session, tenant, kind, refs["nothing"], actor=ACTOR)  # already revoked
    with in_acme(acme) as (session, tenant):
        revoking.revoke_all(session, tenant, kind, actor=ACTOR, keep_management=True)

    assert actions(acme, refs["product"]) == [f"{kind.audit}.create", f"{kind.audit}.revoke"]
    assert actions(acme, refs["nothing"]) == [f"{kind.audit}.create", f"{kind.audit}.revoke"]
    assert actions(acme, refs["manager"]) == [f"{kind.audit}.create"]
    with acme.db.read() as session:
        event = session.scalars(
            select(AuditEvent).where(AuditEvent.target == refs["product"]).order_by(AuditEvent.id)
        ).all()[-1]
        overall = session.scalar(
            select(AuditEvent).where(AuditEvent.action == f"{kind.audit}.revoke_all")
        )
    assert (event.actor_type, event.actor, event.target_type) == (
        "operator",
        "tests",
        kind.target_type,
    )
    assert event.details == {"by": "revoke all"}
    assert event.count == 1
    assert overall is not None
    assert overall.details == {
        "count": 1,
        "kept": "credentials that verify API keys or manage Gatepass",
    }


@pytest.mark.parametrize(("kind", "make"), KINDS)
def test_nothing_to_revoke_writes_only_the_tenant_event(
    acme: Factory, kind: lifecycle.Kind[Any], make: Make
) -> None:
    ref = make(acme, "Verifier", ("api_keys:verify",))
    with in_acme(acme) as (session, tenant):
        assert revoking.revoke_all(session, tenant, kind, actor=ACTOR, keep_management=True) == 0
    assert actions(acme, ref) == [f"{kind.audit}.create"]
    with acme.db.read() as session:
        overall = session.scalars(
            select(AuditEvent.details).where(AuditEvent.action == f"{kind.audit}.revoke_all")
        ).one()
    assert overall["count"] == 0
