"""The example "platform API": a FastAPI app protected by the Gatepass SDK.

Start it against a running Gatepass (see ``examples/README.md``)::

    GATEPASS_ISSUER=http://127.0.0.1:8080/realms/demo \\
    GATEPASS_VERIFY_CLIENT_ID=... GATEPASS_VERIFY_CLIENT_SECRET=... \\
    .venv/bin/uvicorn --factory examples.platform_api:create_app --port 8000

One endpoint per permission of the demo tenant's catalog (seed 000), each guarded by
``requires``; answers hold only data of the caller's client groups. Failures are RFC 6750
answers from the SDK. Nothing happens at import time: ``create_app`` reads the environment.
"""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, HTTPException
from pydantic import BaseModel

from examples import platform_data as data
from gatepass_sdk import ApiKeyLogFilter, Caller, GatepassMiddleware, GatepassVerifier, requires

REALM = "platform-api"
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


@dataclass(frozen=True)
class PlatformSettings:
    issuer: str = "http://127.0.0.1:8080/realms/demo"
    audience: str = "api://demo"
    verify_client: tuple[str, str] | None = None
    key_cache_ttl: float = 30.0
    log_level: str = "INFO"

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> PlatformSettings:
        client_id = env.get("GATEPASS_VERIFY_CLIENT_ID")
        secret = env.get("GATEPASS_VERIFY_CLIENT_SECRET")
        return cls(
            issuer=env.get("GATEPASS_ISSUER", cls.issuer),
            audience=env.get("GATEPASS_AUDIENCE", cls.audience),
            verify_client=(client_id, secret) if client_id and secret else None,
            key_cache_ttl=float(env.get("GATEPASS_KEY_CACHE_TTL", cls.key_cache_ttl)),
            log_level=env.get("PLATFORM_API_LOG_LEVEL", cls.log_level).upper(),
        )


def create_app(settings: PlatformSettings | None = None) -> FastAPI:
    settings = settings or PlatformSettings.from_env(os.environ)
    configure_logging(settings.log_level)
    verifier = GatepassVerifier(
        issuer=settings.issuer,
        audience=settings.audience,
        verify_client=settings.verify_client,
        key_ttl=settings.key_cache_ttl,
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        await verifier.aclose()

    app = FastAPI(title="Platform API (Gatepass example)", lifespan=lifespan)
    app.add_middleware(GatepassMiddleware, verifier=verifier, realm=REALM)
    app.include_router(router)
    return app


def configure_logging(level: str) -> None:
    """Readable logs on stderr, with ``?apikey=`` values masked in every line (the access log
    included: uvicorn writes the request line as it was received)."""
    logging.basicConfig(level=level, format=LOG_FORMAT)
    logging.getLogger().setLevel(level)
    for name in ("", "uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        for filterer in (logger, *logger.handlers):
            if not any(isinstance(f, ApiKeyLogFilter) for f in filterer.filters):
                filterer.addFilter(ApiKeyLogFilter())


router = APIRouter()


class FieldValue(BaseModel):
    value: str


def trigger(kind: str, catalog: frozenset[str], item: str, caller: Caller) -> dict[str, Any]:
    if item not in catalog:
        raise HTTPException(404, f"no {kind} '{item[:100]}'")
    targets = [device.name for device in data.visible_devices(caller)]
    return {kind: item, "status": "queued", "targets": targets, "by": caller.subject}


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/me")
async def me(caller: Annotated[Caller, Depends(requires())]) -> dict[str, Any]:
    return data.caller_view(caller)


@router.post("/remote-actions/{action_id}/trigger")
async def trigger_remote_action(
    action_id: str, caller: Annotated[Caller, Depends(requires("remote_actions"))]
) -> dict[str, Any]:
    return trigger("remote_action", data.REMOTE_ACTIONS, action_id, caller)


@router.put("/enrichment/devices/{device}/fields/{field}")
async def enrich_device(
    device: str,
    field: str,
    body: FieldValue,
    caller: Annotated[Caller, Depends(requires("enrichment"))],
) -> dict[str, Any]:
    found = data.find_device(caller, device)
    if found is None or field not in data.ENRICHMENT_FIELDS:
        raise HTTPException(404, "no such device or field")
    return {"device": found.name, "field": field, "value": body.value, "status": "accepted"}


@router.get("/devices")
async def list_devices(
    caller: Annotated[Caller, Depends(requires("data_management"))],
) -> dict[str, Any]:
    return {"devices": data.device_rows(caller)}


@router.post("/workflows/{workflow_id}/trigger")
async def trigger_workflow(
    workflow_id: str, caller: Annotated[Caller, Depends(requires("workflows"))]
) -> dict[str, Any]:
    return trigger("workflow", data.WORKFLOWS, workflow_id, caller)


@router.post("/campaigns/{campaign_id}/trigger")
async def trigger_campaign(
    campaign_id: str, caller: Annotated[Caller, Depends(requires("campaigns"))]
) -> dict[str, Any]:
    return trigger("campaign", data.CAMPAIGNS, campaign_id, caller)


@router.get("/nql/queries/{query_id}/results")
async def nql_results(
    query_id: str, caller: Annotated[Caller, Depends(requires("nql"))]
) -> dict[str, Any]:
    rows = data.nql_rows(caller, query_id)
    if rows is None:
        raise HTTPException(404, f"no NQL query '{query_id[:100]}'")
    return {"query_id": query_id, "rows": rows}


@router.post("/spark/conversations")
async def start_spark_conversation(
    caller: Annotated[Caller, Depends(requires("spark"))],
) -> dict[str, Any]:
    return {"conversation": "spark-1", "status": "transferred", "by": caller.subject}
