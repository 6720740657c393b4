"""The application factory: builds one Gatepass ASGI app from a ``Settings`` object."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import threading
from collections.abc import AsyncIterator, Callable
from concurrent.futures import Future
from contextlib import asynccontextmanager

import anyio.to_thread
from fastapi import APIRouter, FastAPI
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from gatepass.api import problems
from gatepass.body_limit import BodyLimit
from gatepass.credential_secrets import derive_key
from gatepass.destinations import Rules
from gatepass.jobs.runner import JobRunner
from gatepass.leaks.github import GitHubKeys
from gatepass.oauth.asgi import ProtocolApp
from gatepass.oauth.context import ProtocolContext
from gatepass.oauth.dpop import Nonces
from gatepass.oauth.throttle import ClientThrottle
from gatepass.ops import health
from gatepass.ops.logging import configure as configure_logging
from gatepass.publickeys.remote import RemoteKeySets
from gatepass.schedule import JOBS
from gatepass.services import build_services
from gatepass.settings import Settings
from gatepass.webhooks.dispatcher import Dispatcher

# What a probe asks for; anything else not for the protocol endpoints goes to ``gatepass.web``.
PROBES = frozenset({"/healthz", "/readyz", "/metrics"})
# How often a process adds the protocol requests it noted to its metrics (``gatepass.ops.metrics``).
METRICS_FLUSH_SECONDS = 1.0


def create_app(
    settings: Settings, *, server_process: bool = False, jobs: bool | None = None
) -> BodyLimit:
    """``server_process``: the app is the only one its process will ever build (a ``serve``
    worker): its cache is warmed before the first request, and the heap it holds after startup
    is frozen (see ``freeze_startup_heap``). An app built in process (tests, embedding) loads
    what it needs on first use.

    ``jobs``: run the background jobs in a thread (default: in a server process), unless
    ``GATEPASS_JOBS_ENABLED`` is false."""
    configure_logging(settings.log_level)
    services = build_services(settings)
    webhooks = Dispatcher(services.db, settings)
    wanted = server_process if jobs is None else jobs
    runner = JobRunner(services.db, settings, JOBS) if wanted and settings.jobs_enabled else None

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        services.cache.start()
        services.failures.start()
        webhooks.start()
        if runner is not None:
            runner.start()
        if server_process:
            # In a worker thread, as requests load entries: this also starts the thread pool.
            await anyio.to_thread.run_sync(services.cache.warm)
            freeze_startup_heap()
        flushing = asyncio.create_task(services.metrics.flush_every(METRICS_FLUSH_SECONDS))
        try:
            yield
        finally:
            flushing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await flushing
            webhooks.stop()
            if runner is not None:
                runner.stop()
            services.failures.stop()
            services.cache.stop()
            services.notices.close()
            await services.limiter.close()
            services.db.dispose()

    # Runs the lifespan and answers probes; the management API, the console and the docs are
    # built on the first request for one of them (``gatepass.web``).
    edge = FastAPI(lifespan=lifespan, openapi_url=None, docs_url=None, redoc_url=None)
    ctx = ProtocolContext(
        cache=services.cache,
        hasher=services.hasher,
        metrics=services.metrics,
        limiter=services.limiter,
        throttle=ClientThrottle(services.limiter, services.metrics.registry),
        remote_keys=RemoteKeySets(Rules.for_keys(settings), deadline=settings.jwks_timeout),
        nonces=Nonces(derive_key(settings.master_key(), b"gatepass dpop nonce v1")),
    )
    edge.state.services = services
    edge.state.protocol = ctx
    # Checked here, so that a keys setting that is not GitHub's stops the worker from starting.
    edge.state.github_keys = GitHubKeys(settings)
    operations = health.router(services.db, services.metrics, settings.redis_url)
    edge.include_router(operations)
    problems.install(edge)  # a probe's errors (a 405, a crash) are problem documents too
    web = Web(edge, lambda: _web(settings, edge, operations, frozen=server_process))
    protocol = ProtocolApp(ctx, web, body_limit=settings.max_body_bytes)
    app = BodyLimit(
        protocol,
        protocol_limit=settings.max_body_bytes,
        management_limit=settings.max_management_body_bytes,
        pages=_page,
    )
    app.services = services  # type: ignore[attr-defined]
    # What the server answers without ASGI (``gatepass.ops.http_protocol``).
    app.direct = protocol  # type: ignore[attr-defined]
    return app


class Web:
    """Probes (``GET`` or ``HEAD`` of ``PROBES``) and the lifespan go to ``edge``; every other
    request to the app ``build`` makes for the first of them, once per process."""

    def __init__(self, edge: FastAPI, build: Callable[[], FastAPI]) -> None:
        self.edge = edge
        self._build = build
        self._app: FastAPI | None = None
        self._lock = threading.Lock()
        self._pending: Future[FastAPI] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or (
            scope["path"] in PROBES and scope["method"] in ("GET", "HEAD")
        ):
            await self.edge(scope, receive, send)
            return
        app = self._app
        if app is None:
            app = await self._first()
        await app(scope, receive, send)

    async def _first(self) -> FastAPI:
        """The first request builds the app on a worker thread, so that the loop goes on serving
        tokens; those that come meanwhile wait for it without holding a thread each. A build that
        fails (a broken install) fails its requests, and the next request tries again."""
        with self._lock:
            pending, first = self._pending, self._pending is None
            if pending is None:
                pending = self._pending = Future()
        if first:
            try:
                pending.set_result(await anyio.to_thread.run_sync(self._build))
            except Exception as exc:
                pending.set_exception(exc)
                with self._lock:
                    self._pending = None
        app = await asyncio.wrap_future(pending)
        self._app = app
        return app

    def app(self) -> FastAPI:
        """The app, built now if no request has needed it yet (for tests that read it)."""
        if self._app is None:
            self._app = self._build()
        return self._app


def _web(settings: Settings, edge: FastAPI, operations: APIRouter, *, frozen: bool) -> FastAPI:
    from gatepass import web  # noqa: PLC0415 - on first use: see gatepass.web

    built = web.build(settings, edge.state, operations)
    if frozen:  # kept out of later collections, as the startup heap is
        freeze_startup_heap()
    return built


def _page(request: Request, status: int, detail: str) -> Response:
    """The console's error page, for ``body_limit``, which may answer before the web app is
    built; its templates load on first use too."""
    from gatepass.console.web import error_page  # noqa: PLC0415 - on first use

    return error_page(request, status, detail)


def create_app_from_env() -> BodyLimit:
    """Entry point for ASGI servers that import the app themselves (``serve --workers N``)."""
    return create_app(Settings(), server_process=True)


def freeze_startup_heap() -> None:
    """Leave what startup built (modules, classes, the app: some 150,000 objects) out of every
    later garbage collection. A full collection otherwise walks all of it, stopping the worker
    for tens to hundreds of milliseconds under load: the slowest requests waited for that.
    Objects frozen here are never collected, so this is for a process that builds one app."""
    gc.collect()
    gc.freeze()
