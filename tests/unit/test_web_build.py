"""``gatepass.app.Web``: the app behind the protocol endpoints is built once, by the first
request that needs it, on one worker thread; requests that come meanwhile wait for it without
holding a thread each (a flood at start cannot take the threads token requests need)."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import anyio.to_thread
import pytest
from fastapi import FastAPI

from gatepass.app import Web

REQUESTS = 20


def request(path: str, method: str = "GET") -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": [],
        "server": ("testserver", 80),
        "client": ("127.0.0.1", 1234),
    }


async def status_of(app: Web, path: str, method: str = "GET") -> int:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(request(path, method), receive, send)
    status: int = sent[0]["status"]
    return status


def built_app() -> FastAPI:
    app = FastAPI()

    @app.get("/page")
    async def page() -> dict[str, str]:
        return {"built": "yes"}

    return app


def test_concurrent_first_requests_build_once_on_one_thread() -> None:
    builds: list[int] = []
    release = threading.Event()
    threads_in_use: list[int] = []

    def build() -> FastAPI:
        builds.append(1)
        release.wait(30)
        return built_app()

    async def run() -> list[int]:
        web = Web(FastAPI(), build)
        limiter = anyio.to_thread.current_default_thread_limiter()
        waiting = [asyncio.ensure_future(status_of(web, "/page")) for _ in range(REQUESTS)]
        while len(builds) == 0 or limiter.borrowed_tokens == 0:
            await asyncio.sleep(0.01)
        for _ in range(20):  # every request has reached its wait
            await asyncio.sleep(0)
        threads_in_use.append(limiter.borrowed_tokens)
        release.set()
        return list(await asyncio.gather(*waiting))

    statuses = asyncio.run(run())

    assert statuses == [200] * REQUESTS
    assert builds == [1]
    assert threads_in_use == [1]


def test_a_failed_build_fails_its_requests_and_the_next_request_builds_again() -> None:
    attempts: list[int] = []

    def build() -> FastAPI:
        attempts.append(1)
        if len(attempts) == 1:
            raise RuntimeError("a module is missing")
        return built_app()

    async def run() -> int:
        web = Web(FastAPI(), build)
        with pytest.raises(RuntimeError, match="a module is missing"):
            await status_of(web, "/page")
        return await status_of(web, "/page")

    assert asyncio.run(run()) == 200
    assert attempts == [1, 1]


def test_probes_and_the_lifespan_never_build_it() -> None:
    def build() -> FastAPI:
        raise AssertionError("built for a probe")

    edge = FastAPI()

    @edge.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    async def run() -> list[int]:
        web = Web(edge, build)
        return [await status_of(web, "/healthz"), await status_of(web, "/healthz", "HEAD")]

    assert asyncio.run(run()) == [200, 405]
