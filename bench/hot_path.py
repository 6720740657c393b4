"""Drive the token or verify endpoint in-process, without HTTP, to see where the app's time goes.

Requests go to the app as the server's direct way hands them over (``ProtocolApp.answer``), or
with ``--asgi`` through the whole ASGI app (``BodyLimit``, then ``ProtocolApp``).

    .venv/bin/python bench/hot_path.py [--endpoint token|verify] [-n 5000] [--profile]
    valgrind --tool=callgrind --callgrind-out-file=cg.out .venv/bin/python bench/hot_path.py -n 2000

Sets up a fresh instance in a temporary directory with the CLI (SQLite), builds the app with
``create_app_from_env`` as a ``serve`` worker does, runs its lifespan, and sends ``-n`` requests
straight to the ASGI app after a warm-up of ``--warmup`` requests. Prints the app's microseconds
per request; ``--profile`` adds cProfile's top functions. Under callgrind, compare instruction
counts of two runs with different ``-n`` to get the instructions of one request.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import cProfile
import json
import os
import pstats
import secrets
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gatepass.app import create_app_from_env

VENV_BIN = Path(sys.executable).parent


def cli(*args: str) -> str:
    command = [str(VENV_BIN / "gatepass"), *args]
    return subprocess.run(command, check=True, capture_output=True, text=True).stdout  # noqa: S603


@dataclass(frozen=True)
class Request:
    endpoint: str
    path: str
    basic: bytes  # base64 of client_id:client_secret
    body: bytes


def setup(endpoint: str) -> Request:
    """A fresh instance with a client (and an API key), and the request to send."""
    cli("migrate")
    cli("tenant", "create", "bench", "--json")
    if endpoint == "token":
        cli("permission", "create", "--tenant", "bench", "api:read", "--label", "API read")
        client = json.loads(
            cli(
                "client",
                "create",
                "--tenant",
                "bench",
                "--name",
                "b",
                "--scope",
                "api:read",
                "--json",
            )
        )
        body = b"grant_type=client_credentials&scope=api:read"
        path = "/realms/bench/protocol/openid-connect/token"
    else:
        client = json.loads(
            cli(
                "client",
                "create",
                "--tenant",
                "bench",
                "--name",
                "v",
                "--scope",
                "api_keys:verify",
                "--json",
            )
        )
        key = json.loads(cli("apikey", "create", "--tenant", "bench", "--name", "k", "--json"))[
            "key"
        ]
        body = json.dumps({"key": key}).encode()
        path = "/realms/bench/api-keys/verify"
    basic = base64.b64encode(f"{client['client_id']}:{client['client_secret']}".encode())
    return Request(endpoint, path, basic, body)


async def drive(app: Any, req: Request, n: int, *, asgi: bool = False) -> None:
    """``n`` requests as the server's direct way hands them to the app (``ProtocolApp.answer``),
    or through ASGI."""
    if not asgi:
        await drive_direct(app, req, n)
        return
    form = req.endpoint == "token"
    ctype = b"application/x-www-form-urlencoded" if form else b"application/json"
    path, body = req.path, req.body
    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "client": ("127.0.0.1", 40000),
        "server": ("127.0.0.1", 8090),
        "state": {},
    }
    headers = [
        (b"host", b"127.0.0.1:8090"),
        (b"user-agent", b"wrk"),
        (b"authorization", b"Basic " + req.basic),
        (b"content-type", ctype),
        (b"content-length", str(len(body)).encode()),
    ]
    request = {"type": "http.request", "body": body, "more_body": False}
    statuses: list[int] = []

    async def receive() -> dict[str, Any]:
        return request

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    for _ in range(n):
        await app({**scope, "headers": list(headers)}, receive, send)
    if set(statuses) != {200}:
        raise SystemExit(f"unexpected statuses: {sorted(set(statuses))}")


async def drive_direct(app: Any, req: Request, n: int) -> None:
    form = req.endpoint == "token"
    ctype = b"application/x-www-form-urlencoded" if form else b"application/json"
    headers = [
        (b"host", b"127.0.0.1:8090"),
        (b"user-agent", b"wrk"),
        (b"authorization", b"Basic " + req.basic),
        (b"content-type", ctype),
        (b"content-length", str(len(req.body)).encode()),
    ]
    slug, endpoint = app.direct.direct_route(req.path)
    answer = app.direct.answer
    statuses = set()
    for _ in range(n):
        status, _, _ = await answer(slug, endpoint, headers, req.body, "127.0.0.1")
        statuses.add(status)
    if statuses != {200}:
        raise SystemExit(f"unexpected statuses: {sorted(statuses)}")


async def lifespan(app: Any) -> tuple[asyncio.Event, asyncio.Task[None]]:
    started, stop = asyncio.Event(), asyncio.Event()
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "lifespan.startup"}
        await stop.wait()
        return {"type": "lifespan.shutdown"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "lifespan.startup.complete":
            started.set()
        elif message["type"] == "lifespan.startup.failed":
            raise SystemExit(message.get("message"))

    task = asyncio.create_task(
        app({"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}, receive, send)
    )
    await started.wait()
    return stop, task


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--endpoint", choices=("token", "verify"), default="token")
    ap.add_argument("-n", type=int, default=5000)
    ap.add_argument("--warmup", type=int, default=500)
    ap.add_argument("--profile", action="store_true")
    ap.add_argument("--asgi", action="store_true", help="through ASGI, not the direct way")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="gatepass-hot-") as tmp:
        for var in [v for v in os.environ if v.startswith("GATEPASS_")]:
            del os.environ[var]
        os.environ.update(
            GATEPASS_DATA_DIR=tmp,
            GATEPASS_PUBLIC_URL="http://127.0.0.1:8090",
            GATEPASS_SECRET_KEY=secrets.token_hex(32),
            GATEPASS_ENV="development",
            GATEPASS_LOG_LEVEL="warning",
        )
        req = setup(a.endpoint)
        app = create_app_from_env()
        stop, task = await lifespan(app)
        profiler = cProfile.Profile() if a.profile else None
        if profiler:
            profiler.enable()
        started = time.perf_counter()
        await drive(app, req, 1, asgi=a.asgi)
        cold = time.perf_counter() - started
        if profiler:
            profiler.disable()
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)
        print(f"{a.endpoint}: first request after startup {cold * 1e3:.1f} ms")
        await drive(app, req, a.warmup, asgi=a.asgi)
        profiler = cProfile.Profile() if a.profile else None
        if profiler:
            profiler.enable()
        started = time.perf_counter()
        await drive(app, req, a.n, asgi=a.asgi)
        elapsed = time.perf_counter() - started
        if profiler:
            profiler.disable()
        print(
            f"{a.endpoint}: {a.n} requests, {elapsed / a.n * 1e6:.1f} us each (in-process, no HTTP)"
        )
        if profiler:
            pstats.Stats(profiler).sort_stats("tottime").print_stats(30)
        stop.set()
        await task


if __name__ == "__main__":
    import uvloop

    uvloop.run(main())
