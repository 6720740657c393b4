"""Prometheus metrics, one registry per app; multi-process aware under ``serve --workers``."""

from __future__ import annotations

import os
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

        self._children: dict[tuple[str, str], tuple[Any, Any]] = {}

    def observe(self, endpoint: str, outcome: str, seconds: float) -> None:
        """Count one protocol request; label lookups are cached (they cost more than the count)."""
        children = self._children.get((endpoint, outcome))
        if children is None:
            children = (self.requests.labels(endpoint, outcome), self.latency.labels(endpoint))
            self._children[(endpoint, outcome)] = children
        children[0].inc()
        children[1].observe(seconds)

    def render(self) -> bytes:
        directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
        if directory:
            registry = CollectorRegistry()
            MultiProcessCollector(registry, path=directory)  # type: ignore[no-untyped-call]
            return generate_latest(registry)
        return generate_latest(self.registry)
