"""The scale benchmark behind ``bench/scale.sh``: see the "Scale benchmark" section of
bench/README.md for what it measures, its knobs and how to read the report.

Two dedicated PostgreSQL databases, dropped and made anew: ``<prefix>_small`` (1k API keys,
1k OAuth clients) and ``<prefix>_large`` (1M keys, 100k clients, plus a second tenant with 100k
keys for revoke-all), filled by ``bench/bulk_load.py``. Every server runs on 127.0.0.1 and is
stopped by its PID; wrk drives the load with ``bench/lib/scale.lua``.
"""

from __future__ import annotations

import json
import os
import platform
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from report_scale import write
from scale_api import explain, listings, revoke_all
from scale_load import measure, sanity, scenarios, serving
from scale_lookups import index_probes, lookups
from scale_setup import BENCH, REPO, Config, Instance, base_env, database_url, log, prepare

# --- the run ---------------------------------------------------------------------------


def run(cfg: Config, work: Path, raw: Path, state: Path) -> dict[str, Any]:
    secret_key = secrets.token_hex(32)
    key_file = state / "secret-key"
    if cfg.reuse and key_file.exists():
        secret_key = key_file.read_text().strip()
    key_file.write_text(secret_key)
    small = Instance("small", cfg.keys_small, cfg.clients_small, database_url(cfg, "small"), state)
    large = Instance("large", cfg.keys_large, cfg.clients_large, database_url(cfg, "large"), state)
    for inst in (small, large):
        inst.env = base_env(cfg, secret_key, inst.url, work / "data")
    prepare(cfg, small, revoke_keys=0)
    prepare(cfg, large, revoke_keys=0 if cfg.cases else cfg.revoke_keys)

    # 1 vs 2 processes on the small database; small vs large with 2 processes.
    plan = [
        (small, 1, ("verify-hot", "token-hot")),
        (small, 2, ("verify-hot", "token-hot", "verify-miss")),
        (large, 2, ("verify-hot", "token-hot", "verify-miss")),
    ]
    if cfg.cases:
        wanted = tuple(c.strip() for c in cfg.cases.split(",") if c.strip())
        plan = [(small, 2, wanted), (large, 2, wanted)]
    runs: list[dict[str, Any]] = []
    for rnd in range(1, cfg.rounds + 1):
        for inst, workers, names in plan:
            with serving(cfg, inst, workers, raw) as server:
                sanity(inst, server)
                for name in names:
                    tag = f"r{rnd}-w{workers}-{name}"
                    result = measure(cfg, inst, server, scenarios(inst)[name], work=work, tag=tag)
                    result.update(round=rnd, workers=workers)
                    runs.append(result)
    if cfg.cases:
        return {
            "runs": runs,
            "listings": [],
            "revoke": {},
            "plans": {},
            "lookups": [],
            "index_probe_us": {},
            "load": {"small": small.load_seconds, "large": large.load_seconds, "revoke": None},
        }
    lists = []
    for inst in (small, large):
        with serving(cfg, inst, 2, raw) as server:
            lists += listings(inst, server)
    plans = explain(large)
    lookup_rows = lookups(small, large, secret_key)
    probes = index_probes(small, large)
    with serving(cfg, large, 2, raw) as server:
        revoked = revoke_all(large, server)
    return {
        "runs": runs,
        "listings": lists,
        "revoke": revoked,
        "plans": plans,
        "lookups": lookup_rows,
        "index_probe_us": probes,
        "load": {
            "small": small.load_seconds,
            "large": large.load_seconds,
            "revoke": large.revoke.get("load_seconds"),
        },
    }


def main() -> int:
    # Stop cleanly (servers included) on TERM, and on INT even when started in the background.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    signal.signal(signal.SIGINT, signal.default_int_handler)
    cfg = Config()
    raw = BENCH / "results" / "raw" / "scale"
    shutil.rmtree(raw, ignore_errors=True)
    raw.mkdir(parents=True)
    work = Path(tempfile.mkdtemp(prefix="gatepass-scale-"))
    state = Path(cfg.state) if cfg.state else work / "state"
    state.mkdir(parents=True, exist_ok=True)
    os.chmod(state, 0o700)  # sample plaintexts of the benchmark databases
    try:
        started = datetime.now(UTC)
        results = run(cfg, work, raw, state)
        results.update(
            config=cfg.__dict__ | {"admin_url": "(not shown)"},
            started=started.isoformat(timespec="seconds"),
            env=environment(),
        )
        (raw / "results.json").write_text(json.dumps(results, indent=2, default=str))

        out = write(results, BENCH / "results")
        log(f"results written to {out.relative_to(REPO)}; raw: bench/results/raw/scale/")
        return 1 if any("invalid" in r for r in results["runs"]) else 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


def environment() -> dict[str, str]:
    def cmd(*args: str) -> str:
        try:
            proc = subprocess.run(args, capture_output=True, text=True, check=False)  # noqa: S603
        except OSError:
            return ""
        return proc.stdout.strip() if proc.returncode == 0 else ""

    cpu = [x for x in Path("/proc/cpuinfo").read_text().splitlines() if x.startswith("model name")]
    return {
        # a copy of the tree without .git can name its revision in BENCH_GIT_REV
        "git": cmd("git", "-C", str(REPO), "describe", "--always", "--dirty")
        or os.environ.get("BENCH_GIT_REV", "?"),
        "gatepass tree": (
            cmd("git", "-C", os.environ["GATEPASS_TREE"], "rev-parse", "--short", "HEAD")
            if os.environ.get("GATEPASS_TREE")
            else "this checkout"
        ),
        "python": platform.python_version(),
        "postgresql client": cmd("psql", "--version") or "?",
        "wrk": cmd("sh", "-c", "wrk -v 2>&1 | head -n1"),
        "cpu": f"{os.cpu_count()} x {cpu[0].split(':', 1)[1].strip() if cpu else '?'}",
        "kernel": platform.release(),
    }


if __name__ == "__main__":
    sys.exit(main())
