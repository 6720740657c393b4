"""How many audit rows and requests per second a flood of failed API calls costs.

    .venv/bin/python bench/audit_flood.py [--seconds 5] [--concurrency 32] [--database-url URL]

Starts ``gatepass serve`` on a fresh SQLite file (or ``--database-url``, which must be empty),
creates the tenant ``acme``, sends ``GET /api/v1/realms/acme/clients`` with
``Authorization: Bearer x`` from ``--concurrency`` tasks for ``--seconds`` seconds, then prints
one JSON line: requests, requests per second, audit rows and the sum of their counts.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text

BIN = Path(sys.executable).parent / "gatepass"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def flood(url: str, seconds: float, concurrency: int) -> int:
    done = 0
    deadline = time.monotonic() + seconds

    async def worker(http: httpx.AsyncClient) -> None:
        nonlocal done
        while time.monotonic() < deadline:
            response = await http.get(url, headers={"authorization": "Bearer x"})
            if response.status_code != 401:
                raise SystemExit(f"expected 401, got {response.status_code}: {response.text}")
            done += 1

    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=30) as http:
        await asyncio.gather(*(worker(http) for _ in range(concurrency)))
    return done


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="audit-flood-"))
    db_url = args.database_url or f"sqlite:///{work / 'gatepass.db'}"
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("GATEPASS_")}
    env.update(
        GATEPASS_DATABASE_URL=db_url,
        GATEPASS_SECRET_KEY=secrets.token_urlsafe(48),
        GATEPASS_DATA_DIR=str(work),
        GATEPASS_PUBLIC_URL=f"http://127.0.0.1:{port}",
    )
    # Our own console script with fixed arguments: no untrusted input reaches the command line.
    subprocess.run([BIN, "migrate"], env=env, check=True, capture_output=True)  # noqa: S603
    tenant = [BIN, "tenant", "create", "acme"]
    subprocess.run(tenant, env=env, check=True, capture_output=True)  # noqa: S603
    log = (work / "server.log").open("wb")
    server = subprocess.Popen(  # noqa: S603
        [BIN, "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=log,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                if httpx.get(f"{base}/health/ready").status_code < 500:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        url = f"{base}/api/v1/realms/acme/clients"
        started = time.monotonic()
        done = asyncio.run(flood(url, args.seconds, args.concurrency))
        elapsed = time.monotonic() - started
    finally:
        server.terminate()
        server.wait(timeout=30)
    with create_engine(db_url).connect() as connection:
        rows, counted = connection.execute(
            text("SELECT COUNT(*), SUM(count) FROM audit_events WHERE action = 'api.auth_failed'")
        ).one()
    result = {
        "requests": done,
        "requests_per_s": round(done / elapsed, 1),
        "audit_rows": rows,
        "counted": counted,
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
