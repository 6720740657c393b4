"""Clients with public keys (``private_key_jwt``) through the management API: created with a
JWKS and no secret, usable at the token endpoint, and a bad JWKS refused with nothing stored."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.api.support import Caller, api, assert_problem, bearer_caller
from tests.factories import Factory
from tests.http.support import BASE, token_path
from tests.keypairs import assertion_form, key_pair
from tests.test_same_rules import PASSWORD, console_sign_in

PAIR = key_pair("ES256", kid="k1")
RSA = key_pair("RS256", kid="k2")


def names(http: TestClient, caller: Caller) -> list[str]:
    response = caller.request(http, "GET", api("acme", "/clients"), params={"limit": "200"})
    assert response.status_code == 200, response.text
    return sorted(item["name"] for item in response.json()["items"])


@pytest.fixture
def admin(factory: Factory, client: TestClient) -> Caller:
    factory.tenant()
    return bearer_caller(client, factory, "acme")


def test_a_client_created_with_keys_has_no_secret_and_gets_tokens(
    client: TestClient, admin: Caller
) -> None:
    jwks = {"keys": [PAIR.public_jwk(), RSA.public_jwk()]}
    body = {"name": "signed sync", "scopes": ["nql"], "jwks": jwks}

    response = admin.request(client, "POST", api("acme", "/clients"), json=body)

    assert response.status_code == 201, response.text
    issued = response.json()
    assert issued["client_secret"] is None
    assert issued["secrets"] == []
    assert issued["jwks"] == jwks
    for pair in (PAIR, RSA):
        assertion = pair.sign(issued["client_id"], BASE + token_path())
        token = client.post(token_path(), data=assertion_form(assertion, scope="nql"))
        assert token.status_code == 200, token.text
    shown = admin.request(client, "GET", api("acme", f"/clients/{issued['client_id']}"))
    assert shown.json()["jwks"] == jwks


def test_a_client_with_keys_has_no_secret_to_rotate(client: TestClient, admin: Caller) -> None:
    body = {"name": "signed sync", "jwks": PAIR.jwks()}
    client_id = admin.request(client, "POST", api("acme", "/clients"), json=body).json()[
        "client_id"
    ]

    response = admin.request(client, "POST", api("acme", f"/clients/{client_id}/rotate-secret"))

    assert "no secret" in assert_problem(response, 422, "invalid_input")["detail"]
    shown = admin.request(client, "GET", api("acme", f"/clients/{client_id}")).json()
    assert shown["secrets"] == []


def with_private(jwk: dict[str, Any]) -> dict[str, Any]:
    return {"keys": [jwk]}


BAD_JWKS: dict[str, Any] = {
    "a private key": with_private(PAIR.private_jwk()),
    "a private RSA key": with_private(RSA.private_jwk()),
    "a symmetric key": with_private({"kty": "oct", "k": "c2VjcmV0"}),
    "no keys": {"keys": []},
    "not a JWKS": {"key": PAIR.public_jwk()},
    "too many keys": {"keys": [key_pair("EdDSA", kid=str(i)).public_jwk() for i in range(6)]},
    "several keys without kids": {
        "keys": [
            {k: v for k, v in PAIR.public_jwk().items() if k != "kid"},
            {k: v for k, v in RSA.public_jwk().items() if k != "kid"},
        ]
    },
    "a P-384 key": with_private({**PAIR.public_jwk(), "crv": "P-384"}),
    "an alg not allowed": with_private({**RSA.public_jwk(), "alg": "RS512"}),
    "a broken key": with_private({"kty": "RSA", "n": "AQAB", "e": 5}),
}


@pytest.mark.parametrize("case", list(BAD_JWKS))
def test_a_bad_jwks_is_refused_and_nothing_is_stored(
    client: TestClient, admin: Caller, case: str
) -> None:
    before = names(client, admin)
    body = {"name": "signed sync", "jwks": BAD_JWKS[case]}

    response = admin.request(client, "POST", api("acme", "/clients"), json=body)

    problem = assert_problem(response, 422, "invalid_input")
    assert PAIR.private_jwk()["d"] not in response.text
    assert RSA.private_jwk()["d"] not in response.text
    assert problem["detail"]
    assert names(client, admin) == before


def test_the_console_lists_a_client_with_keys(factory: Factory, client: TestClient) -> None:
    """Not made in the console yet, but listed like any client."""
    factory.tenant()
    factory.user(email="ada@example.com", role="admin", password=PASSWORD)
    client_id = factory.client(jwks=PAIR.jwks()).client_id
    console_sign_in(client)

    page = client.get("/console/acme/credentials")
    assert page.status_code == 200, page.text
    assert client_id in page.text


NEW = key_pair("EdDSA", kid="k3")


def keyed_client(http: TestClient, admin: Caller) -> str:
    body = {"name": "signed sync", "scopes": ["nql"], "jwks": PAIR.jwks()}
    created = admin.request(http, "POST", api("acme", "/clients"), json=body)
    assert created.status_code == 201, created.text
    return str(created.json()["client_id"])


def gets_token(http: TestClient, pair: Any, client_id: str) -> bool:
    assertion = pair.sign(client_id, BASE + token_path())
    return http.post(token_path(), data=assertion_form(assertion)).status_code == 200


def test_a_keyed_client_s_keys_are_replaced_and_the_old_key_stops_at_once(
    client: TestClient, admin: Caller, factory: Factory
) -> None:
    client_id = keyed_client(client, admin)
    assert gets_token(client, PAIR, client_id)

    path = api("acme", f"/clients/{client_id}")
    response = admin.request(client, "PATCH", path, json={"jwks": NEW.jwks()})

    assert response.status_code == 200, response.text
    assert response.json()["jwks"] == NEW.jwks()
    assert gets_token(client, NEW, client_id)
    assert not gets_token(client, PAIR, client_id)
    audit = admin.request(
        client, "GET", api("acme", "/audit-events"), params={"action": "client.update"}
    )
    details = [e["details"] for e in audit.json()["items"]]
    assert {"public_keys": ["k3"], "keys_changed": True} in details
    assert "kty" not in audit.text  # key IDs, never key material


def test_a_keyed_client_can_move_its_keys_to_a_url(client: TestClient, admin: Caller) -> None:
    client_id = keyed_client(client, admin)
    url = "https://keys.example.com/.well-known/jwks.json?token=abc"
    path = api("acme", f"/clients/{client_id}")

    response = admin.request(client, "PATCH", path, json={"jwks_uri": url})

    assert response.status_code == 200, response.text
    assert (response.json()["jwks"], response.json()["jwks_uri"]) == (None, url)
    audit = admin.request(
        client, "GET", api("acme", "/audit-events"), params={"action": "client.update"}
    )
    details = [e["details"] for e in audit.json()["items"]]
    assert {"jwks_uri": "https://keys.example.com", "keys_changed": True} in details
    assert "token=abc" not in audit.text


@pytest.mark.parametrize(
    "change",
    [
        {"jwks": PAIR.jwks()},  # to a client with a secret
        {"jwks_uri": "https://keys.example.com/jwks"},
    ],
)
def test_a_client_with_a_secret_cannot_be_given_keys(
    client: TestClient, admin: Caller, factory: Factory, change: dict[str, Any]
) -> None:
    secret_client = factory.client()
    path = api("acme", f"/clients/{secret_client.client_id}")

    response = admin.request(client, "PATCH", path, json=change)

    assert "secret" in assert_problem(response, 422, "invalid_input")["detail"]
    shown = admin.request(client, "GET", path).json()
    assert (shown["jwks"], shown["jwks_uri"], len(shown["secrets"])) == (None, None, 1)


@pytest.mark.parametrize(
    "change",
    [
        {"jwks_uri": "https://10.1.2.3/jwks"},
        {"jwks_uri": "http://keys.example.com/jwks"},
        {"jwks": {"keys": [PAIR.private_jwk()]}},
        {"jwks": NEW.jwks(), "jwks_uri": "https://keys.example.com/jwks"},
    ],
)
def test_bad_new_keys_are_refused_and_the_old_ones_kept(
    client: TestClient, admin: Caller, change: dict[str, Any]
) -> None:
    client_id = keyed_client(client, admin)
    path = api("acme", f"/clients/{client_id}")

    response = admin.request(client, "PATCH", path, json=change)

    assert_problem(response, 422, "invalid_input")
    assert '"d"' not in response.text  # a private key sent by mistake is not echoed
    assert admin.request(client, "GET", path).json()["jwks"] == PAIR.jwks()
    assert gets_token(client, PAIR, client_id)
