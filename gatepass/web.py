"""The management API, the console and the API docs: one FastAPI app, built on first use.

A token or verify request never reaches this app (``oauth.asgi`` answers those below it), nor
does a probe of ``/healthz``, ``/readyz`` or ``/metrics``. ``gatepass.app`` therefore imports
this module, and with it the API's request and response models, the console's templates and
the docs, when a request first needs them: a worker that only issues tokens never holds them
(9 MiB and about 0.2 s of CPU per worker: bench/results/serve-start-2026-12-05.md).
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import State

from gatepass import __version__
from gatepass.api import docs, problems
from gatepass.api import routes as management
from gatepass.api.idempotency import IdempotencyStore
from gatepass.console import routes as console
from gatepass.console.web import HERE as CONSOLE_DIR
from gatepass.console.web import error_page
from gatepass.deliveries.service import DeliveryKeys
from gatepass.sessions.service import SessionKeys
from gatepass.settings import Settings

CONSOLE = management.included(console.router)
OPENAPI_URL = "/openapi.json"


def build(settings: Settings, state: State, operations: APIRouter) -> FastAPI:
    """The app, sharing ``state`` (services, protocol context) with the app that runs the
    lifespan; ``operations`` (health and metrics) is listed here too, so that the OpenAPI
    document and the error answers are those of one app."""
    master = settings.master_key()
    state.session_keys = SessionKeys.from_master_key(master)
    state.idempotency = IdempotencyStore.from_master_key(master)
    state.delivery_keys = DeliveryKeys.from_master_key(master)
    app = FastAPI(
        title="Gatepass",
        version=__version__,
        docs_url=None,  # served by gatepass.api.docs, from this server only
        swagger_ui_oauth2_redirect_url=None,
        openapi_url=OPENAPI_URL,
    )
    app.state = state
    app.include_router(operations)
    management.install(app, management.MANAGEMENT)
    app.mount("/console/static", StaticFiles(directory=CONSOLE_DIR / "static"), name="console")
    management.install(app, CONSOLE)
    docs.install(app, openapi_url=OPENAPI_URL)
    problems.install(app, pages=error_page)
    return app
