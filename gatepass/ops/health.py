"""Liveness, readiness and Prometheus metrics endpoints."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool

from gatepass.db import Database
from gatepass.ops.metrics import Metrics


def router(db: Database, metrics: Metrics) -> APIRouter:
    routes = APIRouter(tags=["operations"])

    @routes.get("/healthz")
    async def healthz() -> dict[str, str]:
        """The process is up."""
        return {"status": "ok"}

    @routes.get("/readyz", responses={503: {"description": "The database is unreachable"}})
    async def readyz() -> JSONResponse:
        """The process can serve requests: its database answers."""
        try:
            await run_in_threadpool(_ping, db)
        except SQLAlchemyError:
            return JSONResponse(
                {"status": "unavailable", "database": "unreachable"},
                status_code=503,
                headers={"Retry-After": "2"},
            )
        return JSONResponse({"status": "ok", "database": "ok"})

    @routes.get("/metrics", response_class=Response)
    async def prometheus() -> Response:
        """Prometheus text exposition."""
        return Response(metrics.render(), media_type="text/plain; version=0.0.4")

    return routes


def _ping(db: Database) -> None:
    with db.engine.connect() as connection:
        connection.execute(text("SELECT 1"))
