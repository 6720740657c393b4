"""How long ``gatepass serve`` takes to start, what it costs, and what a worker holds after.

    .venv/bin/python bench/serve_start.py [-n 5] [--tree LABEL=DIR ...]

Starts ``gatepass serve --workers 1`` ``-n`` times on a fresh SQLite database (migrated once,
before the first start) and reports medians of: the wall time until ``/readyz`` answers 200, the
CPU the process used until then (the CLI, which migrates and then replaces itself with the
server, and the server), the server's RSS once ready, the time of the first management request
(``/console``: the console, the management API and the docs are built then), and the RSS after
it. ``--tree LABEL=DIR`` measures the code of another checkout too (its ``DIR`` first on
``PYTHONPATH``, in the same virtualenv), alternating with this one, so that one run compares
both on the same machine at the same time. Writes a Markdown table to stdout; sends traffic to
127.0.0.1 only and stops every server it started.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import httpx

HERE = Path(__file__).resolve().parent.parent
PYTHON = Path(sys.executable)
READY_WITHIN = 60.0


@dataclass(frozen=True)
class Start:
    ready_s: float
    cpu_s: float
    rss_mib: float
    first_console_ms: float
    rss_after_mib: float


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for {pid}")


def cpu_s(pid: int) -> float:
    """CPU seconds the process has used so far (``serve`` replaces itself with the server, so
    the CLI's part is counted in the same process), and its children's."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = sum(int(f) for f in fields[11:15])  # utime, stime, cutime, cstime
    return ticks / os.sysconf("SC_CLK_TCK")


def entry_of(tree: Path) -> str:
    """The console script's module in ``tree`` (older trees had no ``gatepass.cli.entry``)."""
    return (
        "gatepass.cli.entry" if (tree / "gatepass/cli/entry.py").exists() else "gatepass.cli.main"
    )


def start_once(env: dict[str, str], tree: Path, log: IO[bytes]) -> Start:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    code = (
        "import sys; sys.argv = ['gatepass', 'serve', '--port', sys.argv[1]];"
        f" from {entry_of(tree)} import main; main()"
    )
    started = time.perf_counter()
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and code
        [str(PYTHON), "-P", "-c", code, str(port)],
        env={**env, "PYTHONPATH": str(tree), "GATEPASS_PUBLIC_URL": base},
        stdout=subprocess.DEVNULL,
        stderr=log,
        start_new_session=True,
    )
    try:
        with httpx.Client(base_url=base, timeout=5) as client:
            while True:
                if time.perf_counter() - started > READY_WITHIN or process.poll() is not None:
                    raise RuntimeError(f"gatepass serve from {tree} did not become ready")
                try:
                    if client.get("/readyz").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                time.sleep(0.01)
            ready = time.perf_counter() - started
            cpu, rss = cpu_s(process.pid), rss_mib(process.pid)
            asked = time.perf_counter()
            answer = client.get("/console")
            first_console = (time.perf_counter() - asked) * 1000
            if answer.status_code not in (200, 303):  # the sign-in page, or a redirect to it
                raise RuntimeError(f"/console answered {answer.status_code}")
            rss_after = rss_mib(process.pid)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=30)
    return Start(ready, cpu, rss, first_console, rss_after)


def fresh_env(directory: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GATEPASS_", "PYTHONPATH"))}
    env.update(
        GATEPASS_DATABASE_URL=f"sqlite:///{directory}/gatepass.db",
        GATEPASS_SECRET_KEY="bench-" + "k" * 40,
        GATEPASS_DATA_DIR=str(directory),
        GATEPASS_JOBS_ENABLED="false",
        GATEPASS_LOG_LEVEL="warning",
    )
    return env


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=5, help="starts per tree (default 5)")
    parser.add_argument("--tree", action="append", default=[], help="LABEL=DIR of another tree")
    args = parser.parse_args()
    trees = {"this tree": HERE}
    for given in args.tree:
        label, _, directory = given.partition("=")
        trees[label] = Path(directory).resolve()
    with tempfile.TemporaryDirectory(prefix="gatepass-start-") as directory:
        env = fresh_env(Path(directory))
        gatepass = PYTHON.with_name("gatepass")
        subprocess.run([str(gatepass), "migrate"], env=env, check=True, capture_output=True)  # noqa: S603
        results: dict[str, list[Start]] = {label: [] for label in trees}
        with (Path(directory) / "servers.log").open("wb") as log:
            try:
                for _ in range(args.n):
                    for label, tree in trees.items():
                        results[label].append(start_once(env, tree, log))
            except RuntimeError:
                log.flush()
                sys.stderr.write((Path(directory) / "servers.log").read_text()[-3000:])
                raise
    print(f"`gatepass serve --workers 1` on SQLite, medians of {args.n} starts per tree:\n")
    columns = ["ready s", "CPU to ready s", "RSS when ready MiB", "first /console ms"]
    print("| tree | " + " | ".join([*columns, "RSS after MiB"]) + " |")
    print("|---|---:|---:|---:|---:|---:|")
    for label, starts in results.items():

        def median(field: str, starts: list[Start] = starts) -> float:
            return statistics.median(getattr(s, field) for s in starts)

        print(
            f"| {label} | {median('ready_s'):.2f} | {median('cpu_s'):.2f} |"
            f" {median('rss_mib'):.1f} | {median('first_console_ms'):.0f} |"
            f" {median('rss_after_mib'):.1f} |"
        )


if __name__ == "__main__":
    main()
