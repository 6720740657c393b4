"""Ending a rotation's grace period early (``credentials.grace``), for each kind alike: only
older versions still in their grace period, only those unused for the idle time, never the
newest; audited and published once."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from starlette.testclient import TestClient

from gatepass.clients.kind import CLIENT as CLIENT_KIND
from gatepass.credentials import grace, lifecycle
from gatepass.db import utcnow
from gatepass.errors import InvalidInputError
from tests.api.support import api, bearer_caller
from tests.credentials.support import actions, changes_after, in_acme, newest_change
from tests.credentials.test_lifecycle import KINDS, Make
from tests.factories import ACTOR, Credential, Factory
from tests.http.support import poll, request_token, status_is


def rotated(factory: Factory, kind: lifecycle.Kind[Any], ref: str, times: int = 1) -> None:
    for _ in range(times):
        with in_acme(factory) as (session, tenant):
            lifecycle.rotate(
                session,
                tenant,
                kind,
                ref,
                grace=timedelta(days=1),
                actor=ACTOR,
                hasher=factory.hasher,
            )


def last_used(
    factory: Factory, kind: lifecycle.Kind[Any], ref: str, ages: list[timedelta | None]
) -> None:
    """Set each version's last use, oldest version first (``None``: never used)."""
    with in_acme(factory) as (session, tenant):
        versions = sorted(lifecycle.get(session, tenant, kind, ref).secrets, key=lambda v: v.id)
        for version, age in zip(versions, ages, strict=True):
            version.last_used_at = None if age is None else utcnow() - age


def live(factory: Factory, kind: lifecycle.Kind[Any], ref: str) -> list[bool]:
    with in_acme(factory) as (session, tenant):
        versions = sorted(lifecycle.get(session, tenant, kind, ref).secrets, key=lambda v: v.id)
        now = utcnow()
        return [v.expires_at is None or v.expires_at > now for v in versions]


def retire(factory: Factory, kind: lifecycle.Kind[Any], ref: str, minutes: int) -> int:
    with in_acme(factory) as (session, tenant):
        _, ended = grace.retire_unused(
            session, tenant, kind, ref, idle=timedelta(minutes=minutes), actor=ACTOR
        )
        return ended


@pytest.mark.parametrize(("kind", "make"), KINDS)
def test_only_older_versions_unused_for_the_idle_time_end(
    acme: Factory, kind: lifecycle.Kind[Any], make: Make
) -> None:
    ref, _ = make(acme, "Billing", None)
    rotated(acme, kind, ref, times=3)  # four versions: three in grace, the newest live
    minute = timedelta(minutes=1)
    last_used(acme, kind, ref, [None, 20 * minute, 2 * minute, None])
    before = newest_change(acme)

    assert retire(acme, kind, ref, minutes=15) == 2

    assert live(acme, kind, ref) == [False, False, True, True]  # the one used 2 min ago stays
    assert actions(acme, ref)[-1] == f"{kind.audit}.retire_unused"
    assert changes_after(acme, before) == [(kind.feed_kind, ref)]


@pytest.mark.parametrize(("kind", "make"), KINDS)
def test_nothing_to_end_changes_nothing(
    acme: Factory, kind: lifecycle.Kind[Any], make: Make
) -> None:
    ref, _ = make(acme, "Billing", None)
    last_used(acme, kind, ref, [None])  # the only version: the newest, never ended
    before = newest_change(acme)
    assert retire(acme, kind, ref, minutes=5) == 0
    assert live(acme, kind, ref) == [True]
    assert actions(acme, ref) == [f"{kind.audit}.create"]
    assert changes_after(acme, before) == []


@pytest.mark.parametrize("minutes", [0, 4, 60 * 24 * 31])
@pytest.mark.parametrize(("kind", "make"), KINDS)
def test_an_idle_time_out_of_bounds_is_refused(
    acme: Factory, kind: lifecycle.Kind[Any], make: Make, minutes: int
) -> None:
    ref, _ = make(acme, "Billing", None)
    with pytest.raises(InvalidInputError, match="between 5 minutes and 30 days"):
        retire(acme, kind, ref, minutes=minutes)


def test_through_the_api_the_old_secret_stops_and_the_new_one_works(
    acme: Factory, client: TestClient
) -> None:
    admin = bearer_caller(client, acme, "acme")
    old = acme.client(name="billing")
    rotated_ = admin.request(
        client,
        "POST",
        api("acme", f"/clients/{old.client_id}/rotate-secret"),
        json={"grace_seconds": 86400},
    )
    assert rotated_.status_code == 200, rotated_.text
    new = Credential("acme", old.client_id, rotated_.json()["client_secret"])
    assert request_token(client, old).status_code == 200  # in its grace period, and used now

    answer = admin.request(
        client,
        "POST",
        api("acme", f"/clients/{old.client_id}/retire-unused"),
        json={"idle_minutes": 5},
    )

    assert answer.status_code == 200, answer.text
    # Its use just now was recorded: it is not idle, so it keeps its grace period.
    assert [v["active"] for v in answer.json()["secrets"]] == [True, True]
    last_used(acme, CLIENT_KIND, old.client_id, [timedelta(minutes=6), None])
    answer = admin.request(
        client,
        "POST",
        api("acme", f"/clients/{old.client_id}/retire-unused"),
        json={"idle_minutes": 5},
    )
    assert [v["active"] for v in answer.json()["secrets"]] == [False, True]
    assert poll(lambda: request_token(client, old), status_is(401)).status_code == 401
    assert request_token(client, new).status_code == 200
