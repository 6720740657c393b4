"""Protocol requests are noted in memory and added to the Prometheus metrics in batches; the
metrics a scrape reads are the ones counting each request at once would give."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

from gatepass.ops.metrics import LATENCY_BUCKETS, Metrics

# Each bucket's bound, just under and over it, nothing, and past the last bucket.
SECONDS = [b + d for b in LATENCY_BUCKETS for d in (-1e-9, 0.0, 1e-9)] + [0.0, 3.0, 60.0]
REQUESTS = (
    [("token", "ok", SECONDS[i % len(SECONDS)]) for i in range(200)]
    + [("verify", "ok", s) for s in SECONDS]
    + [("token", "invalid_client", 0.002)] * 3
)


def one_at_a_time(requests: list[tuple[str, str, float]]) -> bytes:
    """What prometheus_client's own calls give, one request at a time."""
    registry = CollectorRegistry()
    counter = Counter("gatepass_oauth_requests", "x", ["endpoint", "outcome"], registry=registry)
    histogram = Histogram(
        "gatepass_oauth_request_duration_seconds",
        "x",
        ["endpoint"],
        buckets=LATENCY_BUCKETS,
        registry=registry,
    )
    for endpoint, outcome, seconds in requests:
        counter.labels(endpoint, outcome).inc()
        histogram.labels(endpoint).observe(seconds)
    return generate_latest(registry)


def samples(text: bytes) -> list[str]:
    """The exposition's samples, without help texts and creation times."""
    return [
        line
        for line in text.decode().splitlines()
        if not line.startswith("#") and "_created" not in line
    ]


def test_a_flush_gives_the_metrics_of_counting_each_request_at_once() -> None:
    metrics = Metrics()
    for request in REQUESTS:
        metrics.observe(*request)
    before = samples(generate_latest(metrics.registry))
    metrics.flush()
    assert samples(metrics.render()) == samples(one_at_a_time(REQUESTS))
    assert not any("gatepass_oauth_requests_total" in line for line in before)


def test_a_scrape_sees_what_was_noted_before_it() -> None:
    metrics = Metrics()
    metrics.observe("token", "ok", 0.001)
    assert 'gatepass_oauth_requests_total{endpoint="token",outcome="ok"} 1.0' in samples(
        metrics.render()
    )


def test_requests_noted_while_another_thread_flushes_are_all_counted() -> None:
    metrics = Metrics()
    done = threading.Event()

    def flush() -> None:
        while not done.is_set():
            metrics.flush()

    flusher = threading.Thread(target=flush)
    flusher.start()
    for _ in range(50_000):
        metrics.observe("token", "ok", 0.001)
    done.set()
    flusher.join()
    assert 'gatepass_oauth_requests_total{endpoint="token",outcome="ok"} 50000.0' in samples(
        metrics.render()
    )


SCRIPT = """
import sys
from gatepass.ops.metrics import Metrics
sys.path.insert(0, {tests!r})
from test_metrics_flush import REQUESTS
metrics = Metrics()
for request in REQUESTS:
    metrics.observe(*request)
sys.stdout.buffer.write(metrics.render())
"""


def test_under_several_workers_the_files_shared_with_the_scrape_get_the_same(
    tmp_path: Path,
) -> None:
    """``serve --workers N``: each process writes its metrics to files, and a scrape adds them."""
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    script = SCRIPT.format(tests=str(Path(__file__).parent))
    text = subprocess.run(
        [sys.executable, "-c", script], env=env, check=True, capture_output=True
    ).stdout
    assert sorted(samples(text)) == sorted(samples(one_at_a_time(REQUESTS)))
