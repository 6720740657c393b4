"""The application factory: builds one Gatepass ASGI app from a ``Settings`` object."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio.to_thread
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from gatepass import __version__
from gatepass.api import docs, problems
from gatepass.api import routes as management
from gatepass.api.idempotency import IdempotencyStore
from gatepass.body_limit import BodyLimit
from gatepass.console import routes as console
from gatepass.console.web import HERE as CONSOLE_DIR
from gatepass.console.web import error_page
from gatepass.credential_secrets import derive_key
from gatepass.deliveries.service import DeliveryKeys
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
from gatepass.sessions.service import SessionKeys
from gatepass.settings import Settings
from gatepass.webhooks.dispatcher import Dispatcher

CONSOLE = management.included(console.router)


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
        try:
            yield
        finally:
            webhooks.stop()
            if runner is not None:
                runner.stop()
            services.failures.stop()
            services.cache.stop()
            services.notices.close()
            await services.limiter.close()
            services.db.dispose()

    api = FastAPI(
        title="Gatepass",
        version=__version__,
        lifespan=lifespan,
        docs_url=None,  # served by gatepass.api.docs, from this server only
        swagger_ui_oauth2_redirect_url=None,
        openapi_url="/openapi.json",
    )
    ctx = ProtocolContext(
        cache=services.cache,
        hasher=services.hasher,
        metrics=services.metrics,
        limiter=services.limiter,
        throttle=ClientThrottle(services.limiter, services.metrics.registry),
        remote_keys=RemoteKeySets(Rules.for_keys(settings), deadline=settings.jwks_timeout),
        nonces=Nonces(derive_key(settings.master_key(), b"gatepass dpop nonce v1")),
    )
    api.state.services = services
    api.state.protocol = ctx
    api.state.session_keys = SessionKeys.from_master_key(settings.master_key())
    api.state.idempotency = IdempotencyStore.from_master_key(settings.master_key())
    api.state.delivery_keys = DeliveryKeys.from_master_key(settings.master_key())
    api.state.github_keys = GitHubKeys(settings)
    api.include_router(health.router(services.db, services.metrics, settings.redis_url))
    management.install(api, management.MANAGEMENT)
    api.mount("/console/static", StaticFiles(directory=CONSOLE_DIR / "static"), name="console")
    management.install(api, CONSOLE)
    docs.install(api, openapi_url="/openapi.json")
    problems.install(api, pages=error_page)
    app = BodyLimit(
        ProtocolApp(ctx, api),
        protocol_limit=settings.max_body_bytes,
        management_limit=settings.max_management_body_bytes,
        pages=error_page,
    )
    app.services = services  # type: ignore[attr-defined]
    return app


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
