"""The database path of the scale benchmark, without HTTP: what a cache miss costs.

A verify or token request that misses the per-process cache runs ``load_entry`` or
``load_client``. This times those functions in this process against both databases, in short
alternating batches, so that a noisy neighbour slows both databases alike and the ratio stays
meaningful where the HTTP figures do not.
"""

from __future__ import annotations

import re
import secrets
import statistics
import time
from collections.abc import Callable
from typing import Any

import psycopg
from scale_setup import Instance, log, pg_dsn
from sqlalchemy.orm import Session

from gatepass import credential_secrets as cs
from gatepass.apikeys.verification import load_entry
from gatepass.cache.entries import load_client
from gatepass.db import Database

BATCHES = 10
PER_BATCH = 200

Probe = Callable[[Session, int], object]


def probes(inst: Instance, secret_key: str) -> dict[str, Probe]:
    """The lookups to time, each given a session and a counter."""
    hasher = cs.SecretHasher.from_master_key(secret_key.encode())
    digests = [hasher.digest(k) for k in inst.keys_file.read_text().split()]
    client_ids = [line.split(":", 1)[0] for line in inst.clients_file.read_text().split()]
    return {
        "API key, first use (found)": lambda s, i: load_entry(s, 1, digests[i % len(digests)]),
        "API key, unknown": lambda s, i: load_entry(s, 1, secrets.token_bytes(32)),
        "OAuth client, first use (found)": lambda s, i: load_client(
            s, 1, client_ids[i % len(client_ids)]
        ),
    }


def lookups(small: Instance, large: Instance, secret_key: str) -> list[dict[str, Any]]:
    """Median ms per lookup on each database, and the large/small ratio of each batch pair."""
    dbs = {inst.label: (Database(inst.url), probes(inst, secret_key)) for inst in (small, large)}
    times: dict[tuple[str, str], list[float]] = {}
    for batch in range(BATCHES):
        for label, (db, probe_set) in dbs.items():
            for name, probe in probe_set.items():
                with db.read() as session:
                    started = time.perf_counter()
                    for i in range(PER_BATCH):
                        probe(session, batch * PER_BATCH + i)
                    elapsed = (time.perf_counter() - started) / PER_BATCH * 1000
                times.setdefault((name, label), []).append(elapsed)
    for db, _ in dbs.values():
        db.dispose()
    return [
        _summary(name, times[(name, "small")], times[(name, "large")]) for name in probes_of(dbs)
    ]


def probes_of(dbs: dict[str, tuple[Database, dict[str, Probe]]]) -> list[str]:
    return list(next(iter(dbs.values()))[1])


def _summary(name: str, small: list[float], large: list[float]) -> dict[str, Any]:
    ratios = [b / a for a, b in zip(small, large, strict=True)]
    row = {
        "lookup": name,
        "small_ms": round(statistics.median(small), 3),
        "large_ms": round(statistics.median(large), 3),
        "ratio": round(statistics.median(ratios), 2),
        "ratios": [round(r, 2) for r in ratios],
    }
    log(
        f"lookup {name}: small {row['small_ms']} ms, large {row['large_ms']} ms, "
        f"ratio {row['ratio']}"
    )
    return row


PROBES = 20_000
PROBE_SQL = """
EXPLAIN (ANALYZE, TIMING OFF, SUMMARY ON)
SELECT count(x) FROM generate_series(1, %(n)s) g, LATERAL (
  SELECT id AS x FROM api_key_secrets
  WHERE digest = decode(md5(g::text || %(salt)s) || md5(g::text || %(salt)s || 'b'), 'hex')
) s
"""


def index_probes(small: Instance, large: Instance) -> dict[str, Any]:
    """Microseconds per probe of the digest index inside PostgreSQL, alternating databases.

    ``PROBES`` digests that exist nowhere, looked up one by one through the unique index (the
    planner is told not to hash or scan instead): the database's own share of a cache miss.
    """
    per_probe: dict[str, list[float]] = {"small": [], "large": []}
    for rnd in range(3):
        for inst in (small, large):
            with psycopg.connect(pg_dsn(inst.url)) as conn:
                for setting in ("hashjoin", "mergejoin", "seqscan", "bitmapscan"):
                    conn.execute(f"SET enable_{setting} = off")
                plan = conn.execute(PROBE_SQL, {"n": PROBES, "salt": f"{rnd}-{time.time()}"})
                text = " ".join(str(row[0]) for row in plan.fetchall())
            found = re.search(r"Execution Time: ([0-9.]+) ms", text)
            if found and "Index Scan using uq_api_key_secrets_digest" in text:
                per_probe[inst.label].append(float(found.group(1)) * 1000 / PROBES)
    result = {label: round(statistics.median(v), 2) for label, v in per_probe.items() if v}
    log(f"digest index probe inside PostgreSQL, µs: {result}")
    return result
