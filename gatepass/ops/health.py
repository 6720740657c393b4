"""Liveness, readiness and Prometheus metrics endpoints."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool

from gatepass.db import Database
from gatepass.ops.metrics import Metrics


def router(db: Database, metrics: Metrics, redis_url: str | None) -> APIRouter:
    routes = APIRouter(tags=["operations"])

    @routes.get("/healthz")
    async def healthz() -> dict[str, str]:
        """The process is up."""
        return {"status": "ok"}

    @routes.get("/readyz", responses={503: {"description": "The database is unreachable"}})
    async def readyz() -> JSONResponse:
        """The process can serve requests when its database answers.

        Redis, when configured, is reported too, but its absence only degrades service (each
        process counts its own limits, and changes travel by the database's change feed), so a
        load balancer keeps the process in rotation: ``"status": "degraded"`` with 200.
        """
        checks = {"database": await _check_database(db)}
        if redis_url is not None:
            checks["redis"] = await _check_redis(redis_url)
        if checks["database"] != "ok":
            return JSONResponse(
                {"status": "unavailable", **checks}, status_code=503, headers={"Retry-After": "2"}
            )
        status = "ok" if all(v == "ok" for v in checks.values()) else "degraded"
        return JSONResponse({"status": status, **checks})

    @routes.get("/metrics", response_class=Response)
    async def prometheus() -> Response:
        """Prometheus text exposition."""
        return Response(metrics.render(), media_type="text/plain; version=0.0.4")

    return routes


async def _check_database(db: Database) -> str:
    try:
        await run_in_threadpool(_ping, db)
    except SQLAlchemyError:
        return "unreachable"
    return "ok"


async def _check_redis(url: str) -> str:
    # Imported only when Redis is configured: it weighs 6.5 MiB in every process.
    from redis.asyncio import Redis  # noqa: PLC0415
    from redis.exceptions import RedisError  # noqa: PLC0415

    client = Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
    try:
        await client.ping()
    except RedisError:
        return "unreachable"
    finally:
        await client.aclose()
    return "ok"


def _ping(db: Database) -> None:
    with db.engine.connect() as connection:
        connection.execute(text("SELECT 1"))
