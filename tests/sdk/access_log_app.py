"""A small API protected by the SDK, served by uvicorn with uvicorn's own logging, as its own
process: ``python -m tests.sdk.access_log_app PORT eager|lazy``.

Nothing in it touches logging: whatever keeps ``?apikey=`` out of the access log is the SDK's.
``eager`` wraps the app in ``GatepassMiddleware`` before uvicorn configures its loggers; ``lazy``
adds it with ``app.add_middleware``, which builds it at the first request.
"""

from __future__ import annotations

import os
import sys

import uvicorn
from fastapi import FastAPI, Request
from starlette.types import ASGIApp

from gatepass_sdk import GatepassMiddleware, GatepassVerifier


def build(mode: str) -> ASGIApp:
    verifier = GatepassVerifier(
        issuer=os.environ["SDK_TEST_ISSUER"],
        audience=os.environ["SDK_TEST_AUDIENCE"],
        verify_client=(os.environ["SDK_TEST_CLIENT_ID"], os.environ["SDK_TEST_CLIENT_SECRET"]),
    )
    app = FastAPI()

    @app.get("/")
    async def root(request: Request) -> dict[str, str | None]:
        caller = request.scope["gatepass.caller"]
        return {"subject": caller.subject if caller else None}

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    if mode == "eager":
        return GatepassMiddleware(app, verifier=verifier)
    app.add_middleware(GatepassMiddleware, verifier=verifier)
    return app


if __name__ == "__main__":
    port, mode = int(sys.argv[1]), sys.argv[2]
    uvicorn.run(build(mode), host="127.0.0.1", port=port)
