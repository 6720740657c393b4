"""A process warms its cache before its first request: tenants loaded, lookups run once.

What is checked is the mechanism (which statements a first request still runs), never a time.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event

from gatepass.cache.store import CredentialCache
from tests.factories import Factory


@pytest.fixture
def cache(factory: Factory) -> Iterator[CredentialCache]:
    made = CredentialCache(
        factory.db, public_url=factory.settings.public_url, cipher=factory.cipher, poll=60
    )
    yield made
    made.stop()


def test_warm_loads_the_tenants_so_that_a_first_request_reads_none(
    factory: Factory, cache: CredentialCache
) -> None:
    factory.tenant("acme")
    factory.tenant("globex")
    cache.warm()
    statements: list[str] = []

    def note(*args: Any) -> None:
        statements.append(str(args[2]))

    event.listen(factory.db.engine, "before_cursor_execute", note)
    try:
        for slug in ("acme", "globex"):
            hit, entry = cache.cached_tenant(slug)
            assert hit
            assert entry is not None
            assert entry.slug == slug
    finally:
        event.remove(factory.db.engine, "before_cursor_execute", note)
    assert statements == []


def test_warm_caches_no_client_or_key_it_looked_up(
    factory: Factory, cache: CredentialCache
) -> None:
    factory.tenant("acme")
    cache.warm()
    assert cache.clients.values == {}
    assert cache.unknown_clients.values == {}
    assert cache.api_keys.values == {}


def test_warm_survives_a_database_that_fails(
    factory: Factory, cache: CredentialCache, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken() -> None:
        raise OSError("database gone")

    monkeypatch.setattr(cache.db, "read", broken)
    cache.warm()  # logged, not raised: the first requests load what they need
    assert cache.tenants.values == {}
