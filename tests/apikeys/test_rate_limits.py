"""Rate limits are counted per key: shared by every process through Redis when configured."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any

import pytest
import redis
from starlette.testclient import TestClient

from gatepass.apikeys.service import RateLimit
from gatepass.app import create_app
from gatepass.changes.bus import NoticeKey
from gatepass.settings import Settings
from tests.apikeys.support import (
    Key,
    create_key,
    delete,
    in_one_window,
    verifier,
    verify,
)
from tests.factories import Factory


@pytest.fixture
def two_apps(settings: Settings, redis_url: str) -> Iterator[tuple[TestClient, TestClient]]:
    """Two separate Gatepass apps (as two processes would be) on one database and one Redis."""
    shared = settings.model_copy(update={"redis_url": redis_url})
    with ExitStack() as stack:
        first = stack.enter_context(TestClient(create_app(shared), base_url="http://testserver"))
        second = stack.enter_context(TestClient(create_app(shared), base_url="http://testserver"))
        yield first, second


def forget_counts(redis_url: str, factory: Factory) -> None:
    """Drop rate-limit counters of this test's deployment (named by its secret key) left in
    Redis, which outlives the test's database; another test's counters, perhaps live in another
    test process, are left alone."""
    namespace = NoticeKey.from_master_key(factory.settings.master_key()).namespace
    connection = redis.Redis.from_url(redis_url)
    try:
        stale = list(connection.scan_iter(match=f"gatepass:rl:{namespace}:*"))
        if stale:
            connection.delete(*stale)
    finally:
        connection.close()


def test_two_apps_share_the_count_through_redis(
    factory: Factory, two_apps: tuple[TestClient, TestClient], redis_url: str
) -> None:
    first, second = two_apps
    forget_counts(redis_url, factory)
    factory.tenant()
    caller = verifier(factory)
    keys: list[Key] = []

    def calls() -> list[Any]:
        keys.append(create_key(factory, rate_limit=RateLimit(limit=2, period=60)))
        secret = keys[-1].secret
        return [
            verify(first, caller, secret),
            verify(second, caller, secret),
            verify(second, caller, secret),
            verify(first, caller, secret),
        ]

    answers = in_one_window(calls)

    codes = [(a["code"], a["rate_limit"]["remaining"]) for a in answers]
    assert codes == [("VALID", 1), ("VALID", 0), ("RATE_LIMITED", 0), ("RATE_LIMITED", 0)]


def test_a_new_key_does_not_inherit_the_count_of_a_deleted_one(
    factory: Factory, client: TestClient
) -> None:
    factory.tenant()
    caller = verifier(factory)
    limit = RateLimit(limit=2, period=3600)

    def calls() -> list[Any]:
        spent = create_key(factory, name="spent", rate_limit=limit)
        answers = [verify(client, caller, spent.secret) for _ in range(3)]
        assert answers[-1]["code"] == "RATE_LIMITED"
        delete(factory, spent)
        fresh = create_key(factory, name="fresh", rate_limit=limit)
        return [*answers, verify(client, caller, fresh.secret)]

    answer = in_one_window(calls)[-1]

    assert answer["code"] == "VALID"
    assert answer["rate_limit"]["remaining"] == 1
