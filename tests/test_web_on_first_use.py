"""A server worker imports the management API, the console and the docs on the first request
for one of them, never for tokens, discovery, keys or probes (``gatepass.web``).

Checked in a fresh interpreter built as a ``serve`` worker is (``create_app_from_env``, its
lifespan run): this test process has long imported everything.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from gatepass.settings import Settings
from tests.e2e.conftest import base_env
from tests.factories import Factory

WORKER = """\
import json, sys
from starlette.testclient import TestClient
from gatepass.app import create_app_from_env

WEB = ("gatepass.web", "gatepass.api.routes", "gatepass.console.routes", "jinja2")
client_id, secret, tenant = sys.argv[1:4]
seen = {}
with TestClient(create_app_from_env()) as client:
    token = f"/realms/{tenant}/protocol/openid-connect/token"
    answers = [
        client.post(token, data={"grant_type": "client_credentials"}, auth=(client_id, secret)),
        client.post(token, data={"grant_type": "client_credentials"}, auth=(client_id, "wrong")),
        client.get(f"/realms/{tenant}/.well-known/openid-configuration"),
        client.get(f"/realms/{tenant}/protocol/openid-connect/certs"),
        client.get("/healthz"),
        client.get("/readyz"),
        client.get("/metrics"),
        client.head("/healthz"),  # GET only: a problem document, as from the web app
    ]
    seen["protocol"] = [a.status_code for a in answers]
    seen["head"] = answers[-1].headers.get("content-type")
    seen["before"] = [m for m in WEB if m in sys.modules]
    seen["openapi"] = client.get("/openapi.json").status_code
    seen["console"] = client.get("/console", follow_redirects=False).status_code
    seen["after"] = [m for m in WEB if m in sys.modules]
print(json.dumps(seen))
"""


def test_tokens_and_probes_never_load_the_web_app_and_its_first_request_does(
    settings: Settings, factory: Factory, tmp_path: Path
) -> None:
    tenant = factory.tenant("acme")
    credential = factory.client(tenant)
    env = base_env(settings, tmp_path)

    done = subprocess.run(
        [sys.executable, "-P", "-c", WORKER, credential.client_id, credential.secret, tenant],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.splitlines()[-1])
    assert seen["protocol"] == [200, 401, 200, 200, 200, 200, 200, 405]
    assert seen["head"] == "application/problem+json"
    assert seen["before"] == []
    assert seen["openapi"] == 200
    assert seen["console"] in (200, 303)
    assert seen["after"] == [
        "gatepass.web",
        "gatepass.api.routes",
        "gatepass.console.routes",
        "jinja2",
    ]
