"""The markdown report of ``bench/scale.sh``: bench/results/scale-<date>[-n].md."""

from __future__ import annotations

import statistics
from collections import defaultdict
from datetime import datetime
from pathlib import Path
from typing import Any

LABELS = {
    "verify-hot": "verify, 1,000 keys in turn (cached after first use)",
    "verify-miss": "verify, a new unknown well-formed key each request",
    "token-hot": "token, 1,000 clients in turn (cached after first use)",
}
RATIOS = [
    ("2 processes / 1 process, verify", ("verify-hot", "small", 2), ("verify-hot", "small", 1)),
    ("2 processes / 1 process, token", ("token-hot", "small", 2), ("token-hot", "small", 1)),
    ("1M keys / 1k keys, verify (cached)", ("verify-hot", "large", 2), ("verify-hot", "small", 2)),
    (
        "1M keys / 1k keys, verify (lookups)",
        ("verify-miss", "large", 2),
        ("verify-miss", "small", 2),
    ),
    ("100k clients / 1k clients, token", ("token-hot", "large", 2), ("token-hot", "small", 2)),
    (
        "unknown / known key, verify, 1k keys",
        ("verify-miss", "small", 2),
        ("verify-hot", "small", 2),
    ),
    (
        "unknown / known key, verify, 1M keys",
        ("verify-miss", "large", 2),
        ("verify-hot", "large", 2),
    ),
]


def write(results: dict[str, Any], folder: Path) -> Path:
    day = results["started"][:10]
    out, n = folder / f"scale-{day}.md", 2
    while out.exists():
        out, n = folder / f"scale-{day}-{n}.md", n + 1
    out.write_text("\n".join(_report(results)) + "\n")
    return out


def _report(res: dict[str, Any]) -> list[str]:
    cfg = res["config"]
    started = datetime.fromisoformat(res["started"])
    return [
        "# Scale benchmark: processes, stored API keys and OAuth clients",
        "",
        f"Run: {started:%Y-%m-%d %H:%M} UTC, `bench/scale.sh` (see `bench/README.md`).",
        "",
        f"PostgreSQL, two databases: *small* ({cfg['keys_small']:,} API keys, "
        f"{cfg['clients_small']:,} OAuth clients) and *large* ({cfg['keys_large']:,} API keys, "
        f"{cfg['clients_large']:,} OAuth clients in the same tenant"
        + (
            f", plus {cfg['revoke_keys']:,} keys of a second tenant for revoke-all"
            if res["load"]["revoke"] is not None
            else ""
        )
        + f"), filled by `bench/bulk_load.py` in {res['load']['small']} s and "
        f"{res['load']['large']} s"
        + (f" (+ {res['load']['revoke']} s). " if res["load"]["revoke"] is not None else ". ")
        + (f"Scenarios: `CASES={cfg['cases']}`. " if cfg.get("cases") else "")
        + f"Load: `wrk -t{cfg['wrk_threads']} -c{cfg['conns']} -d{cfg['duration']}s` after a "
        f"{cfg['warmup']} s warm-up, {cfg['rounds']} rounds; in each round every server is "
        "started anew. Every request takes the next line of a file (`bench/lib/scale.lua`).",
        "",
        *_throughput(res["runs"]),
        *_ratios(res["runs"]),
        *(_lookups(res["lookups"], res.get("index_probe_us", {})) if res.get("lookups") else []),
        *(_listings(res["listings"]) if res["listings"] else []),
        *(_revoke(res["revoke"]) if res["revoke"] else []),
        *(_plans(res["plans"]) if res["plans"] else []),
        "## Environment",
        "",
        "| | |",
        "|---|---|",
        *[f"| {k} | {v} |" for k, v in res["env"].items()],
    ]


def _groups(runs: list[dict[str, Any]]) -> dict[tuple[str, str, int], list[dict[str, Any]]]:
    groups: dict[tuple[str, str, int], list[dict[str, Any]]] = defaultdict(list)
    for run in runs:
        groups[(run["scenario"], run["db"], run["workers"])].append(run)
    return groups


def _other(run: dict[str, Any]) -> str:
    load = run.get("load") or {}
    if not load:
        return "?"
    pg = sum(c for name, c in load.get("top", []) if name == "postgres")
    rest = load.get("other_cores", 0) - pg
    return f"{rest:.2f} (+ postgres {pg:.2f})"


def _throughput(runs: list[dict[str, Any]]) -> list[str]:
    lines = [
        "## Throughput",
        "",
        "req/s of each round, then the median; latency and server CPU are medians over the "
        "rounds. *Other load* is the CPU of processes this benchmark did not start, in cores, "
        "at most over the rounds; the shared PostgreSQL server is shown apart, because part of "
        "its CPU is this benchmark's own queries.",
        "",
        "| scenario | database | processes | req/s per round | median req/s | p50 ms | p99 ms "
        "| server CPU | other load | failed |",
        "|---|---|---:|---|---:|---:|---:|---:|---|---:|",
    ]
    for (name, db, workers), group in sorted(_groups(runs).items()):
        rps = [r["rps"] for r in group]
        failed = sum(r["non2xx"] + r["bad_body"] + r["err_timeout"] for r in group)
        worst = max(group, key=lambda r: (r.get("load") or {}).get("other_cores", 0))
        lines.append(
            f"| {LABELS[name]} | {db} | {workers} | {', '.join(f'{x:,.0f}' for x in rps)} "
            f"| {statistics.median(rps):,.0f} | {_med(group, 'p50_ms'):.2f} "
            f"| {_med(group, 'p99_ms'):.2f} | {_med(group, 'server_cpu'):.2f} "
            f"| {_other(worst)} | {failed} |"
        )
    notes = {r["note"] for r in runs if "note" in r} | {
        f"invalid run: {r['invalid']}" for r in runs if "invalid" in r
    }
    return [*lines, "", *[f"- {note}" for note in sorted(notes)], ""]


def _med(group: list[dict[str, Any]], key: str) -> float:
    return float(statistics.median(r[key] for r in group))


def _ratios(runs: list[dict[str, Any]]) -> list[str]:
    by_round = {(r["scenario"], r["db"], r["workers"], r["round"]): r["rps"] for r in runs}
    rounds = sorted({r["round"] for r in runs})
    lines = [
        "## Ratios",
        "",
        "Each ratio is taken within one round (the two runs minutes apart at most), then the "
        "median over the rounds. A size ratio within 0.90-1.10 means the larger store costs "
        "no more than the noise of this machine.",
        "",
        "| ratio | per round | median | within 10 % |",
        "|---|---|---:|---|",
    ]
    for label, top, bottom in RATIOS:
        values = [
            by_round[(*top, n)] / by_round[(*bottom, n)]
            for n in rounds
            if (*top, n) in by_round and (*bottom, n) in by_round
        ]
        if not values:
            continue
        median = statistics.median(values)
        if "unknown" in label:
            within = "n/a (target ≥ 0.80: " + ("met" if median >= 0.8 else "**not met**") + ")"
        else:
            within = "n/a" if "process" in label else ("yes" if median >= 0.9 else "**no**")
        lines.append(
            f"| {label} | {', '.join(f'{v:.2f}' for v in values)} | {median:.2f} | {within} |"
        )
    return [*lines, ""]


def _lookups(rows: list[dict[str, Any]], probe: dict[str, float]) -> list[str]:
    lines = [
        "## Cache misses without HTTP",
        "",
        "What a request that misses the per-process cache adds: `load_entry` (API keys) and "
        "`load_client` (OAuth clients) called in one process, in 10 alternating batches of 200 "
        "per database, so that other load slows both databases alike. The ratio is the median "
        "of the 10 batch ratios.",
        "",
        "| lookup | small ms | large ms | large / small per batch | median | within 10 % |",
        "|---|---:|---:|---|---:|---|",
    ]
    for row in rows:
        within = "yes" if row["ratio"] <= 1.1 else "**no**"
        lines.append(
            f"| {row['lookup']} | {row['small_ms']} | {row['large_ms']} "
            f"| {', '.join(f'{r:.2f}' for r in row['ratios'])} | {row['ratio']:.2f} | {within} |"
        )
    if probe:
        lines += [
            "",
            "Inside PostgreSQL, one probe of the unique index on `api_key_secrets.digest` (a "
            "digest that exists nowhere, 20,000 probes in one query, median of 3) took "
            f"{probe.get('small', '?')} µs on the small and {probe.get('large', '?')} µs on the "
            "large database: one more index level, a few microseconds of a lookup that costs "
            "the application hundreds.",
        ]
    return [*lines, ""]


def _listings(rows: list[dict[str, Any]]) -> list[str]:
    lines = [
        "## Listing through the management API",
        "",
        "`GET` with a Bearer token (scope `credentials:manage`), 50 items a page; one untimed "
        "request first, then 7 timed ones, wall time at the client.",
        "",
        "| request | database | items | median ms | max ms |",
        "|---|---|---:|---:|---:|",
    ]
    for row in rows:
        lines.append(
            f"| {row['label']} | {row['db']} | {row['items']} | {row['median_ms']} "
            f"| {row['max_ms']} |"
        )
    return [*lines, ""]


def _revoke(rev: dict[str, Any]) -> list[str]:
    return [
        "## Revoke-all",
        "",
        f"`POST /api/v1/realms/revoke/api-keys/revoke-all` revoked {rev['count']:,} keys in "
        f"**{rev['seconds']} s** (one transaction: status, revoked_at, one change-feed row per "
        "key, one audit event). A key of that tenant, verified (and cached by the server) just "
        f"before, answered {rev['final_code']} {rev['verify_revoked_after_s']} s after the "
        "response.",
        "",
    ]


def _plans(plans: dict[str, str]) -> list[str]:
    lines = ["## Query plans on the large database", ""]
    for label, plan in plans.items():
        lines += [f"{label}:", "", "```", plan, "```", ""]
    return lines
