"""What bench/sign_in_flood.py and bench/body_flood.py share: a fresh gatepass instance on
127.0.0.1 (SQLite file or a dropped-and-made-anew PostgreSQL database), the CLI, ``gatepass
serve`` stopped by its PID, and the resident memory of the server's process tree.

``tree``: import gatepass from another checkout (e.g. a git worktree of an older commit) via
PYTHONPATH, with this virtualenv's packages, so the same script measures before and after.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg
from sqlalchemy.engine import make_url

BIN = Path(sys.executable).parent / "gatepass"
PREFIX = "gatepass_flood"  # the only PostgreSQL databases these scripts drop


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Instance:
    work: Path
    db: str  # "sqlite" or a PostgreSQL server URL (postgresql+psycopg://user@host:port/db)
    tree: str = ""
    extra_env: dict[str, str] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    env: dict[str, str] = field(default_factory=dict)
    url: str = ""

    def __post_init__(self) -> None:
        if self.db == "sqlite":
            self.url = f"sqlite:///{self.work / 'gatepass.db'}"
        else:
            self.url = _fresh_pg(self.db)
        env = {k: v for k, v in os.environ.items() if not k.startswith("GATEPASS_")}
        env.pop("PYTHONPATH", None)
        env.update(
            GATEPASS_DATABASE_URL=self.url,
            GATEPASS_SECRET_KEY=secrets.token_hex(32),
            GATEPASS_DATA_DIR=str(self.work),
            GATEPASS_PUBLIC_URL=f"http://127.0.0.1:{self.port}",
            GATEPASS_ENV="development",
            GATEPASS_LOG_LEVEL="warning",
            **self.extra_env,
        )
        if self.tree:
            env["PYTHONPATH"] = str(Path(self.tree).resolve())
        self.env = env

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cli(self, *args: str, stdin: str | None = None) -> Any:
        proc = subprocess.run(  # noqa: S603 - our own CLI, fixed arguments
            [str(BIN), *args],
            env=self.env,
            input=stdin,
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode != 0:
            sys.exit(f"gatepass {' '.join(args[:3])} failed: {proc.stderr.strip()[-800:]}")
        return json.loads(proc.stdout) if "--json" in args else proc.stdout

    @contextmanager
    def serving(self, workers: int = 1, nice: int = 0) -> Iterator[subprocess.Popen[bytes]]:
        """``nice`` > 0 runs the server (every thread) below the benchmark's own priority, so
        that a CPU-bound server cannot starve the load generator and the probe on 2 cores."""
        log = (self.work / "server.log").open("ab")
        prefix = ["nice", "-n", str(nice)] if nice else []
        proc = subprocess.Popen(  # noqa: S603 - our own server
            [
                *prefix,
                str(BIN),
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--workers",
                str(workers),
            ],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            # Before 246277e, `gatepass serve` re-executed itself as `python -m gatepass.server`,
            # which puts the working directory first on sys.path: run it from its own tree.
            cwd=self.tree or None,
        )
        try:
            for _ in range(600):
                if proc.poll() is not None:
                    sys.exit(
                        "gatepass serve exited: " + (self.work / "server.log").read_text()[-2000:]
                    )
                with suppress(httpx.HTTPError):
                    if httpx.get(self.base + "/readyz", timeout=2).status_code == 200:
                        break
                time.sleep(0.1)
            else:
                sys.exit("gatepass serve did not get ready within 60 s")
            time.sleep(1.0)
            yield proc
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _fresh_pg(server: str) -> str:
    admin = make_url(server)
    name = f"{PREFIX}_{os.getpid()}"
    dsn = admin.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return admin.set(database=name).render_as_string(hide_password=False)


def drop_pg(inst: Instance) -> None:
    if inst.db == "sqlite":
        return
    url = make_url(inst.url)
    if not (url.database or "").startswith(PREFIX):
        return
    dsn = make_url(inst.db).set(drivername="postgresql").render_as_string(hide_password=False)
    with suppress(Exception), psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)')


def tree_pids(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                raw = (d / "stat").read_text()
            except OSError:
                continue
            ppid = int(raw[raw.rindex(")") + 2 :].split()[1])
            children.setdefault(ppid, []).append(int(d.name))
    out, queue = [], [root]
    while queue:
        pid = queue.pop()
        out.append(pid)
        queue.extend(children.get(pid, []))
    return out


def status_kib(pid: int, field_name: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field_name + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def rss_mib(root: int) -> dict[str, float]:
    """Per process of the tree: current RSS and its high-water mark (VmHWM), MiB."""
    out = {}
    for pid in tree_pids(root):
        cmd = (
            Path(f"/proc/{pid}/cmdline")
            .read_bytes()
            .replace(b"\0", b" ")[:60]
            .decode(errors="replace")
            if Path(f"/proc/{pid}/cmdline").exists()
            else "?"
        )
        out[f"{pid} {cmd.strip()}"] = round(status_kib(pid, "VmRSS") / 1024, 1)
        out[f"{pid} peak"] = round(status_kib(pid, "VmHWM") / 1024, 1)
    return out
