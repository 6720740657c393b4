"""Node's ``oauth4webapi``, a strict OAuth 2.0 client, against ``gatepass serve``: discovery,
the client credentials grant with ``private_key_jwt``, and DPoP, with and without the server
nonces a tenant may require (the client retries once with the nonce it is given, as RFC 9449 §8
says). ``make test`` installs it (``npm ci`` in ``tests/node_clients``)."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest

from gatepass.settings import Settings
from tests.e2e.conftest import Server
from tests.factories import Factory
from tests.http.support import tenant_session
from tests.keypairs import key_pair

pytestmark = pytest.mark.e2e

PACKAGE = Path(__file__).resolve().parents[1] / "node_clients"
SCRIPT = PACKAGE / "oauth4webapi_token.mjs"


@pytest.fixture(scope="module")
def factory(module_settings: Settings) -> Iterator[Factory]:
    made = Factory(module_settings)
    made.tenant("acme")
    made.tenant("strict")
    with tenant_session(made, "strict") as (_, tenant):
        tenant.require_dpop_nonce = True
    yield made
    made.close()


@pytest.fixture
def server(module_server: Server, factory: Factory) -> Server:
    return module_server


def get_token(server: Server, tenant: str, client_id: str, pair: Any, *, dpop: bool) -> Any:
    node = shutil.which("node")
    assert node is not None, "node is not installed"
    assert (PACKAGE / "node_modules" / "oauth4webapi").is_dir(), "run `make node-clients` first"
    settings = {
        "issuer": server.issuer(tenant),
        "client_id": client_id,
        "private_jwk": pair.private_jwk(),
        "kid": pair.kid,
        "dpop": dpop,
        "scope": "nql",
    }
    run = subprocess.run(
        [node, str(SCRIPT)],
        input=json.dumps(settings),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)


def claims_of(token: dict[str, Any]) -> dict[str, Any]:
    return jwt.decode(token["access_token"], options={"verify_signature": False})


@pytest.mark.parametrize("alg", ["ES256", "RS256"])
def test_private_key_jwt(factory: Factory, server: Server, alg: str) -> None:
    pair = key_pair(alg)
    client_id = factory.client("acme", jwks=pair.jwks()).client_id

    outcome = get_token(server, "acme", client_id, pair, dpop=False)

    assert "error" not in outcome, outcome
    assert outcome["token"]["token_type"].lower() == "bearer"
    claims = claims_of(outcome["token"])
    assert (claims["client_id"], claims["scope"]) == (client_id, "nql")


def test_private_key_jwt_with_dpop(factory: Factory, server: Server) -> None:
    pair = key_pair("ES256")
    client_id = factory.client("acme", jwks=pair.jwks()).client_id

    outcome = get_token(server, "acme", client_id, pair, dpop=True)

    assert "error" not in outcome, outcome
    assert outcome["token"]["token_type"].lower() == "dpop"
    assert claims_of(outcome["token"])["cnf"] == {"jkt": outcome["dpop_jkt"]}
    assert outcome["nonce_retries"] == 0


def test_dpop_with_a_server_nonce(factory: Factory, server: Server) -> None:
    pair = key_pair("ES256")
    client_id = factory.client("strict", jwks=pair.jwks()).client_id

    outcome = get_token(server, "strict", client_id, pair, dpop=True)

    assert "error" not in outcome, outcome
    assert outcome["nonce_retries"] == 1  # asked for a nonce once, then given a token
    assert outcome["token"]["token_type"].lower() == "dpop"
    assert claims_of(outcome["token"])["cnf"] == {"jkt": outcome["dpop_jkt"]}


def test_a_client_without_those_keys_is_refused(factory: Factory, server: Server) -> None:
    client_id = factory.client("acme", jwks=key_pair("ES256").jwks()).client_id

    outcome = get_token(server, "acme", client_id, key_pair("ES256"), dpop=False)

    assert outcome["error"] == "invalid_client", outcome
