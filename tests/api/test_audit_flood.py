"""A flood of failed calls is counted in one audit row per source, action, reason and minute."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from sqlalchemy import select
from starlette.testclient import TestClient

from gatepass.audit.models import AuditEvent
from gatepass.audit.service import Actor, aggregate_key, record_failure
from gatepass.tenants.models import Tenant
from tests.api.support import Caller, api, assert_problem, bearer_caller
from tests.factories import Factory

GARBAGE = Caller("garbage", {"authorization": "Bearer x"}, {})


def rows(factory: Factory, action: str) -> list[AuditEvent]:
    with factory.db.transaction() as session:
        found = session.scalars(
            select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        ).all()
        session.expunge_all()
        return list(found)


def tenant_id(factory: Factory) -> int:
    with factory.db.transaction() as session:
        return session.scalars(select(Tenant.id).where(Tenant.slug == "acme")).one()


def test_many_failed_calls_make_one_row_with_their_count(
    factory: Factory, client: TestClient
) -> None:
    factory.tenant()
    for _ in range(25):
        refused = GARBAGE.request(client, "GET", api("acme", "/clients"))
        assert_problem(refused, 401, "unauthenticated")
    failed = rows(factory, "api.auth_failed")
    assert sum(e.count for e in failed) == 25
    assert len(failed) <= 2  # two only if the calls straddled a minute boundary
    admin = bearer_caller(client, factory, "acme")
    listed = admin.request(client, "GET", api("acme", "/audit-events"))
    shown = [e for e in listed.json()["items"] if e["action"] == "api.auth_failed"]
    assert sum(e["count"] for e in shown) == 25
    assert shown[0]["details"]["reason"] == "invalid_token"


def test_a_success_is_still_its_own_row(factory: Factory, client: TestClient) -> None:
    factory.tenant()
    admin = bearer_caller(client, factory, "acme")
    for name in ("one", "two"):
        made = admin.request(client, "POST", api("acme", "/clients"), json={"name": name})
        assert made.status_code == 201, made.text
    created = rows(factory, "client.create")[-2:]
    assert [e.count for e in created] == [1, 1]
    assert [e.aggregate_key for e in created] == [None, None]


def test_sources_actions_and_reasons_keep_separate_rows(factory: Factory) -> None:
    factory.tenant()
    tid = tenant_id(factory)
    here = Actor(kind="client", id="(unknown)", source_ip="10.0.0.1")
    there = Actor(kind="client", id="(unknown)", source_ip="10.0.0.2")
    calls = [
        (here, "api.auth_failed", "invalid_token"),
        (here, "api.auth_failed", "invalid_token"),
        (there, "api.auth_failed", "invalid_token"),
        (here, "api.access_denied", "role"),
        (here, "api.access_denied", "csrf"),
    ]
    with factory.db.transaction() as session:
        for actor, action, reason in calls:
            record_failure(session, tenant_id=tid, actor=actor, action=action, reason=reason)
    failed = rows(factory, "api.auth_failed")
    assert sorted((e.source_ip, e.count) for e in failed) == [("10.0.0.1", 2), ("10.0.0.2", 1)]
    denied = rows(factory, "api.access_denied")
    assert sorted((e.details["reason"], e.count) for e in denied) == [("csrf", 1), ("role", 1)]


def test_concurrent_writers_lose_no_count(factory: Factory) -> None:
    factory.tenant()
    tid = tenant_id(factory)
    actor = Actor(kind="client", id="(unknown)", source_ip="10.0.0.9")

    def fail() -> None:
        with factory.db.transaction() as session:
            record_failure(
                session, tenant_id=tid, actor=actor, action="api.auth_failed", reason="x"
            )

    with ThreadPoolExecutor(max_workers=8) as pool:
        for future in [pool.submit(fail) for _ in range(80)]:
            future.result()
    failed = rows(factory, "api.auth_failed")
    assert sum(e.count for e in failed) == 80
    assert len(failed) <= 2


def test_the_aggregate_key_changes_with_each_part_and_the_minute() -> None:
    at = datetime(2026, 12, 4, 3, 50, 7, tzinfo=UTC)
    key = aggregate_key(1, "10.0.0.1", "api.auth_failed", "invalid_token", at)
    assert key == aggregate_key(
        1, "10.0.0.1", "api.auth_failed", "invalid_token", at.replace(second=59)
    )
    others = {
        aggregate_key(2, "10.0.0.1", "api.auth_failed", "invalid_token", at),
        aggregate_key(1, "10.0.0.2", "api.auth_failed", "invalid_token", at),
        aggregate_key(1, "10.0.0.1", "api.access_denied", "invalid_token", at),
        aggregate_key(1, "10.0.0.1", "api.auth_failed", "role", at),
        aggregate_key(1, "10.0.0.1", "api.auth_failed", "invalid_token", at.replace(minute=51)),
    }
    assert key not in others
    assert len(others) == 5
