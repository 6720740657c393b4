"""All management routes under ``/api/v1/realms/{tenant}``."""

from __future__ import annotations

from fastapi import Depends, FastAPI

from gatepass.api import console_session, credentials, tenancy
from gatepass.api.plain import plain_request

PREFIX = "/api/v1/realms/{tenant}"


def install(app: FastAPI) -> None:
    for module in (console_session, tenancy, credentials):
        app.include_router(module.router, prefix=PREFIX, dependencies=[Depends(plain_request)])
