"""Throttling wrong client secrets: which counts a failure lands in, and how long to wait.

The limiter here is Gatepass's own, counting in memory (no Redis configured).
"""

from __future__ import annotations

import asyncio

import pytest
from prometheus_client import CollectorRegistry

from gatepass.oauth.throttle import ClientThrottle, ThrottlePolicy, buckets, wait_seconds
from gatepass.ops.ratelimit import RateLimiter, RateState
from tests.windows import wait_for_a_fresh_window

POLICY = ThrottlePolicy(per_source=3, per_client=5, window=3600)


@pytest.fixture(autouse=True)
def one_window() -> None:
    """The tests count failures up to a limit: none straddles the end of a window."""
    wait_for_a_fresh_window(POLICY.window, margin=5)


def test_a_failure_counts_per_client_and_address_and_per_client() -> None:
    by_source, by_client = buckets(POLICY, 1, "billing", "203.0.113.7")
    assert (by_source.limit, by_client.limit) == (3, 5)
    assert by_source.period == by_client.period == 3600
    assert by_source.name.endswith(":203.0.113.7")
    assert by_source.name != by_client.name


def test_buckets_separate_tenants_clients_and_addresses() -> None:
    names = {
        buckets(POLICY, tenant, client, source)[0].name
        for tenant in (1, 2)
        for client in ("a", "b")
        for source in ("10.0.0.1", "10.0.0.2")
    }
    assert len(names) == 8


def test_client_ids_are_not_stored_as_given() -> None:
    by_source, by_client = buckets(POLICY, 1, "a:b\nc" * 50, "::1")
    assert "\n" not in by_source.name + by_client.name
    assert len(by_client.name) < 40


def test_no_wait_while_every_count_is_within_its_limit() -> None:
    states = [RateState(True, 3, 1, 1000), RateState(True, 5, 4, 1000)]
    assert wait_seconds(states, 900.0) == 0


def test_the_wait_runs_to_the_end_of_the_latest_exceeded_window() -> None:
    states = [RateState(False, 3, 0, 1000), RateState(False, 5, 0, 1060)]
    assert wait_seconds(states, 900.5) == 160


def test_the_wait_is_at_least_one_second() -> None:
    assert wait_seconds([RateState(False, 3, 0, 1000)], 999.9) == 1
    assert wait_seconds([RateState(False, 3, 0, 1000)], 1000.0) == 1


def failures(throttle: ClientThrottle, client: str, source: str, count: int) -> list[int]:
    async def run() -> list[int]:
        return [(await throttle.failed(1, client, source)).wait for _ in range(count)]

    return asyncio.run(run())


def test_failures_past_the_address_limit_must_wait() -> None:
    throttle = ClientThrottle(RateLimiter(None), CollectorRegistry(), POLICY)
    waits = failures(throttle, "billing", "10.0.0.1", 5)
    assert [bool(w) for w in waits] == [False, False, False, True, True]
    assert all(0 < w <= POLICY.window for w in waits[3:])


def test_another_address_is_refused_only_once_the_client_ceiling_is_reached() -> None:
    throttle = ClientThrottle(RateLimiter(None), CollectorRegistry(), POLICY)
    failures(throttle, "billing", "10.0.0.1", 3)
    assert failures(throttle, "billing", "10.0.0.2", 2) == [0, 0]  # 5 failures: at the ceiling
    assert failures(throttle, "billing", "10.0.0.3", 1)[0] > 0  # the sixth is over it
    assert failures(throttle, "payroll", "10.0.0.3", 1) == [0]  # other clients are unaffected


def test_a_known_block_is_answered_without_counting_again() -> None:
    limiter = RateLimiter(None)
    throttle = ClientThrottle(limiter, CollectorRegistry(), POLICY)
    failures(throttle, "billing", "10.0.0.1", 4)
    counted = limiter.local_counts
    failures(throttle, "billing", "10.0.0.1", 10)
    assert limiter.local_counts == counted


def test_only_the_first_throttled_attempt_is_news() -> None:
    throttle = ClientThrottle(RateLimiter(None), CollectorRegistry(), POLICY)

    async def run() -> list[bool]:
        return [(await throttle.failed(1, "billing", "10.0.0.1")).repeated for _ in range(6)]

    assert asyncio.run(run()) == [False, False, False, False, True, True]


def test_the_counters_say_what_happened() -> None:
    registry = CollectorRegistry()
    throttle = ClientThrottle(RateLimiter(None), registry, POLICY)
    failures(throttle, "billing", "10.0.0.1", 6)
    assert registry.get_sample_value("gatepass_client_auth_failures_total") == 6
    assert registry.get_sample_value("gatepass_client_auth_throttled_total") == 3
