"""How long one rate-limit count takes when Redis is away and memory holds many slots.

    .venv/bin/python bench/ratelimit_expiry.py [--slots 100000] [--calls 2000]

Without Redis every process counts in its own memory, and a count runs on the event loop:
whatever it costs, every other request of that process waits for. Each scenario fills one
in-memory limiter (or throttle) and then times single calls, one by one:

- ``live``: ``--slots`` slots still inside their window, and each timed call a new caller (one
  new slot per call, as failed authentications from ever new addresses would be);
- ``lapsed``: ``--slots`` slots whose window ends together (the same 2-second window), timed
  from the first call after it ends;
- ``failed-auth``: ``ClientThrottle.failed`` (two counts per call) with ``--slots`` live slots;
- ``blocked``: ``ClientThrottle.failed`` with ``--slots`` counts this process already refused
  (and so remembers until their window ends), each timed call refusing two more.

Prints the median, p99 and maximum time per call in milliseconds, as a JSON line per scenario.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from collections.abc import Awaitable, Callable

from prometheus_client import CollectorRegistry

from gatepass.oauth.throttle import ClientThrottle, ThrottlePolicy
from gatepass.ops.ratelimit import Bucket, RateLimiter

DAY = 86_400  # windows end at midnight UTC: none ends while a run fills and times


async def timed(call: Callable[[int], Awaitable[object]], calls: int) -> dict[str, float]:
    took = []
    for i in range(calls):
        start = time.perf_counter()
        await call(i)
        took.append((time.perf_counter() - start) * 1000)
    took.sort()
    return {
        "median_ms": round(statistics.median(took), 4),
        "p99_ms": round(took[int(len(took) * 0.99) - 1], 4),
        "max_ms": round(took[-1], 4),
    }


async def fill(limiter: RateLimiter, slots: int, period: int) -> None:
    await limiter.hit_all([Bucket(f"fill:{i}", 10, period) for i in range(slots)])


async def live(slots: int, calls: int) -> dict[str, float]:
    limiter = RateLimiter(None)
    await fill(limiter, slots, DAY)
    return await timed(lambda i: limiter.hit(f"new:{i}", 10, DAY), calls)


async def lapsed(slots: int, calls: int) -> dict[str, float]:
    limiter = RateLimiter(None)
    period = 2
    await asyncio.sleep(period - time.time() % period + 0.05)  # a whole window ahead
    await fill(limiter, slots, period)
    await asyncio.sleep(period - time.time() % period + 0.05)  # ... and now it has ended
    return await timed(lambda i: limiter.hit(f"new:{i}", 10, period), calls)


async def failed_auth(slots: int, calls: int) -> dict[str, float]:
    limiter = RateLimiter(None)
    await fill(limiter, slots, DAY)
    throttle = ClientThrottle(limiter, CollectorRegistry(), ThrottlePolicy(window=DAY))
    return await timed(lambda i: throttle.failed(1, f"client-{i}", "203.0.113.7"), calls)


async def blocked(slots: int, calls: int) -> dict[str, float]:
    policy = ThrottlePolicy(per_source=0, per_client=0, window=DAY)  # every failure refused
    throttle = ClientThrottle(RateLimiter(None), CollectorRegistry(), policy)
    for i in range(slots // 2):  # two refused counts per failure
        await throttle.failed(1, f"fill-{i}", "203.0.113.7")
    return await timed(lambda i: throttle.failed(1, f"new-{i}", "203.0.113.7"), calls)


SCENARIOS = {"live": live, "lapsed": lapsed, "failed-auth": failed_auth, "blocked": blocked}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slots", type=int, default=100_000)
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--only", choices=sorted(SCENARIOS), action="append")
    args = parser.parse_args()
    for name in args.only or SCENARIOS:
        result = asyncio.run(SCENARIOS[name](args.slots, args.calls))
        print(json.dumps({"scenario": name, "slots": args.slots, **result}), flush=True)


if __name__ == "__main__":
    main()
