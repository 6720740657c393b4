"""In-memory counts lapse with their window, a few per call: no call pays for all of them.

The work of one call is measured as the Python lines it runs in Gatepass's own code, so the
tests say nothing about this machine's speed.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Coroutine
from pathlib import Path
from types import FrameType
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

import gatepass
from gatepass.oauth.throttle import ClientThrottle, ThrottlePolicy
from gatepass.ops.ratelimit import Bucket, ExpiringMap, RateLimiter
from gatepass.sessions.throttle import SignInPolicy, SignInThrottle

MANY = 20_000  # a pass over them all would run 40x the lines one call may (500)
DAY = 86_400
PACKAGE = str(Path(gatepass.__file__).parent)


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock(1_000 * DAY + 10.0)  # 10 s into a day, and into every shorter window
    monkeypatch.setattr("time.time", fake)
    return fake


def lines_run(call: Coroutine[Any, Any, object]) -> int:
    """Run a coroutine that never suspends (no Redis) and count the lines it runs in gatepass."""
    count = 0

    def trace(frame: FrameType, event: str, arg: object) -> Any:
        nonlocal count
        if not frame.f_code.co_filename.startswith(PACKAGE):
            return None
        if event == "line":
            count += 1
        return trace

    sys.settrace(trace)
    try:
        call.send(None)
    except StopIteration:
        pass
    else:  # pragma: no cover
        raise AssertionError("the call waited for something")
    finally:
        sys.settrace(None)
    return count


def fill(limiter: RateLimiter, slots: int, period: int) -> None:
    asyncio.run(limiter.hit_all([Bucket(f"fill:{i}", 10, period) for i in range(slots)]))


def test_a_new_slot_costs_the_same_however_many_are_live(clock: Clock) -> None:
    few, many = RateLimiter(None), RateLimiter(None)
    fill(few, 10, DAY)
    fill(many, MANY, DAY)
    assert lines_run(many.hit("new", 10, DAY)) <= lines_run(few.hit("new", 10, DAY)) + 5


def test_slots_lapsing_together_are_forgotten_a_few_per_call(clock: Clock) -> None:
    limiter = RateLimiter(None)
    fill(limiter, MANY, 60)
    clock.now += 60
    assert lines_run(limiter.hit("new", 10, 60)) < 500
    assert MANY - 100 < limiter.local_slots < MANY


def test_a_refusal_costs_the_same_however_many_are_remembered(clock: Clock) -> None:
    refuse_all = ThrottlePolicy(per_source=0, per_client=0, window=DAY)

    def throttle(remembered: int) -> ClientThrottle:
        made = ClientThrottle(RateLimiter(None), CollectorRegistry(), refuse_all)
        for i in range(remembered // 2):  # two refused counts per failure
            asyncio.run(made.failed(1, f"fill-{i}", "203.0.113.7"))
        return made

    few, many = throttle(10), throttle(MANY // 2)
    cost_few = lines_run(few.failed(1, "new", "203.0.113.7"))
    assert lines_run(many.failed(1, "new", "203.0.113.7")) <= cost_few + 5


def test_a_sign_in_refusal_costs_the_same_however_many_are_remembered(clock: Clock) -> None:
    refuse_all = SignInPolicy(per_source=0, per_source_account=0, window=DAY)

    def throttle(remembered: int) -> SignInThrottle:
        made = SignInThrottle(RateLimiter(None), refuse_all)
        for i in range(remembered // 2):
            asyncio.run(
                made.decide(f"{i}@example.com", f"10.{i // 65536}.{i // 256 % 256}.{i % 256}")
            )
        return made

    few, many = throttle(10), throttle(MANY // 2)
    cost_few = lines_run(few.decide("new@example.com", "203.0.113.7"))
    assert lines_run(many.decide("new@example.com", "203.0.113.7")) <= cost_few + 5


def test_limits_still_hold_and_a_window_starts_afresh(clock: Clock) -> None:
    limiter = RateLimiter(None)

    def allowed(count: int) -> list[bool]:
        return [asyncio.run(limiter.hit("key", 2, 60)).allowed for _ in range(count)]

    assert allowed(3) == [True, True, False]
    clock.now += 49.9  # still the same window
    assert allowed(1) == [False]
    clock.now += 0.1  # the next one
    assert allowed(3) == [True, True, False]


def test_memory_returns_to_the_live_slots_once_windows_end(clock: Clock) -> None:
    limiter = RateLimiter(None)
    fill(limiter, 1000, 60)
    clock.now += 60
    for _ in range(100):
        asyncio.run(limiter.hit("key", 10, 60))
    assert limiter.local_slots == 1


def test_an_expiring_map_empties_as_its_entries_lapse() -> None:
    entries: ExpiringMap[str, int] = ExpiringMap()
    for i in range(1000):
        entries.set(f"k{i}", i, expires=100.0 + i % 3, now=0.0)
    entries.set("k0", 7, expires=500.0, now=0.0)  # set again: lives on
    assert entries.get("k1", 99.0) == 1
    assert entries.get("k1", 101.0) is None  # lapsed, whether or not forgotten yet
    for _ in range(200):
        entries.get("other", 200.0)
    assert len(entries) == 1
    assert entries.get("k0", 200.0) == 7
