"""Counting requests in fixed windows: API-key rate limits, sign-in and client-secret throttles.

With Redis configured the counts are shared by every process (one round trip per check, however
many buckets it counts). When Redis cannot be reached, each process counts in its own memory
(limits then hold per process rather than globally) and goes back to Redis as soon as it
answers again: after a failure Redis is left alone for ``RETRY_REDIS_AFTER`` seconds, so an
outage costs one failed attempt per second rather than one per request.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass

from redis.asyncio import Redis
from redis.backoff import NoBackoff
from redis.exceptions import RedisError
from redis.retry import Retry

log = logging.getLogger("gatepass.ratelimit")

REDIS_TIMEOUT = 0.5  # seconds
RETRY_REDIS_AFTER = 1.0  # seconds
MAX_LOCAL_SLOTS = 100_000


@dataclass(frozen=True, slots=True)
class RateState:
    allowed: bool
    limit: int
    remaining: int
    reset: int  # epoch seconds when the window ends

    def as_dict(self) -> dict[str, int]:
        return {"limit": self.limit, "remaining": self.remaining, "reset": self.reset}


@dataclass(frozen=True, slots=True)
class Bucket:
    """One count to take: ``limit`` hits per ``period`` seconds under ``name``."""

    name: str
    limit: int
    period: int


class RateLimiter:
    def __init__(self, redis_url: str | None, *, namespace: str = "") -> None:
        self._redis = (
            Redis.from_url(
                redis_url,
                socket_timeout=REDIS_TIMEOUT,
                socket_connect_timeout=REDIS_TIMEOUT,
                retry=Retry(NoBackoff(), 1),  # a connection Redis closed is replaced at once
            )
            if redis_url
            else None
        )
        self._prefix = f"gatepass:rl:{namespace}:" if namespace else "gatepass:rl:"
        self._local: dict[tuple[str, int], tuple[int, int]] = {}  # (name, period): window, count
        self._redis_down_until = 0.0
        self.local_counts = 0  # how many counts were taken locally for want of Redis

    @property
    def shared(self) -> bool:
        """Counts currently go to Redis (configured, and not failing)."""
        return self._redis is not None and time.monotonic() >= self._redis_down_until

    async def hit(self, bucket: str, limit: int, period: int) -> RateState:
        return (await self.hit_all((Bucket(bucket, limit, period),)))[0]

    async def hit_all(self, buckets: Sequence[Bucket]) -> list[RateState]:
        """Count one hit in each bucket and say, for each, whether it is within its limit."""
        now = time.time()
        windows = [int(now // b.period) for b in buckets]
        counts = await self._count(buckets, windows)
        return [
            RateState(count <= b.limit, b.limit, max(b.limit - count, 0), (window + 1) * b.period)
            for b, window, count in zip(buckets, windows, counts, strict=True)
        ]

    async def _count(self, buckets: Sequence[Bucket], windows: list[int]) -> list[int]:
        if self._redis is not None and time.monotonic() >= self._redis_down_until:
            try:
                counts = await self._redis_count(self._redis, buckets, windows)
            except RedisError as exc:
                if self._redis_down_until == 0.0:
                    log.warning(
                        "Redis unreachable, counting in this process: %s", type(exc).__name__
                    )
                self._redis_down_until = time.monotonic() + RETRY_REDIS_AFTER
            else:
                if self._redis_down_until:
                    log.info("Redis reachable again, counting there")
                    self._redis_down_until = 0.0
                return counts
        self.local_counts += 1
        return [self._local_count(b, w) for b, w in zip(buckets, windows, strict=True)]

    def _local_count(self, bucket: Bucket, window: int) -> int:
        if len(self._local) > MAX_LOCAL_SLOTS:
            now = time.time()
            self._local = {
                slot: value for slot, value in self._local.items() if value[0] >= now // slot[1]
            }
        slot = (bucket.name, bucket.period)
        last_window, count = self._local.get(slot, (window, 0))
        count = count + 1 if last_window == window else 1
        self._local[slot] = (window, count)
        return count

    async def _redis_count(
        self, redis: Redis, buckets: Sequence[Bucket], windows: list[int]
    ) -> list[int]:
        async with redis.pipeline(transaction=False) as pipe:
            for bucket, window in zip(buckets, windows, strict=True):
                name = f"{self._prefix}{bucket.name}:{window}"
                pipe.incr(name)
                pipe.expire(name, bucket.period + 1)
            replies = await pipe.execute()
        return [int(count) for count in replies[::2]]

    async def close(self) -> None:
        if self._redis is not None:
            await self._redis.aclose()
