"""The cache's background poll: a cheap question when nothing changed, the full feed read when
something did, and either keeps what is cached trusted.

Counted in statements, never timed: a poll that finds nothing new runs one query (the feed's
newest id) and no ORM session; one after a change reads the feed.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import event

from gatepass.cache.store import STALE_AFTER, CredentialCache
from tests.factories import Factory


@pytest.fixture
def cache(factory: Factory) -> Iterator[CredentialCache]:
    factory.tenant("acme")
    made = CredentialCache(
        factory.db, public_url=factory.settings.public_url, cipher=factory.cipher, poll=60
    )
    made.start()  # primed; its thread polls only once a minute
    yield made
    made.stop()


@contextmanager
def statements(factory: Factory) -> Iterator[list[str]]:
    seen: list[str] = []

    def note(conn: object, cursor: object, statement: str, *args: object) -> None:
        seen.append(" ".join(statement.split()).lower())

    event.listen(factory.db.engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(factory.db.engine, "before_cursor_execute", note)


def test_a_poll_that_finds_nothing_new_asks_one_question(
    factory: Factory, cache: CredentialCache
) -> None:
    with statements(factory) as seen:
        cache.catch_up()
    assert len(seen) == 1
    assert seen[0].startswith("select max(changes.id)")


def test_a_poll_after_a_change_reads_the_feed(factory: Factory, cache: CredentialCache) -> None:
    factory.client("acme")
    with statements(factory) as seen:
        cache.catch_up()
    assert seen[0].startswith("select max(changes.id)")
    assert any("from changes where changes.id >" in s for s in seen[1:])
    with statements(factory) as seen:
        cache.catch_up()  # the change is read: nothing new any more
    assert len(seen) == 1


@pytest.mark.parametrize("changed", [False, True])
def test_either_poll_keeps_what_is_cached_trusted(
    factory: Factory, cache: CredentialCache, changed: bool
) -> None:
    cache.load_tenant("acme")
    if changed:
        factory.client("acme")  # a client's change: the realm's entry stays
    cache.last_poll_ok = time.monotonic() - 2 * STALE_AFTER  # as after polls that failed
    assert cache.cached_tenant("acme") == (False, None)  # what is cached is not trusted
    cache.catch_up()
    hit, entry = cache.cached_tenant("acme")
    assert hit
    assert entry is not None
