"""The example "platform API" on Flask, protected by ``gatepass_sdk.flask``.

Start it against a running Gatepass (see ``examples/README.md``)::

    GATEPASS_ISSUER=http://127.0.0.1:8080/realms/demo \\
    GATEPASS_VERIFY_CLIENT_ID=... GATEPASS_VERIFY_CLIENT_SECRET=... \\
    .venv/bin/flask --app examples.flask_api run --port 8000

``GET /me`` answers any caller with who it is; ``GET /nql/queries/<query>/results`` needs
``nql`` and lists only the devices of the caller's client groups; ``GET /healthz`` is open.
Failures are RFC 6750 answers from the SDK. ``create_app`` reads the environment unless it is
given a config.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from flask import Flask, abort, g

from examples import platform_data as data
from gatepass_sdk.flask import Gatepass, requires

gatepass = Gatepass()


def config_from_env(env: Mapping[str, str]) -> dict[str, Any]:
    client_id = env.get("GATEPASS_VERIFY_CLIENT_ID")
    secret = env.get("GATEPASS_VERIFY_CLIENT_SECRET")
    return {
        "GATEPASS_ISSUER": env.get("GATEPASS_ISSUER", "http://127.0.0.1:8080/realms/demo"),
        "GATEPASS_AUDIENCE": env.get("GATEPASS_AUDIENCE", "api://demo"),
        "GATEPASS_VERIFY_CLIENT": (client_id, secret) if client_id and secret else None,
    }


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    app = Flask(__name__)
    app.config["GATEPASS_REALM"] = "platform-api"
    app.config.update(config if config is not None else config_from_env(os.environ))
    gatepass.init_app(app)

    @app.get("/healthz")
    def healthz() -> dict[str, Any]:
        return {"status": "ok", "caller": g.gatepass_caller.subject if g.gatepass_caller else None}

    @app.get("/me")
    @requires()
    def me() -> dict[str, Any]:
        return data.caller_view(g.gatepass_caller)

    @app.get("/nql/queries/<query>/results")
    @gatepass.requires("nql")
    def nql_results(query: str) -> dict[str, Any]:
        rows = data.nql_rows(g.gatepass_caller, query)
        if rows is None:
            abort(404)
        return {"query_id": query, "rows": rows}

    return app
