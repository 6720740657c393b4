"""Per-key rate limits in fixed windows: in Redis when configured (shared by every process),
in process memory otherwise."""

from __future__ import annotations

import time
from dataclasses import dataclass

from redis.asyncio import Redis
from redis.exceptions import RedisError


@dataclass(frozen=True, slots=True)
class RateState:
    allowed: bool
    limit: int
    remaining: int
    reset: int  # epoch seconds when the window ends

    def as_dict(self) -> dict[str, int]:
        return {"limit": self.limit, "remaining": self.remaining, "reset": self.reset}


class RateLimiter:
    def __init__(self, redis_url: str | None) -> None:
        self._redis = Redis.from_url(redis_url, socket_timeout=0.5) if redis_url else None
        self._local: dict[tuple[str, int], int] = {}

    async def hit(self, bucket: str, limit: int, period: int) -> RateState:
        now = time.time()
        window = int(now // period)
        reset = (window + 1) * period
        count = await self._count(bucket, window, period)
        return RateState(count <= limit, limit, max(limit - count, 0), reset)

    async def _count(self, bucket: str, window: int, period: int) -> int:
        if self._redis is not None:
            try:
                return await _redis_count(self._redis, bucket, window, period)
            except RedisError:
                pass  # Redis down: fall back to this process's own counts
        slot = (bucket, window)
        if len(self._local) > 100_000:
            self._local = {k: v for k, v in self._local.items() if k[1] >= window}
        self._local[slot] = self._local.get(slot, 0) + 1
        return self._local[slot]

    async def close(self) -> None:
        if self._redis is not None:
            await self._redis.aclose()


async def _redis_count(redis: Redis, bucket: str, window: int, period: int) -> int:
    name = f"gatepass:rl:{bucket}:{window}"
    async with redis.pipeline(transaction=False) as pipe:
        pipe.incr(name)
        pipe.expire(name, period + 1)
        count, _ = await pipe.execute()
    return int(count)
