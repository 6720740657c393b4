"""Huge request bodies and a huge header: the server's memory and its answers.

    .venv/bin/python bench/body_flood.py [--db sqlite|postgresql+psycopg://...] [--mib 100]
        [--concurrency 10] [--header-mib 50] [--tree DIR]

Starts ``gatepass serve --workers 1`` on a fresh SQLite file (or PostgreSQL database), creates
tenant ``acme``, and sends, unauthenticated, over raw sockets (the body is produced 1 MiB at a
time, so the benchmark itself never holds it):

1. ``--concurrency`` concurrent ``POST /api/v1/realms/acme/clients`` with a ``--mib`` MiB JSON
   body and ``Content-Length`` declared;
2. the same with ``Transfer-Encoding: chunked``;
3. one ``GET /api/v1/realms/acme/clients`` with a ``--header-mib`` MiB ``X-Filler`` header.

A request stops sending when the server answers or closes the connection. Each phase waits at
most ``--timeout`` s (default 120). During every phase the resident memory of the server's
process tree is sampled every 50 ms; the worker's VmHWM (peak) is read after each phase. Prints
one JSON line: per phase, the status codes (or ``closed`` / ``timeout``), how much of each body
went out before the answer, seconds to the answer, and RSS before / peak during / after.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "lib"))
from flood_server import Instance, drop_pg, status_kib, tree_pids

MIB = 1 << 20


def tree_rss_mib(root: int) -> float:
    return round(sum(status_kib(p, "VmRSS") for p in tree_pids(root)) / 1024, 1)


def tree_peak_mib(root: int) -> dict[int, float]:
    return {p: round(status_kib(p, "VmHWM") / 1024, 1) for p in tree_pids(root)}


async def one(port: int, head: bytes, body_mib: int, chunked: bool, timeout: float) -> dict:
    t0 = time.monotonic()
    sent = 0
    status = "closed"
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError as exc:
        return {"status": type(exc).__name__, "sent_mib": 0, "seconds": 0.0}

    async def read_status() -> str:
        line = await reader.readline()
        return line.split()[1].decode() if line.startswith(b"HTTP/") else "closed"

    answer = asyncio.create_task(read_status())
    try:
        writer.write(head)
        await writer.drain()
        block = b'{"name":"' + b"a" * (MIB - 9)
        for i in range(body_mib):
            if answer.done():
                break
            data = block if i == 0 else b"a" * MIB
            if i == body_mib - 1:
                data = data[:-2] + b'"}'
            writer.write(b"%x\r\n%s\r\n" % (len(data), data) if chunked else data)
            await writer.drain()
            sent += len(data)
        if chunked and not answer.done():
            writer.write(b"0\r\n\r\n")
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    try:
        status = await asyncio.wait_for(answer, max(0.1, timeout - (time.monotonic() - t0)))
    except TimeoutError:
        status = "timeout"
    except (ConnectionError, OSError, IndexError):
        status = "closed"
    writer.close()
    return {
        "status": status,
        "sent_mib": round(sent / MIB, 1),
        "seconds": round(time.monotonic() - t0, 2),
    }


async def phase(  # noqa: PLR0917
    port: int, pid: int, heads: list[bytes], body_mib: int, chunked: bool, timeout: float
) -> dict:
    before = tree_rss_mib(pid)
    samples: list[float] = []

    async def sample() -> None:
        while True:
            samples.append(tree_rss_mib(pid))
            await asyncio.sleep(0.05)

    sampler = asyncio.create_task(sample())
    t0 = time.monotonic()
    results = await asyncio.gather(*(one(port, h, body_mib, chunked, timeout) for h in heads))
    elapsed = time.monotonic() - t0
    await asyncio.sleep(1.0)
    sampler.cancel()
    after = tree_rss_mib(pid)
    return {
        "codes": dict(Counter(r["status"] for r in results)),
        "sent_mib": [r["sent_mib"] for r in results],
        "max_seconds": max(r["seconds"] for r in results),
        "seconds": round(elapsed, 2),
        "rss_before_mib": before,
        "rss_peak_sampled_mib": max(samples) if samples else before,
        "rss_after_1s_mib": after,
        "vmhwm_mib": tree_peak_mib(pid),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", default="sqlite")
    parser.add_argument("--mib", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument("--header-mib", type=int, default=50)
    parser.add_argument("--timeout", type=float, default=120)
    parser.add_argument("--tree", default="")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="body-flood-"))
    inst = Instance(work, args.db, tree=args.tree)
    path = "/api/v1/realms/acme/clients"
    host = f"127.0.0.1:{inst.port}"
    try:
        inst.cli("migrate")
        inst.cli("tenant", "create", "acme", "--json")
        out: dict[str, object] = {"db": "sqlite" if args.db == "sqlite" else "postgresql"}
        with inst.serving(1) as proc:
            out["processes"] = len(tree_pids(proc.pid))
            length = args.mib * MIB
            fixed = (
                f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {length}\r\n\r\n"
            ).encode()
            out["content_length"] = asyncio.run(
                phase(
                    inst.port, proc.pid, [fixed] * args.concurrency, args.mib, False, args.timeout
                )
            )
            chunked = (
                f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
                "Transfer-Encoding: chunked\r\n\r\n"
            ).encode()
            out["chunked"] = asyncio.run(
                phase(
                    inst.port, proc.pid, [chunked] * args.concurrency, args.mib, True, args.timeout
                )
            )
            big = (
                f"GET {path} HTTP/1.1\r\nHost: {host}\r\nX-Filler: ".encode()
                + b"a" * (args.header_mib * MIB)
                + b"\r\n\r\n"
            )
            out["header"] = asyncio.run(phase(inst.port, proc.pid, [big], 0, False, args.timeout))
            del big
        log = (work / "server.log").read_text(errors="replace")
        out["server_log_tracebacks"] = log.count("Traceback")
        print(json.dumps(out))
    finally:
        drop_pg(inst)


if __name__ == "__main__":
    main()
