"""What the sign-in hardening tests of the API and the console share: the app under test with
callers from chosen addresses, a watch on its connection pool, and the two edges' sign-ins."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx2
from sqlalchemy import Engine, event
from starlette.testclient import TestClient
from starlette.types import ASGIApp, Receive, Scope, Send

from gatepass.services import Services

SOURCE_HEADER = "x-test-source"
CACHE_THREAD = "gatepass-cache"  # polls the database on its own: not part of any request


class FromAddress:
    """The app, seeing each request come from the address in its ``x-test-source`` header
    (as it would from a trusted proxy's X-Forwarded-For)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            for name, value in scope["headers"]:
                if name.decode() == SOURCE_HEADER:
                    scope = {**scope, "client": (value.decode(), 40000)}
        await self.app(scope, receive, send)


def services_of(http: TestClient) -> Services:
    app: Any = http.app
    found: Services = app.app.services if isinstance(app, FromAddress) else app.services
    return found


class PoolWatch:
    """Connections of ``engine`` checked out by request threads, and statements they ran."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._held: dict[int, str] = {}  # id of the pooled connection -> thread that took it
        self.statements = 0
        self._lock = threading.Lock()

    def held(self) -> int:
        with self._lock:
            return sum(1 for thread in self._held.values() if thread != CACHE_THREAD)

    def _checkout(self, _dbapi: Any, record: Any, _proxy: Any) -> None:
        with self._lock:
            self._held[id(record)] = threading.current_thread().name

    def _checkin(self, _dbapi: Any, record: Any) -> None:
        with self._lock:
            self._held.pop(id(record), None)

    def _statement(self, *_: Any) -> None:
        if threading.current_thread().name != CACHE_THREAD:
            self.statements += 1

    @contextmanager
    def watching(self) -> Iterator[PoolWatch]:
        listeners = (
            (self.engine.pool, "checkout", self._checkout),
            (self.engine.pool, "checkin", self._checkin),
            (self.engine, "before_cursor_execute", self._statement),
        )
        for target, name, listener in listeners:
            event.listen(target, name, listener)
        try:
            yield self
        finally:
            for target, name, listener in listeners:
                event.remove(target, name, listener)


def api_sign_in(
    http: TestClient, email: str, password: str, *, source: str, tenant: str = "acme"
) -> httpx2.Response:
    try:
        return http.post(
            f"/api/v1/realms/{tenant}/session",
            json={"email": email, "password": password},
            headers={SOURCE_HEADER: source},
        )
    finally:
        http.cookies.clear()


def console_sign_in(
    http: TestClient, email: str, password: str, *, source: str, tenant: str = ""
) -> httpx2.Response:
    """Post the console's sign-in form (with the CSRF token of a freshly fetched form)."""
    http.cookies.clear()
    form = http.get("/console/sign-in", headers={SOURCE_HEADER: source})
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token is not None, form.text
    try:
        return http.post(
            "/console/sign-in",
            data={"email": email, "password": password, "tenant": tenant, "csrf_token": token[1]},
            headers={SOURCE_HEADER: source},
            follow_redirects=False,
        )
    finally:
        http.cookies.clear()
