"""Counting requests in fixed windows: API-key rate limits, sign-in and client-secret throttles.

With Redis configured the counts are shared by every process (one round trip per check, however
many buckets it counts). When Redis cannot be reached, each process counts in its own memory
(limits then hold per process rather than globally) and goes back to Redis as soon as it
answers again: after a failure Redis is left alone for ``RETRY_REDIS_AFTER`` seconds, so an
outage costs one failed attempt per second rather than one per request.

In memory, counts lapse when their window ends (``ExpiringMap``): a count runs on the event
loop, so forgetting lapsed ones costs each call a few steps, never a pass over them all.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import time
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Generic, TypeVar

if TYPE_CHECKING:
    from redis.asyncio import Redis

log = logging.getLogger("gatepass.ratelimit")

REDIS_TIMEOUT = 0.5  # seconds
RETRY_REDIS_AFTER = 1.0  # seconds
PURGE_STEPS = 8  # lapsed entries forgotten at most per call, more than any call adds

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


@dataclass(frozen=True, slots=True)
class RateState:
    allowed: bool
    limit: int
    remaining: int
    reset: int  # epoch seconds when the window ends

    def json(self) -> bytes:
        """``{"limit": ..., "remaining": ..., "reset": ...}``, compact."""
        return b'{"limit":%d,"remaining":%d,"reset":%d}' % (self.limit, self.remaining, self.reset)


@dataclass(frozen=True, slots=True)
class Bucket:
    """One count to take: ``limit`` hits per ``period`` seconds under ``name``."""

    name: str
    limit: int
    period: int


class ExpiringMap(Generic[K, V]):
    """A dict whose entries lapse at their own expiry time (epoch seconds).

    Expiry times wait in a heap beside the dict, soonest first, and each call forgets at most
    ``PURGE_STEPS`` lapsed entries: many entries lapsing together cost no one caller a pass over
    them all, and since every call forgets more than it adds, the lapsed ones are soon gone.
    """

    def __init__(self) -> None:
        self._entries: dict[K, tuple[float, V]] = {}  # key -> (expires, value)
        self._expiries: list[tuple[float, int, K]] = []  # heap of (expires, tie-break, key)
        self._order = itertools.count()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: K, now: float) -> V | None:
        """The value under ``key`` if it has not lapsed by ``now``."""
        self._purge(now)
        entry = self._entries.get(key)
        return entry[1] if entry is not None and entry[0] > now else None

    def set(self, key: K, value: V, *, expires: float, now: float) -> None:
        self._purge(now)
        old = self._entries.get(key)
        self._entries[key] = (expires, value)
        if old is None or old[0] != expires:  # else its expiry is already in the heap
            heapq.heappush(self._expiries, (expires, next(self._order), key))

    def _purge(self, now: float) -> None:
        for _ in range(PURGE_STEPS):
            if not self._expiries or self._expiries[0][0] > now:
                return
            expires, _, key = heapq.heappop(self._expiries)
            entry = self._entries.get(key)
            if entry is not None and entry[0] == expires:  # not set again with a later expiry
                del self._entries[key]


class RateLimiter:
    def __init__(self, redis_url: str | None, *, namespace: str = "") -> None:
        self._redis: Redis | None = None
        self._redis_errors: tuple[type[Exception], ...] = ()
        if redis_url:
            # Imported only when Redis is configured: it weighs 6.5 MiB in every process.
            from redis.asyncio import Redis  # noqa: PLC0415
            from redis.backoff import NoBackoff  # noqa: PLC0415
            from redis.exceptions import RedisError  # noqa: PLC0415
            from redis.retry import Retry  # noqa: PLC0415

            self._redis = Redis.from_url(
                redis_url,
                socket_timeout=REDIS_TIMEOUT,
                socket_connect_timeout=REDIS_TIMEOUT,
                retry=Retry(NoBackoff(), 1),  # a connection Redis closed is replaced at once
            )
            self._redis_errors = (RedisError,)
        self._prefix = f"gatepass:rl:{namespace}:" if namespace else "gatepass:rl:"
        self._local: ExpiringMap[tuple[str, int, int], int] = ExpiringMap()  # name, period, window
        self._redis_down_until = 0.0
        self.local_counts = 0  # how many counts were taken locally for want of Redis

    @property
    def local_slots(self) -> int:
        """How many counts this process holds in memory (lapsed ones go a few per call)."""
        return len(self._local)

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
        counts = await self._count(buckets, windows, now)
        return [
            RateState(count <= b.limit, b.limit, max(b.limit - count, 0), (window + 1) * b.period)
            for b, window, count in zip(buckets, windows, counts, strict=True)
        ]

    async def claim(self, name: str, ttl: int) -> bool | None:
        """Take ``name`` for ``ttl`` seconds in Redis (``SET NX EX``): True if no one held it,
        False if someone did, None when there is no Redis to ask (the caller decides)."""
        if self._redis is None or time.monotonic() < self._redis_down_until:
            return None
        try:
            taken = await self._redis.set(f"{self._prefix}{name}", b"1", nx=True, ex=max(ttl, 1))
        except self._redis_errors as exc:
            log.warning("Redis unreachable for a claim: %s", type(exc).__name__)
            self._redis_down_until = time.monotonic() + RETRY_REDIS_AFTER
            return None
        return bool(taken)

    async def _count(self, buckets: Sequence[Bucket], windows: list[int], now: float) -> list[int]:
        if self._redis is not None and time.monotonic() >= self._redis_down_until:
            try:
                counts = await self._redis_count(self._redis, buckets, windows)
            except self._redis_errors as exc:
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
        return [self._local_count(b, w, now) for b, w in zip(buckets, windows, strict=True)]

    def _local_count(self, bucket: Bucket, window: int, now: float) -> int:
        slot = (bucket.name, bucket.period, window)
        count = (self._local.get(slot, now) or 0) + 1
        self._local.set(slot, count, expires=(window + 1) * bucket.period, now=now)
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
