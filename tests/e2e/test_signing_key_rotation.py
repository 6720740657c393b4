"""``gatepass signing-key rotate`` while a server runs: old tokens keep verifying."""

from __future__ import annotations

import time

import jwt
import pytest
import requests

from tests.cli.harness import Cli
from tests.e2e.conftest import Server, assert_claims, verify
from tests.factories import Credential, Factory

pytestmark = pytest.mark.e2e

PROPAGATION_DEADLINE = 5.0


def fetch(server: Server, cred: Credential) -> str:
    response = requests.post(
        server.token_url(cred.tenant),
        data={"grant_type": "client_credentials"},
        auth=(cred.client_id, cred.secret),
        timeout=5,
    )
    assert response.status_code == 200, response.text
    access_token: str = response.json()["access_token"]
    return access_token


def kid(token: str) -> str:
    value: str = jwt.get_unverified_header(token)["kid"]
    return value


def test_tokens_issued_before_a_rotation_still_verify(
    factory: Factory, server: Server, cli: Cli
) -> None:
    factory.tenant()
    cred = factory.client(scopes=("nql",))
    before = fetch(server, cred)
    # A resource server that caches the JWKS it fetched, with PyJWT's defaults (it waits 30 s
    # before fetching the JWKS again for an unknown kid).
    resource_server = jwt.PyJWKClient(server.certs_url("acme"))
    assert_claims(verify(server, "acme", before, jwks=resource_server), cred.client_id, "nql")
    published_before = {
        k["kid"] for k in requests.get(server.certs_url("acme"), timeout=5).json()["keys"]
    }

    new_kid = cli.json("signing-key", "rotate", "--tenant", "acme")["kid"]
    assert new_kid in published_before, "the next key was published before it signed anything"

    assert new_kid != kid(before)
    deadline = time.monotonic() + PROPAGATION_DEADLINE
    after = fetch(server, cred)
    while kid(after) != new_kid and time.monotonic() < deadline:
        time.sleep(0.05)
        after = fetch(server, cred)
    assert kid(after) == new_kid, f"still signing with {kid(after)} {PROPAGATION_DEADLINE} s on"

    # The cached JWKS already holds the new kid: both tokens verify without a refetch.
    assert_claims(verify(server, "acme", after, jwks=resource_server), cred.client_id, "nql")
    assert_claims(verify(server, "acme", before, jwks=resource_server), cred.client_id, "nql")
    published = requests.get(server.certs_url("acme"), timeout=5).json()
    assert {kid(before), new_kid} < {k["kid"] for k in published["keys"]}
    introspected = requests.post(
        server.introspect_url("acme"),
        data={"token": before},
        auth=(cred.client_id, cred.secret),
        timeout=5,
    ).json()
    assert introspected["active"] is True
    assert introspected["jti"] == jwt.decode(before, options={"verify_signature": False})["jti"]
