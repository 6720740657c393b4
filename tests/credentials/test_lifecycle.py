"""The one lifecycle (``credentials.lifecycle``) on a migrated database, for each credential
kind alike: a new secret, suspend, resume, revoke, revoke all, delete and expiry, with the audit
event and the change each publishes for every process's cache."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from gatepass import credential_secrets as cs
from gatepass.apikeys import service as apikeys
from gatepass.apikeys.kind import API_KEY
from gatepass.clients import service as clients
from gatepass.clients.kind import CLIENT
from gatepass.credentials import lifecycle, revoking
from gatepass.db import utcnow
from gatepass.errors import ConflictError, InvalidInputError, NotFoundError
from tests.credentials.support import actions, changes_after, in_acme, newest_change
from tests.factories import ACTOR, Factory

Make = Callable[[Factory, str, datetime | None], tuple[str, cs.Plaintext]]


def make_client(factory: Factory, name: str, expires_at: datetime | None) -> tuple[str, Any]:
    with in_acme(factory) as (session, tenant):
        spec = clients.NewClient(name=name, expires_at=expires_at)
        client, secret = clients.create_client(
            session, tenant, spec, actor=ACTOR, hasher=factory.hasher
        )
        return client.client_id, secret


def make_key(factory: Factory, name: str, expires_at: datetime | None) -> tuple[str, Any]:
    with in_acme(factory) as (session, tenant):
        spec = apikeys.NewApiKey(name=name, expires_at=expires_at)
        key, secret = apikeys.create_key(session, tenant, spec, actor=ACTOR, hasher=factory.hasher)
        return key.key_id, secret


KINDS = [
    pytest.param(CLIENT, make_client, id="client"),
    pytest.param(API_KEY, make_key, id="api_key"),
]


@pytest.mark.parametrize(("kind", "make"), KINDS)
def test_a_new_secret_without_grace_ends_the_old_one_now(
    acme: Factory, kind: lifecycle.Kind[Any], make: Make
) -> None:
    ref, old = make(acme, "Billing", None)
    with in_acme(acme) as (session, tenant):
        _, new = lifecycle.rotate(
            session, tenant, kind, ref, grace=None, actor=ACTOR, hasher=acme.hasher
        )
    assert new.reveal() != old.reveal()
    assert new.reveal().startswith(kind.secret_kind.value)
    with in_acme(acme) as (session, tenant):
        held = {s.digest: s for s in lifecycle.get(session, tenant, kind, ref).secrets}
        ended = held[acme.hasher.digest(old)].expires_at
        assert ended is not None
        assert ended <= utcnow()
        assert held[acme.hasher.digest(new)].expires_at is None
    assert actions(acme, ref) == [f"{kind.audit}.create", f"{kind.audit}.{kind.rotate_action}"]


@pytest.mark.parametrize(("kind", "make"), KINDS)
def test_a_grace_period_keeps_the_old_secret_until_it_ends(
    acme: Factory, kind: lifecycle.Kind[Any], make: Make
) -> None:
    ref, old = make(acme, "Billing", None)
    with in_acme(acme) as (session, tenant):
        lifecycle.rotate(
            session, tenant, kind, ref, grace=timedelta(hours=1), actor=ACTOR, hasher=acme.hasher
        )
    with in_acme(acme) as (session, tenant):
        held = {s.digest: s for s in lifecycle.get(session, tenant, kind, ref).secrets}
        ends = held[acme.hasher.digest(old)].expires_at
        assert ends is not None
        assert utcnow() + timedelta(minutes=59) < ends <= utcnow() + timedelta(hours=1)
    with in_acme(acme) as (session, tenant), pytest.raises(InvalidInputError):
        lifecycle.rotate(
            session, tenant, kind, ref, grace=timedelta(days=31), actor=ACTOR, hasher=acme.hasher
        )


@pytest.mark.parametrize(("kind", "make"), KINDS)
def test_revoke_is_audited_once_and_a_revoked_credential_gets_no_new_secret(
    acme: Factory, kind: lifecycle.Kind[Any], make: Make
) -> None:
    ref, _ = make(acme, "Billing", None)
    for _ in range(2):
        with in_acme(acme) as (session, tenant):
            revoked = lifecycle.revoke(session, tenant, kind, ref, actor=ACTOR)
            assert lifecycle.status_of(kind, revoked) == "revoked"
    with in_acme(acme) as (session, tenant), pytest.raises(InvalidInputError):
        lifecycle.rotate(session, tenant, kind, ref, grace=None, actor=ACTOR, hasher=acme.hasher)
    assert actions(acme, ref) == [f"{kind.audit}.create", f"{kind.audit}.revoke"]


@pytest.mark.parametrize(("kind", "make"), KINDS)
def test_revoke_all_counts_only_active_ones_and_publishes_one_change(
    acme: Factory, kind: lifecycle.Kind[Any], make: Make
) -> None:
    first, _ = make(acme, "One", None)
    make(acme, "Two", None)
    make(acme, "Three", None)
    with in_acme(acme) as (session, tenant):
        lifecycle.revoke(session, tenant, kind, first, actor=ACTOR)
    before = newest_change(acme)
    with in_acme(acme) as (session, tenant):
        assert revoking.revoke_all(session, tenant, kind, actor=ACTOR) == 2
        rows = lifecycle.list_all(session, tenant, kind)
        assert {lifecycle.status_of(kind, row) for row in rows} == {"revoked"}
    assert changes_after(acme, before) == [(kind.feed_kind, "*")]


@pytest.mark.parametrize(("kind", "make"), KINDS)
def test_a_deleted_credential_is_not_found(
    acme: Factory, kind: lifecycle.Kind[Any], make: Make
) -> None:
    ref, _ = make(acme, "Billing", None)
    before = newest_change(acme)
    with in_acme(acme) as (session, tenant):
        lifecycle.delete(session, tenant, kind, ref, actor=ACTOR)
    with in_acme(acme) as (session, tenant), pytest.raises(NotFoundError):
        lifecycle.get(session, tenant, kind, ref)
    assert actions(acme, ref) == [f"{kind.audit}.create", f"{kind.audit}.delete"]
    assert changes_after(acme, before) == [(kind.feed_kind, ref)]


@pytest.mark.parametrize(("kind", "make"), KINDS)
def test_an_expiry_passed_reads_as_expired_and_filters_alike(
    acme: Factory, kind: lifecycle.Kind[Any], make: Make
) -> None:
    expires = utcnow() + timedelta(hours=1)
    ref, _ = make(acme, "Billing", expires)
    later = expires + timedelta(seconds=1)
    with in_acme(acme) as (session, tenant):
        row = lifecycle.get(session, tenant, kind, ref)
        assert lifecycle.status_of(kind, row) == "active"
        assert lifecycle.status_of(kind, row, now=later) == "expired"
        for status, now, expected in (("active", utcnow(), [ref]), ("expired", later, [ref])):
            where = lifecycle.status_condition(kind, status, now)
            found = session.scalars(
                select(kind.model).where(where, kind.model.tenant_id == tenant.id)
            )
            assert [kind.ref_of(r) for r in found] == expected


@pytest.mark.parametrize(("kind", "make"), KINDS)
def test_an_unknown_status_is_refused(acme: Factory, kind: lifecycle.Kind[Any], make: Make) -> None:
    with pytest.raises(InvalidInputError, match="unknown status 'lost'"):
        lifecycle.status_condition(kind, "lost", utcnow())


def _status(factory: Factory, kind: lifecycle.Kind[Any], ref: str) -> str:
    with in_acme(factory) as (session, tenant):
        return lifecycle.status_of(kind, lifecycle.get(session, tenant, kind, ref))


def _listed(factory: Factory, kind: lifecycle.Kind[Any], status: str) -> list[str]:
    with in_acme(factory) as (session, tenant):
        where = lifecycle.status_condition(kind, status, utcnow())
        found = session.scalars(select(kind.model).where(where, kind.model.tenant_id == tenant.id))
        return [kind.ref_of(r) for r in found]


@pytest.mark.parametrize(("kind", "make"), KINDS)
def test_suspend_and_resume_are_audited_published_and_filtered(
    acme: Factory, kind: lifecycle.Kind[Any], make: Make
) -> None:
    ref, _ = make(acme, "Billing", None)
    before = newest_change(acme)
    for change, status in ((lifecycle.suspend, "suspended"), (lifecycle.resume, "active")):
        for _ in range(2):  # a retry changes nothing more
            with in_acme(acme) as (session, tenant):
                change(session, tenant, kind, ref, actor=ACTOR)
        assert _status(acme, kind, ref) == status
        assert _listed(acme, kind, status) == [ref]
    assert actions(acme, ref) == [f"{kind.audit}.{a}" for a in ("create", "suspend", "resume")]
    assert changes_after(acme, before) == [(kind.feed_kind, ref)] * 2


@pytest.mark.parametrize(("kind", "make"), KINDS)
def test_a_suspended_credential_may_be_rotated_and_revoked_but_not_resumed_once_revoked(
    acme: Factory, kind: lifecycle.Kind[Any], make: Make
) -> None:
    ref, _ = make(acme, "Billing", None)
    with in_acme(acme) as (session, tenant):
        lifecycle.suspend(session, tenant, kind, ref, actor=ACTOR)
    with in_acme(acme) as (session, tenant):
        lifecycle.rotate(session, tenant, kind, ref, grace=None, actor=ACTOR, hasher=acme.hasher)
    assert _status(acme, kind, ref) == "suspended"  # a new secret does not resume it
    with in_acme(acme) as (session, tenant):
        lifecycle.revoke(session, tenant, kind, ref, actor=ACTOR)
    for change in (lifecycle.suspend, lifecycle.resume):
        with in_acme(acme) as (session, tenant), pytest.raises(ConflictError, match="revoked"):
            change(session, tenant, kind, ref, actor=ACTOR)
    assert _status(acme, kind, ref) == "revoked"


@pytest.mark.parametrize(("kind", "make"), KINDS)
def test_resuming_an_active_credential_changes_nothing(
    acme: Factory, kind: lifecycle.Kind[Any], make: Make
) -> None:
    ref, _ = make(acme, "Billing", None)
    before = newest_change(acme)
    with in_acme(acme) as (session, tenant):
        lifecycle.resume(session, tenant, kind, ref, actor=ACTOR)
    assert actions(acme, ref) == [f"{kind.audit}.create"]
    assert changes_after(acme, before) == []


@pytest.mark.parametrize(("kind", "make"), KINDS)
def test_revoke_all_revokes_suspended_ones_too(
    acme: Factory, kind: lifecycle.Kind[Any], make: Make
) -> None:
    first, _ = make(acme, "One", None)
    make(acme, "Two", None)
    with in_acme(acme) as (session, tenant):
        lifecycle.suspend(session, tenant, kind, first, actor=ACTOR)
    with in_acme(acme) as (session, tenant):
        assert revoking.revoke_all(session, tenant, kind, actor=ACTOR) == 2
    assert _status(acme, kind, first) == "revoked"
