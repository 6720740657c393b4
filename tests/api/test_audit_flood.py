"""A flood of failed calls is counted in one audit row per source, action, reason and minute
(and per caller, once the caller is known), and costs about one write a second, not one a call."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime

from sqlalchemy import event, select
from sqlalchemy.engine import Engine
from starlette.testclient import TestClient

from gatepass.audit.failures import FailureLog
from gatepass.audit.models import AuditEvent
from gatepass.audit.service import Actor, aggregate_key, record_failure
from gatepass.tenants.models import Tenant
from tests.api.support import (
    Caller,
    api,
    assert_problem,
    bearer_caller,
    flush_failures,
    session_caller,
)
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


@contextmanager
def audit_writes(engine: Engine) -> Iterator[list[str]]:
    """The statements that write audit rows while the block runs, as the database got them."""
    seen: list[str] = []

    def note(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        if "audit_events" in statement and statement.lstrip().upper().startswith("INSERT"):
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", note)


def test_many_failed_calls_make_one_row_with_their_count(
    factory: Factory, client: TestClient
) -> None:
    factory.tenant()
    engine = client.app.services.db.engine  # type: ignore[attr-defined]
    flush_failures(client)
    with audit_writes(engine) as writes:
        for _ in range(25):
            refused = GARBAGE.request(client, "GET", api("acme", "/clients"))
            assert_problem(refused, 401, "unauthenticated")
        flush_failures(client)
    failed = rows(factory, "api.auth_failed")
    assert sum(e.count for e in failed) == 25
    assert len(failed) <= 2  # two only if the calls straddled a minute boundary
    # the first failure of a row at once, the rest in (about one a second) flushes
    assert len(writes) <= 2 * len(failed) + 2
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


def test_the_first_failure_is_written_at_once(factory: Factory, client: TestClient) -> None:
    factory.tenant()
    refused = GARBAGE.request(client, "GET", api("acme", "/clients"))
    assert_problem(refused, 401, "unauthenticated")
    assert [e.count for e in rows(factory, "api.auth_failed")] == [1]


def test_the_app_writes_held_counts_by_itself(factory: Factory, client: TestClient) -> None:
    factory.tenant()
    for _ in range(5):
        GARBAGE.request(client, "GET", api("acme", "/clients"))
    deadline = time.monotonic() + 10
    while sum(e.count for e in rows(factory, "api.auth_failed")) < 5:
        assert time.monotonic() < deadline, "the counts held in memory were never written"
        time.sleep(0.1)


def test_two_users_behind_one_address_are_never_counted_as_one(
    factory: Factory, client: TestClient
) -> None:
    factory.tenant()
    ann = session_caller(client, factory, "acme", role="viewer", email="ann@acme.example.com")
    bob = session_caller(client, factory, "acme", role="viewer", email="bob@acme.example.com")
    for caller in (ann, bob, ann):
        denied = caller.request(client, "POST", api("acme", "/clients"), json={"name": "x"})
        assert denied.status_code == 403, denied.text
    flush_failures(client)
    counted = [(e.actor, e.count) for e in rows(factory, "api.access_denied")]
    assert sorted(counted) == [("ann@acme.example.com", 2), ("bob@acme.example.com", 1)]


def test_a_process_writes_its_counts_when_it_stops(factory: Factory) -> None:
    factory.tenant()
    tid = tenant_id(factory)
    log = FailureLog(factory.db, interval=3600)
    log.start()
    actor = Actor(kind="client", id="(unknown)", source_ip="10.0.0.7")

    def fail() -> None:
        log.record(tenant_id=tid, actor=actor, action="api.auth_failed", reason="x")

    with audit_writes(factory.db.engine) as writes, ThreadPoolExecutor(max_workers=8) as pool:
        for future in [pool.submit(fail) for _ in range(200)]:
            future.result()
        assert sum(e.count for e in rows(factory, "api.auth_failed")) < 200
        log.stop()
    failed = rows(factory, "api.auth_failed")
    assert sum(e.count for e in failed) == 200
    assert len(writes) <= 2 * len(failed)


def test_the_aggregate_key_changes_with_each_part_and_the_minute() -> None:
    at = datetime(2026, 12, 4, 3, 50, 7, tzinfo=UTC)
    one = Actor(kind="client", id="(unknown)", source_ip="10.0.0.1")
    two = Actor(kind="client", id="(unknown)", source_ip="10.0.0.2")
    claimed = Actor(kind="user", id="someone@else.example.com", source_ip="10.0.0.1")
    known = Actor(kind="user", id="ann@acme.example.com", source_ip="10.0.0.1", subject="user:1")
    key = aggregate_key(1, one, "api.auth_failed", "invalid_token", at)
    # one IPv6 host commonly holds a /64: its addresses are one source, as at the throttles
    host = Actor(kind="client", id="(unknown)", source_ip="2001:db8:1:2::1")
    same_host = Actor(kind="client", id="(unknown)", source_ip="2001:db8:1:2:ffff::9")
    other_host = Actor(kind="client", id="(unknown)", source_ip="2001:db8:1:3::1")
    host_key = aggregate_key(1, host, "api.auth_failed", "invalid_token", at)
    assert host_key == aggregate_key(1, same_host, "api.auth_failed", "invalid_token", at)
    assert host_key != aggregate_key(1, other_host, "api.auth_failed", "invalid_token", at)
    assert key == aggregate_key(1, one, "api.auth_failed", "invalid_token", at.replace(second=59))
    # what an unauthenticated caller claims to be does not make a row of its own
    assert key == aggregate_key(1, claimed, "api.auth_failed", "invalid_token", at)
    others = {
        aggregate_key(2, one, "api.auth_failed", "invalid_token", at),
        aggregate_key(1, two, "api.auth_failed", "invalid_token", at),
        aggregate_key(1, one, "api.access_denied", "invalid_token", at),
        aggregate_key(1, one, "api.auth_failed", "role", at),
        aggregate_key(1, one, "api.auth_failed", "invalid_token", at.replace(minute=51)),
        aggregate_key(1, known, "api.auth_failed", "invalid_token", at),
    }
    assert key not in others
    assert len(others) == 6
