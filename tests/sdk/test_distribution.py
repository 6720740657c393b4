"""The SDK as its own distribution: its wheel, installed into a fresh virtual environment that has
no Gatepass server in it, protects a Starlette app against a live Gatepass.

The wheel is built from ``sdks/python`` as ``make dist`` builds it; its dependencies come from
the package index, pinned by ``constraints.txt``.
"""

from __future__ import annotations

import json
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from tests.e2e.conftest import Server
from tests.factories import Factory
from tests.sdk.realm import Realm

# Building the environment downloads the SDK's dependencies: more than the default timeout.
pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.timeout(900)]

REPOSITORY = Path(__file__).resolve().parents[2]

# Run by the fresh environment's Python: a Starlette app protected by the SDK, called with no
# credential, an API key, a token got by the SDK's own ClientCredentialsAuth, and a key that
# lacks the route's permission.
APP = """
import json, sys
import httpx
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.testclient import TestClient
from gatepass_sdk import ClientCredentialsAuth, GatepassMiddleware, GatepassVerifier, requires

issuer, audience, verify_id, verify_secret, token_url, client_id, secret, key, other = sys.argv[1:]

async def nql(request):
    caller = await requires("nql")(request)
    return JSONResponse({"subject": caller.subject, "kind": caller.kind})

app = Starlette(routes=[Route("/nql", nql)])
verifier = GatepassVerifier(
    issuer=issuer, audience=audience, verify_client=(verify_id, verify_secret)
)
app.add_middleware(GatepassMiddleware, verifier=verifier)
# The SDK's httpx auth gets a token (any request through it carries one).
with httpx.Client(auth=ClientCredentialsAuth(token_url, client_id, secret)) as http:
    sent = http.get(issuer + "/.well-known/openid-configuration").request
token = sent.headers["authorization"].removeprefix("Bearer ")
answers = {}
with TestClient(app) as client:
    for name, headers in {
        "none": {},
        "key": {"Authorization-PSK": key},
        "token": {"Authorization": f"Bearer {token}"},
        "lacking": {"Authorization-PSK": other},
    }.items():
        response = client.get("/nql", headers=headers)
        answers[name] = [response.status_code, response.headers.get("www-authenticate", "")]
print(json.dumps(answers))
"""


@pytest.fixture(scope="module")
def sdk_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A new virtual environment holding the SDK's wheel with its ``starlette`` extra only."""
    where = tmp_path_factory.mktemp("sdk-dist")
    wheels = where / "wheels"
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--quiet"]
    subprocess.run(
        [*pip, "wheel", "--no-deps", "-w", str(wheels), str(REPOSITORY / "sdks" / "python")],
        check=True,
        timeout=300,
    )
    (wheel,) = wheels.glob("gatepass_sdk-*.whl")
    venv.EnvBuilder(with_pip=True).create(where / "venv")
    python = where / "venv" / "bin" / "python"
    constraints = str(REPOSITORY / "constraints.txt")
    install = ["-m", "pip", "--disable-pip-version-check", "--quiet", "install", "-c", constraints]
    subprocess.run([str(python), *install, f"{wheel}[starlette]"], check=True, timeout=600)
    return python


def outside(python: Path) -> Path:
    """A directory with no Gatepass source in it, for ``python -c`` to start in."""
    return python.parents[2]


def test_the_wheel_alone_installs_no_server(sdk_python: Path) -> None:
    installed = subprocess.run(
        [str(sdk_python), "-m", "pip", "list", "--format=json"],
        check=True,
        capture_output=True,
        text=True,
    )
    names = {p["name"].lower() for p in json.loads(installed.stdout)}
    assert "gatepass-sdk" in names
    assert not names & {"gatepass", "fastapi", "sqlalchemy", "psycopg", "argon2-cffi", "uvicorn"}
    found = subprocess.run(
        [str(sdk_python), "-c", "import gatepass"],
        cwd=outside(sdk_python),
        check=False,
        capture_output=True,
    )
    assert found.returncode != 0


def test_the_installed_sdk_protects_a_starlette_app(
    sdk_python: Path, gatepass: Server, gatepass_factory: Factory
) -> None:
    realm = Realm.create(gatepass, gatepass_factory)
    client = realm.client(scopes=("nql",))
    key = realm.api_key(scopes=("nql",))
    other = realm.api_key(scopes=("workflows",))
    verify = (realm.verify_client.client_id, realm.verify_client.secret)
    token = (gatepass.token_url(realm.slug), client.client_id, client.secret)
    run = subprocess.run(
        [
            str(sdk_python),
            "-c",
            APP,
            realm.issuer,
            realm.audience,
            *verify,
            *token,
            key.key,
            other.key,
        ],
        cwd=outside(sdk_python),
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    answers = json.loads(run.stdout)
    assert answers["none"] == [401, f'Bearer realm="{realm.audience}"']
    assert answers["key"][0] == 200
    assert answers["token"][0] == 200
    assert answers["lacking"][0] == 403
    assert 'error="insufficient_scope"' in answers["lacking"][1]
