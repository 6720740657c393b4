"""Prometheus metrics, one registry per app; multi-process aware under ``serve --workers``.

A protocol request is noted in memory and added to the metrics by ``flush``: every second (the
app's lifespan runs it) and before each scrape of the process. Counting it at once costs ~2 µs
in one process and ~4.5 µs under ``--workers`` (three locked writes to a file shared with the
scrape), a few per cent of a token; a flush adds a second's worth at the cost of a few.
"""

from __future__ import annotations

import asyncio
import os
from bisect import bisect_left
from collections import deque
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

LATENCY_BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "gatepass_oauth_requests",
            "OAuth protocol requests by endpoint and outcome (issued, active, or the error code)",
            ["endpoint", "outcome"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "gatepass_oauth_request_duration_seconds",
            "Time spent serving OAuth protocol requests",
            ["endpoint"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )

        # The durations of the requests not yet added, by endpoint and outcome (a float is no
        # object the garbage collector tracks: noting a request leaves it nothing to count).
        self._pending: dict[tuple[str, str], deque[float]] = {}

    def observe(self, endpoint: str, outcome: str, seconds: float) -> None:
        """Count one protocol request (at the next ``flush``)."""
        pending = self._pending.get((endpoint, outcome))
        if pending is None:
            pending = self._pending.setdefault((endpoint, outcome), deque())
        pending.append(seconds)

    def flush(self) -> None:
        """Add the requests noted since the last flush to the metrics. Safe from any thread:
        each noted request is taken by one flush."""
        latencies: dict[str, list[float]] = {}
        for (endpoint, outcome), pending in list(self._pending.items()):
            values = [pending.popleft() for _ in range(len(pending))]
            if values:
                self.requests.labels(endpoint, outcome).inc(len(values))
                latencies.setdefault(endpoint, []).extend(values)
        for endpoint, values in latencies.items():
            observe_all(self.latency.labels(endpoint), values)

    async def flush_every(self, seconds: float) -> None:
        """Flush, then again every ``seconds``, until cancelled (then once more)."""
        try:
            while True:
                self.flush()
                await asyncio.sleep(seconds)
        finally:
            self.flush()

    def render(self) -> bytes:
        self.flush()
        directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
        if directory:
            registry = CollectorRegistry()
            MultiProcessCollector(registry, path=directory)  # type: ignore[no-untyped-call]
            return generate_latest(registry)
        return generate_latest(self.registry)


def observe_all(histogram: Any, values: list[float]) -> None:
    """``histogram.observe(v)`` for each of ``values``, with one write per bucket and one for the
    sum. prometheus_client has no call for it: this reads the bucket bounds and adds to the bucket
    and sum values as its ``observe`` does (a test compares the two)."""
    bounds = histogram._upper_bounds
    counts = [0] * len(bounds)
    for value in values:
        counts[bisect_left(bounds, value)] += 1
    histogram._sum.inc(sum(values))
    for bucket, count in zip(histogram._buckets, counts, strict=True):
        if count:
            bucket.inc(count)
