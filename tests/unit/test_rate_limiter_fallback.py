"""Rate limits when Redis cannot be reached: counted in this process, and Redis tried again."""

from __future__ import annotations

import asyncio
import socket

from gatepass.ops.ratelimit import Bucket, RateLimiter


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port  # nothing listens there once the probe is closed


def test_counts_stay_in_this_process_while_redis_is_unreachable() -> None:
    async def run() -> list[bool]:
        limiter = RateLimiter(f"redis://127.0.0.1:{closed_port()}/0", namespace="t")
        try:
            states = [await limiter.hit("key", 2, 60) for _ in range(3)]
            assert not limiter.shared
            assert limiter.local_counts == 3
            return [s.allowed for s in states]
        finally:
            await limiter.close()

    assert asyncio.run(run()) == [True, True, False]


def test_one_check_counts_every_bucket() -> None:
    async def run() -> list[list[bool]]:
        limiter = RateLimiter(None)
        pair = (Bucket("a", 1, 60), Bucket("b", 2, 60))
        return [[s.allowed for s in await limiter.hit_all(pair)] for _ in range(3)]

    assert asyncio.run(run()) == [[True, True], [False, True], [False, False]]


def test_windows_of_different_lengths_are_counted_apart() -> None:
    async def run() -> tuple[int, int]:
        limiter = RateLimiter(None)
        await limiter.hit("key", 5, 60)
        short = await limiter.hit("key", 5, 60)
        long = await limiter.hit("key", 5, 3600)
        return short.remaining, long.remaining

    assert asyncio.run(run()) == (3, 4)
