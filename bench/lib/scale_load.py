"""Servers and load of the scale benchmark: gatepass serve, wrk with scale.lua, CPU."""

from __future__ import annotations

import base64
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from scale_setup import BENCH, GATEPASS, HZ, TOKEN_BODY, Config, Instance, log

from gatepass import credential_secrets as cs

# --- servers -------------------------------------------------------------------------------------


@dataclass
class Server:
    pid: int
    base: str
    log: Path


@contextmanager
def serving(cfg: Config, inst: Instance, workers: int, raw: Path) -> Iterator[Server]:
    log_path = raw / f"server-{inst.label}-w{workers}.log"
    with log_path.open("a") as out:
        proc = subprocess.Popen(  # noqa: S603 - our own server
            [
                str(GATEPASS),
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(cfg.port),
                "--workers",
                str(workers),
            ],
            env=inst.env,
            stdout=out,
            stderr=subprocess.STDOUT,
            # Before 246277e, `gatepass serve` re-executed itself as `python -m gatepass.server`,
            # which puts the working directory first on sys.path: run it from its own tree.
            cwd=cfg.tree or None,
        )
    base = f"http://127.0.0.1:{cfg.port}"
    try:
        _wait_ready(proc, base, log_path)
        time.sleep(1.0)  # the other workers finish booting
        yield Server(proc.pid, base, log_path)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _wait_ready(proc: subprocess.Popen[bytes], base: str, log_path: Path) -> None:
    for _ in range(600):
        if proc.poll() is not None:
            sys.exit(f"gatepass serve exited: {log_path.read_text()[-2000:]}")
        with suppress(httpx.HTTPError):
            if httpx.get(base + "/readyz", timeout=2).status_code == 200:
                return
        time.sleep(0.1)
    sys.exit("gatepass serve did not get ready within 60 s")


def tree_ticks(root: int) -> int:
    """CPU ticks used so far by ``root`` and its descendants."""
    children: dict[int, list[int]] = {}
    ticks: dict[int, int] = {}
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            raw = (d / "stat").read_text()
        except OSError:
            continue
        f = raw[raw.rindex(")") + 2 :].split()
        children.setdefault(int(f[1]), []).append(int(d.name))
        ticks[int(d.name)] = int(f[11]) + int(f[12])
    total, queue = 0, [root]
    while queue:
        pid = queue.pop()
        total += ticks.get(pid, 0)
        queue.extend(children.get(pid, []))
    return total


# --- load ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scenario:
    name: str  # verify-hot, verify-miss, token-hot
    path: str
    mode: str  # body or basic
    headers: str
    expect: str
    prefix: str = ""
    suffix: str = ""
    body: str = ""


def scenarios(inst: Instance) -> dict[str, Scenario]:
    verify = "/realms/bench/api-keys/verify"
    json_headers = f"Authorization: Basic {inst.verifier}|Content-Type: application/json"
    return {
        "verify-hot": Scenario(
            "verify-hot",
            verify,
            "body",
            json_headers,
            '"valid":true',
            prefix='{"key":"',
            suffix='"}',
        ),
        "verify-miss": Scenario(
            "verify-miss",
            verify,
            "body",
            json_headers,
            '"code":"NOT_FOUND"',
            prefix='{"key":"',
            suffix='"}',
        ),
        "token-hot": Scenario(
            "token-hot",
            "/realms/bench/protocol/openid-connect/token",
            "basic",
            "Content-Type: application/x-www-form-urlencoded",
            '"access_token":"ey',
            body=TOKEN_BODY,
        ),
    }


def lines_for(cfg: Config, inst: Instance, scenario: Scenario, work: Path, tag: str) -> Path:
    """The values one wrk run cycles through."""
    if scenario.name == "verify-hot":
        return _head(inst.keys_file, cfg.hot, work / f"{inst.label}-hot-keys.txt")
    if scenario.name == "token-hot":
        path = work / f"{inst.label}-hot-clients.txt"
        if not path.exists():
            pairs = inst.clients_file.read_text().split()[: cfg.hot]
            path.write_text("".join(base64.b64encode(p.encode()).decode() + "\n" for p in pairs))
        return path
    # verify-miss: well-formed keys that exist nowhere, new for every run, so none is cached
    path = work / f"miss-{tag}.txt"
    path.write_text(
        "".join(cs.generate(cs.SecretKind.API_KEY).reveal() + "\n" for _ in range(cfg.miss_keys))
    )
    return path


def _head(source: Path, count: int, target: Path) -> Path:
    if not target.exists():
        target.write_text("".join(line + "\n" for line in source.read_text().split()[:count]))
    return target


def wrk(cfg: Config, server: Server, sc: Scenario, lines: Path, seconds: int) -> dict[str, Any]:
    env = dict(
        os.environ,
        SCALE_LINES=str(lines),
        SCALE_MODE=sc.mode,
        SCALE_PREFIX=sc.prefix,
        SCALE_SUFFIX=sc.suffix,
        BENCH_METHOD="POST",
        BENCH_HEADERS=sc.headers,
        BENCH_EXPECT=sc.expect,
        BENCH_BODY=sc.body,
    )
    cmd = [
        "wrk",
        f"-t{cfg.wrk_threads}",
        f"-c{cfg.conns}",
        f"-d{seconds}s",
        "--timeout",
        "10s",
        "--latency",
        "-s",
        str(BENCH / "lib" / "scale.lua"),
        server.base + sc.path,
    ]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    found = re.search(r"^BENCHJSON (.*)$", proc.stdout, re.M)
    if not found:
        sys.exit(f"wrk gave no summary: {proc.stdout[-1500:]} {proc.stderr[-500:]}")
    result: dict[str, Any] = json.loads(found.group(1))
    return result


@contextmanager
def other_load(work: Path, tag: str) -> Iterator[dict[str, Any]]:
    """CPU of processes outside this benchmark meanwhile (bench/lib/other_load.py)."""
    out = work / f"{tag}.load"
    watcher = subprocess.Popen(  # noqa: S603 - our own script
        [
            sys.executable,
            str(BENCH / "lib" / "other_load.py"),
            str(os.getpid()),
            str(out),
        ]
    )
    seen: dict[str, Any] = {}
    try:
        yield seen
    finally:
        watcher.send_signal(signal.SIGTERM)
        watcher.wait()
        with suppress(OSError, ValueError):
            seen.update(json.loads(out.read_text()))


def measure(
    cfg: Config, inst: Instance, server: Server, sc: Scenario, *, work: Path, tag: str
) -> dict[str, Any]:
    warm_lines = lines_for(cfg, inst, sc, work, tag + "-warm")
    # Hot sets: warm up until every process has most likely cached every line (each line asked
    # ~10 times); a loaded machine needs more than one warm-up for that.
    needed = 0 if sc.name == "verify-miss" else 10 * len(warm_lines.read_text().split())
    done = 0
    for _ in range(6):
        done += wrk(cfg, server, sc, warm_lines, cfg.warmup)["requests"]
        if done >= needed:
            break
    time.sleep(1.0)
    lines = lines_for(cfg, inst, sc, work, tag)
    with other_load(work, tag) as load:
        t0, w0 = tree_ticks(server.pid), time.monotonic()
        result = wrk(cfg, server, sc, lines, cfg.duration)
        cpu = (tree_ticks(server.pid) - t0) / HZ / (time.monotonic() - w0)
    result.update(server_cpu=round(cpu, 2), load=load, scenario=sc.name, db=inst.label)
    failed = result["non2xx"] + result["bad_body"] + result["err_timeout"]
    if sc.name == "verify-miss" and result["requests"] > result["lines"]:
        result["note"] = "more requests than fresh keys: some were cached"
    log(
        f"{inst.label} {tag}: {result['rps']:,.0f} req/s p50 {result['p50_ms']:.1f} ms "
        f"p99 {result['p99_ms']:.1f} ms cpu {cpu:.2f} failed {failed} "
        f"other {load.get('other_cores', '?')} {load.get('top', '')}"
    )
    if failed or result["err_connect"] + result["err_read"] + result["err_write"]:
        result["invalid"] = result["first_bad"] or "socket errors"
    time.sleep(1.0)
    return result


def sanity(inst: Instance, server: Server) -> None:
    """One valid key and one token before any load, so a broken setup stops the run early."""
    key = inst.keys_file.read_text().split()[0]
    auth = {"authorization": f"Basic {inst.verifier}"}
    answer = httpx.post(
        server.base + "/realms/bench/api-keys/verify", json={"key": key}, headers=auth, timeout=30
    ).json()
    if answer.get("valid") is not True:
        sys.exit(f"{inst.label}: a loaded key does not verify: {answer}")
    cid, secret = inst.clients_file.read_text().split()[0].split(":", 1)
    token = httpx.post(
        server.base + "/realms/bench/protocol/openid-connect/token",
        data={"grant_type": "client_credentials", "scope": "api:read"},
        auth=(cid, secret),
        timeout=30,
    )
    if token.status_code != 200 or '"access_token":"ey' not in token.text:
        sys.exit(f"{inst.label}: a loaded client gets no token: {token.status_code} {token.text}")
