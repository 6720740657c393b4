"""The application factory: builds one Gatepass ASGI app from a ``Settings`` object."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from fastapi import FastAPI

from gatepass import credential_secrets as cs
from gatepass.apikeys.ratelimit import RateLimiter
from gatepass.cache.store import CredentialCache
from gatepass.db import Database
from gatepass.oauth.asgi import ProtocolApp
from gatepass.oauth.context import ProtocolContext
from gatepass.ops import health
from gatepass.ops.logging import configure as configure_logging
from gatepass.ops.metrics import Metrics
from gatepass.settings import Settings
from gatepass.signing_keys.material import KeyCipher


@dataclass(frozen=True)
class Services:
    """What request handlers need, built once per process."""

    settings: Settings
    db: Database
    hasher: cs.SecretHasher
    cipher: KeyCipher
    cache: CredentialCache
    metrics: Metrics
    limiter: RateLimiter


def build_services(settings: Settings) -> Services:
    master = settings.master_key()
    db = Database(settings.effective_database_url)
    cipher = KeyCipher.from_master_key(master)
    cache = CredentialCache(
        db, public_url=settings.public_url, cipher=cipher, poll=settings.cache_poll_interval
    )
    return Services(
        settings=settings,
        db=db,
        hasher=cs.SecretHasher.from_master_key(master),
        cipher=cipher,
        cache=cache,
        metrics=Metrics(),
        limiter=RateLimiter(settings.redis_url),
    )


def create_app(settings: Settings) -> ProtocolApp:
    configure_logging(settings.log_level)
    services = build_services(settings)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        services.cache.start()
        try:
            yield
        finally:
            services.cache.stop()
            await services.limiter.close()
            services.db.dispose()

    api = FastAPI(
        title="Gatepass",
        version="0.1.0",
        lifespan=lifespan,
        docs_url="/docs",
        openapi_url="/openapi.json",
    )
    api.state.services = services
    api.include_router(health.router(services.db, services.metrics, settings.redis_url))
    ctx = ProtocolContext(
        cache=services.cache,
        hasher=services.hasher,
        metrics=services.metrics,
        limiter=services.limiter,
        max_body=settings.max_body_bytes,
    )
    app = ProtocolApp(ctx, api)
    app.services = services  # type: ignore[attr-defined]
    return app


def create_app_from_env() -> ProtocolApp:
    """Entry point for ASGI servers that import the app themselves (``serve --workers N``)."""
    return create_app(Settings())
