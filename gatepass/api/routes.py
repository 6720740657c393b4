"""All management routes under ``/api/v1/realms/{tenant}``."""

from __future__ import annotations

from fastapi import APIRouter, Depends, FastAPI

from gatepass.api import console_session, credentials, leaks, reports, tenancy, webhooks
from gatepass.api.plain import plain_request
from gatepass.leaks.reports import PATH_PREFIX as LEAKS_PREFIX

PREFIX = "/api/v1/realms/{tenant}"


def included(*routers: APIRouter, prefix: str = "") -> APIRouter:
    """``routers`` included once per process, for every app to share (``install``).

    FastAPI prepares an included router's routes (their request and response models) on the
    first request that reaches them, and keeps that work with the inclusion: an inclusion per
    app would do it again for each app of the process (60 ms for this API).
    """
    shared = APIRouter()
    for router in routers:
        shared.include_router(router, prefix=prefix, dependencies=[Depends(plain_request)])
    return shared


def install(app: FastAPI, shared: APIRouter) -> None:
    app.router.routes.extend(shared.routes)


MANAGEMENT = included(
    console_session.router,
    tenancy.router,
    credentials.router,
    reports.router,
    webhooks.router,
    prefix=PREFIX,
)
# Not per tenant: a reported secret's own format says whose it is.
MANAGEMENT.routes.extend(included(leaks.router, prefix=LEAKS_PREFIX).routes)
