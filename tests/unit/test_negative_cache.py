"""Looking up an unknown client ID costs what looking up a known one costs.

Timing itself is never asserted here; the mechanism is: a first lookup runs the same queries
either way, a second one runs none (a bounded cache of misses), and creating a client under a
missed ID makes it found as soon as the change is seen.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event, select

from gatepass.cache.store import CredentialCache
from gatepass.changes import feed
from gatepass.changes.bus import Notice
from gatepass.tenants.models import Tenant
from tests.factories import Factory


@pytest.fixture
def cache(factory: Factory) -> Iterator[CredentialCache]:
    made = CredentialCache(
        factory.db,
        public_url=factory.settings.public_url,
        cipher=factory.cipher,
        poll=0.05,
    )
    yield made
    made.stop()


def tenant_id(factory: Factory, slug: str = "acme") -> int:
    factory.tenant(slug)
    with factory.db.read() as session:
        found = session.scalar(select(Tenant.id).where(Tenant.slug == slug))
    assert found is not None
    return found


@contextmanager
def counted(factory: Factory) -> Iterator[list[str]]:
    """The SQL statements run on the factory's engine inside the block."""
    statements: list[str] = []

    def note(*args: Any) -> None:
        statements.append(str(args[2]))

    event.listen(factory.db.engine, "before_cursor_execute", note)
    try:
        yield statements
    finally:
        event.remove(factory.db.engine, "before_cursor_execute", note)


def lookup(cache: CredentialCache, tenant: int, client_id: str) -> object:
    """What the protocol endpoints do: the cache, and the database on a miss."""
    hit, entry = cache.cached_client(tenant, client_id)
    return entry if hit else cache.load_client(tenant, client_id)


def test_a_second_lookup_of_an_unknown_client_runs_no_query(
    factory: Factory, cache: CredentialCache
) -> None:
    tenant = tenant_id(factory)
    assert lookup(cache, tenant, "nobody") is None
    with counted(factory) as statements:
        assert lookup(cache, tenant, "nobody") is None
    assert statements == []


def test_a_first_lookup_runs_the_same_queries_for_known_and_unknown_clients(
    factory: Factory, cache: CredentialCache
) -> None:
    tenant = tenant_id(factory)
    known = factory.client(groups_=("emea",))
    with counted(factory) as for_known:
        assert lookup(cache, tenant, known.client_id) is not None
    with counted(factory) as for_unknown:
        assert lookup(cache, tenant, "nobody") is None
    assert len(for_known) == len(for_unknown) == 4
    assert for_known == for_unknown  # the same statements, only the bound values differ


def test_a_client_created_under_a_missed_id_is_found_once_the_feed_is_read(
    factory: Factory, cache: CredentialCache
) -> None:
    tenant = tenant_id(factory)
    cache.start()
    assert lookup(cache, tenant, "late-comer") is None
    factory.client(client_id="late-comer")
    cache.poll_once()
    entry = lookup(cache, tenant, "late-comer")
    assert entry is not None


def test_a_client_created_under_a_missed_id_is_found_on_its_change_notice(
    factory: Factory, cache: CredentialCache
) -> None:
    tenant = tenant_id(factory)
    assert lookup(cache, tenant, "late-comer") is None
    factory.client(client_id="late-comer")
    cache.apply_notice(Notice(tenant, feed.KIND_CLIENT, "late-comer"))
    assert lookup(cache, tenant, "late-comer") is not None


def test_a_flood_of_unknown_ids_does_not_push_known_clients_out(
    factory: Factory, cache: CredentialCache
) -> None:
    tenant = tenant_id(factory)
    known = factory.client()
    cache.clients.limit = cache.unknown_clients.limit = 5
    assert lookup(cache, tenant, known.client_id) is not None
    for n in range(50):
        assert lookup(cache, tenant, f"made-up-{n}") is None
    hit, entry = cache.cached_client(tenant, known.client_id)
    assert hit
    assert entry is not None
    assert len(cache.unknown_clients.values) <= 5


def test_misses_are_kept_per_tenant(factory: Factory, cache: CredentialCache) -> None:
    acme, globex = tenant_id(factory, "acme"), tenant_id(factory, "globex")
    assert lookup(cache, globex, "shared-name") is None
    factory.client("acme", client_id="shared-name")
    assert lookup(cache, acme, "shared-name") is not None
    assert lookup(cache, globex, "shared-name") is None
