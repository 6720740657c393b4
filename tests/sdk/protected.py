"""A small API protected by the SDK, run in process through ``httpx.ASGITransport``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

import httpx
from fastapi import Depends, FastAPI, Request

from gatepass_sdk import Caller, GatepassMiddleware, GatepassVerifier, requires

REALM = "tests"


def protected_app(verifier: GatepassVerifier) -> FastAPI:
    app = FastAPI()
    app.add_middleware(GatepassMiddleware, verifier=verifier, realm=REALM)

    @app.get("/open")
    async def open_(request: Request) -> dict[str, Any]:
        caller = request.scope["gatepass.caller"]
        return {"query": request.url.query, "subject": caller.subject if caller else None}

    @app.get("/me")
    async def me(caller: Annotated[Caller, Depends(requires())]) -> dict[str, Any]:
        return {
            "subject": caller.subject,
            "kind": caller.kind,
            "permissions": sorted(caller.permissions),
            "groups": list(caller.groups),
            "name": caller.name,
            "owner": caller.owner,
        }

    @app.get("/nql")
    async def nql(caller: Annotated[Caller, Depends(requires("nql"))]) -> dict[str, str]:
        return {"subject": caller.subject}

    @app.get("/nql-and-workflows")
    async def both(
        caller: Annotated[Caller, Depends(requires("nql", "workflows"))],
    ) -> dict[str, str]:
        return {"subject": caller.subject}

    return app


@asynccontextmanager
async def api(verifier: GatepassVerifier) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client of the protected app; closes the verifier afterwards."""
    transport = httpx.ASGITransport(app=protected_app(verifier))
    async with verifier, httpx.AsyncClient(transport=transport, base_url="http://api") as http:
        yield http


def challenge(response: httpx.Response) -> str:
    return str(response.headers.get("www-authenticate", ""))
