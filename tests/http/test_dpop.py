"""DPoP (RFC 9449) at the token endpoint: a good proof gets a ``DPoP`` token bound to the key's
thumbprint (``cnf.jkt``), introspection says so, and every bad proof is ``invalid_dpop_proof``
with nothing issued or stored; a bound token sent as a bearer token is refused at the gateway."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable

import httpx2
import jwt
import pytest
from joserfc.jwk import thumbprint
from sqlalchemy import func, select
from starlette.testclient import TestClient

from gatepass.clients.models import UsedAssertion
from tests.factories import Credential, Factory
from tests.http.support import BASE, assert_oauth_error, introspect_path, token_path
from tests.keypairs import ALGORITHMS, KeyPair, dpop_proof, key_pair

TOKEN_URL = BASE + token_path()
PAIR = key_pair("ES256")


def ask(http: TestClient, cred: Credential, *proofs: str) -> httpx2.Response:
    headers = [("authorization", cred.basic), *(("dpop", p) for p in proofs)]
    return http.post(token_path(), data={"grant_type": "client_credentials"}, headers=headers)


def public(pair: KeyPair) -> dict[str, str]:
    return {k: v for k, v in pair.public_jwk().items() if k != "kid"}


@pytest.mark.parametrize("alg", ALGORITHMS)
def test_a_good_proof_gets_a_token_bound_to_its_key(
    acme: Factory, client: TestClient, alg: str
) -> None:
    pair, cred = key_pair(alg), acme.client()

    response = ask(client, cred, dpop_proof(pair, "POST", TOKEN_URL))

    assert response.status_code == 200, response.text
    assert response.json()["token_type"] == "DPoP"
    claims = jwt.decode(response.json()["access_token"], options={"verify_signature": False})
    assert claims["cnf"] == {"jkt": thumbprint(public(pair))}


def test_introspection_shows_the_binding(acme: Factory, client: TestClient) -> None:
    cred = acme.client()
    token = ask(client, cred, dpop_proof(PAIR, "POST", TOKEN_URL)).json()["access_token"]

    answer = client.post(
        introspect_path(), data={"token": token}, headers={"authorization": cred.basic}
    ).json()

    assert answer["active"] is True
    assert answer["token_type"] == "DPoP"
    assert answer["cnf"] == {"jkt": thumbprint(public(PAIR))}


def test_a_request_without_a_proof_still_gets_a_bearer_token(
    acme: Factory, client: TestClient
) -> None:
    response = ask(client, acme.client())
    assert response.json()["token_type"] == "Bearer"
    claims = jwt.decode(response.json()["access_token"], options={"verify_signature": False})
    assert "cnf" not in claims


def hs256_proof(pair: KeyPair) -> str:
    """Signed with HMAC, the public key's JSON as the secret: an algorithm confusion."""
    header = {"typ": "dpop+jwt", "alg": "HS256", "jwk": public(pair)}
    payload = {"jti": "hs", "htm": "POST", "htu": TOKEN_URL, "iat": int(time.time())}
    parts = [
        base64.urlsafe_b64encode(json.dumps(x).encode()).rstrip(b"=") for x in (header, payload)
    ]
    signing_input = b".".join(parts)
    mac = hmac.new(json.dumps(public(pair)).encode(), signing_input, hashlib.sha256).digest()
    return (signing_input + b"." + base64.urlsafe_b64encode(mac).rstrip(b"=")).decode()


OTHER = key_pair("ES256")
now = time.time

# name -> the bad proof
BAD: dict[str, Callable[[], str]] = {
    "wrong method": lambda: dpop_proof(PAIR, "GET", TOKEN_URL),
    "wrong URL": lambda: dpop_proof(PAIR, "POST", BASE + introspect_path()),
    "another host": lambda: dpop_proof(PAIR, "POST", "https://evil.example" + token_path()),
    "too old": lambda: dpop_proof(PAIR, "POST", TOKEN_URL, iat=int(now()) - 300),
    "from the future": lambda: dpop_proof(PAIR, "POST", TOKEN_URL, iat=int(now()) + 300),
    "no jti": lambda: dpop_proof(PAIR, "POST", TOKEN_URL, jti=None),
    "no iat": lambda: dpop_proof(PAIR, "POST", TOKEN_URL, iat=None),
    "wrong typ": lambda: dpop_proof(PAIR, "POST", TOKEN_URL, headers={"typ": "JWT"}),
    "no jwk": lambda: dpop_proof(PAIR, "POST", TOKEN_URL, headers={"jwk": None}),
    "private jwk": lambda: dpop_proof(PAIR, "POST", TOKEN_URL, headers={"jwk": PAIR.private_jwk()}),
    "signed by another key": lambda: dpop_proof(
        OTHER, "POST", TOKEN_URL, headers={"jwk": public(PAIR)}
    ),
    "alg none": lambda: jwt.encode(
        {"jti": "n", "htm": "POST", "htu": TOKEN_URL, "iat": int(now())},
        None,
        algorithm="none",
        headers={"typ": "dpop+jwt", "jwk": public(PAIR)},
    ),
    "HS256": lambda: hs256_proof(PAIR),
    "not a JWT": lambda: "not.a.jwt",
    "too large": lambda: dpop_proof(PAIR, "POST", TOKEN_URL, padding="x" * 5000),
}


def used(factory: Factory) -> int:
    with factory.db.read() as session:
        return session.scalar(select(func.count()).select_from(UsedAssertion)) or 0


@pytest.mark.parametrize("name", list(BAD))
def test_a_bad_proof_is_invalid_dpop_proof_and_issues_nothing(
    acme: Factory, client: TestClient, name: str
) -> None:
    cred = acme.client()

    response = ask(client, cred, BAD[name]())

    assert_oauth_error(response, 400, "invalid_dpop_proof")
    assert "access_token" not in response.text
    assert used(acme) == 0


def test_a_replayed_proof_is_refused(acme: Factory, client: TestClient) -> None:
    cred = acme.client()
    proof = dpop_proof(PAIR, "POST", TOKEN_URL)

    assert ask(client, cred, proof).status_code == 200
    assert_oauth_error(ask(client, cred, proof), 400, "invalid_dpop_proof")


def test_two_proofs_are_refused(acme: Factory, client: TestClient) -> None:
    cred = acme.client()
    first, second = (dpop_proof(PAIR, "POST", TOKEN_URL) for _ in range(2))
    response = ask(client, cred, first, second)
    assert response.status_code == 400
    assert "access_token" not in response.text


def test_a_bad_proof_with_a_wrong_secret_reads_nothing_of_the_client(
    acme: Factory, client: TestClient
) -> None:
    """The proof is checked first: a bad one is refused before the client is looked up."""
    cred = acme.client()
    wrong = Credential(cred.tenant, cred.client_id, cred.secret[:-2] + "xx")
    assert_oauth_error(ask(client, wrong, BAD["wrong URL"]()), 400, "invalid_dpop_proof")


def test_a_bound_token_sent_as_a_bearer_token_is_refused_at_the_gateway(
    acme: Factory, client: TestClient
) -> None:
    cred = acme.client()
    bound = ask(client, cred, dpop_proof(PAIR, "POST", TOKEN_URL)).json()["access_token"]
    plain = ask(client, cred).json()["access_token"]
    check = "/realms/acme/gateway/check"

    assert client.get(check, headers={"authorization": f"Bearer {plain}"}).status_code == 200
    refused = client.get(check, headers={"authorization": f"Bearer {bound}"})
    assert refused.status_code == 401
    assert "X-Gatepass-Subject" not in refused.headers
