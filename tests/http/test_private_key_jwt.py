"""``private_key_jwt`` client authentication (RFC 7523 §2.2, §3) at the token, introspection
and revocation endpoints: each algorithm works, and every bad assertion is the one
``invalid_client`` and changes nothing stored."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from typing import Any

import httpx2
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from sqlalchemy import func, select
from starlette.testclient import TestClient

from gatepass.app import create_app
from gatepass.clients.kind import CLIENT
from gatepass.clients.models import OAuthClient, UsedAssertion
from gatepass.credentials import lifecycle
from gatepass.settings import Settings
from gatepass.tenants import service as tenants
from tests.factories import ACTOR, Factory
from tests.http.support import (
    BASE,
    assert_oauth_error,
    introspect_path,
    issuer,
    revoke_path,
    token_path,
)
from tests.keypairs import ALGORITHMS, KeyPair, assertion_form, key_pair

TOKEN_URL = BASE + token_path()
FAILED = "client authentication failed"


def send(http: TestClient, form: dict[str, str], path: str = token_path()) -> httpx2.Response:
    return http.post(path, data=form)


def used_count(factory: Factory) -> int:
    with factory.db.read() as session:
        return session.scalar(select(func.count()).select_from(UsedAssertion)) or 0


@pytest.fixture
def keys(acme: Factory) -> tuple[KeyPair, str]:
    """An ES256 key pair and the client that holds its public half."""
    pair = key_pair("ES256")
    return pair, acme.client(jwks=pair.jwks()).client_id


@pytest.mark.parametrize("alg", ALGORITHMS)
def test_each_algorithm_gets_a_token(acme: Factory, client: TestClient, alg: str) -> None:
    pair = key_pair(alg)
    client_id = acme.client(jwks=pair.jwks()).client_id

    response = send(client, assertion_form(pair.sign(client_id, TOKEN_URL), scope="nql"))

    assert response.status_code == 200, response.text
    claims = jwt.decode(response.json()["access_token"], options={"verify_signature": False})
    assert claims["client_id"] == client_id
    assert claims["scope"] == "nql"


@pytest.mark.parametrize("audience", [issuer(), TOKEN_URL])
def test_audience_is_the_issuer_or_the_token_endpoint(
    client: TestClient, keys: tuple[KeyPair, str], audience: str
) -> None:
    pair, client_id = keys
    response = send(client, assertion_form(pair.sign(client_id, audience)))
    assert response.status_code == 200, response.text


def test_client_id_in_the_body_must_match(client: TestClient, keys: tuple[KeyPair, str]) -> None:
    pair, client_id = keys
    same = assertion_form(pair.sign(client_id, TOKEN_URL), client_id=client_id)
    assert send(client, same).status_code == 200
    other = assertion_form(pair.sign(client_id, TOKEN_URL), client_id="someone-else")
    assert_oauth_error(send(client, other), 401, "invalid_client")


def test_introspection_and_revocation_authenticate_with_an_assertion(
    client: TestClient, keys: tuple[KeyPair, str]
) -> None:
    pair, client_id = keys
    token = send(client, assertion_form(pair.sign(client_id, TOKEN_URL))).json()["access_token"]

    def ask(path: str) -> httpx2.Response:
        form = assertion_form(pair.sign(client_id, BASE + path), token=token)
        del form["grant_type"]
        return send(client, form, path)

    assert ask(introspect_path()).json()["active"] is True
    assert ask(revoke_path()).status_code == 200
    assert ask(introspect_path()).json()["active"] is False


OTHER = key_pair("ES256")


def unsigned(client_id: str) -> str:
    now = int(time.time())
    claims = {"iss": client_id, "sub": client_id, "aud": TOKEN_URL, "exp": now + 60, "jti": "x"}
    return jwt.encode(claims, None, algorithm="none")


def hs256_with_public_key(pair: KeyPair, client_id: str) -> str:
    """The classic confusion: the public key's PEM used as an HMAC secret."""
    pem = pair.private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    now = int(time.time())
    parts = [
        {"alg": "HS256", "typ": "JWT", "kid": pair.kid},
        {"iss": client_id, "sub": client_id, "aud": TOKEN_URL, "exp": now + 60, "jti": "hs"},
    ]
    encoded = [base64.urlsafe_b64encode(json.dumps(p).encode()).rstrip(b"=") for p in parts]
    signing_input = b".".join(encoded)
    mac = hmac.new(pem, signing_input, hashlib.sha256).digest()
    return (signing_input + b"." + base64.urlsafe_b64encode(mac).rstrip(b"=")).decode()


# name -> how the bad assertion is made from (key pair, client ID)
BAD: dict[str, Callable[[KeyPair, str], str]] = {
    "wrong audience": lambda k, c: k.sign(c, "https://elsewhere.example/token"),
    "expired": lambda k, c: k.sign(
        c, TOKEN_URL, iat=int(time.time()) - 900, exp=int(time.time()) - 300
    ),
    "exp too far ahead": lambda k, c: k.sign(c, TOKEN_URL, exp=int(time.time()) + 7200),
    "no exp": lambda k, c: k.sign(c, TOKEN_URL, exp=None),
    "exp a string": lambda k, c: k.sign(c, TOKEN_URL, exp=str(int(time.time()) + 60)),
    "no jti": lambda k, c: k.sign(c, TOKEN_URL, jti=None),
    "not yet valid": lambda k, c: k.sign(c, TOKEN_URL, nbf=int(time.time()) + 600),
    "unknown kid": lambda k, c: k.sign(c, TOKEN_URL, headers={"kid": "not-a-key"}),
    "wrong iss": lambda k, c: k.sign(c, TOKEN_URL, iss="someone-else"),
    "wrong sub": lambda k, c: k.sign(c, TOKEN_URL, sub="someone-else"),
    "signed by another key": lambda k, c: OTHER.sign(c, TOKEN_URL, headers={"kid": k.kid}),
    "alg none": lambda k, c: unsigned(c),
    "HS256 with the public key as secret": hs256_with_public_key,
    "not a JWT": lambda k, c: "not.a.jwt",
}


@pytest.mark.parametrize("case", list(BAD))
def test_a_bad_assertion_is_invalid_client_and_changes_nothing(
    acme: Factory, client: TestClient, keys: tuple[KeyPair, str], case: str
) -> None:
    pair, client_id = keys
    before = used_count(acme)

    response = send(client, assertion_form(BAD[case](pair, client_id), client_id=client_id))

    assert_oauth_error(response, 401, "invalid_client")
    assert response.json()["error_description"] == FAILED
    assert response.headers["www-authenticate"].startswith("Basic realm=")
    assert used_count(acme) == before


def test_a_replayed_assertion_is_refused(
    acme: Factory, client: TestClient, keys: tuple[KeyPair, str]
) -> None:
    pair, client_id = keys
    form = assertion_form(pair.sign(client_id, TOKEN_URL))
    assert send(client, form).status_code == 200
    before = used_count(acme)

    response = send(client, form)

    assert_oauth_error(response, 401, "invalid_client")
    assert response.json()["error_description"] == FAILED
    assert used_count(acme) == before


def test_a_client_with_a_secret_cannot_send_an_assertion(acme: Factory, client: TestClient) -> None:
    pair = key_pair("ES256")
    client_id = acme.client().client_id  # a secret, no keys
    response = send(client, assertion_form(pair.sign(client_id, TOKEN_URL)))
    assert_oauth_error(response, 401, "invalid_client")
    assert response.json()["error_description"] == FAILED


def test_an_assertion_and_a_secret_together_are_refused(
    client: TestClient, keys: tuple[KeyPair, str]
) -> None:
    pair, client_id = keys
    form = assertion_form(pair.sign(client_id, TOKEN_URL), client_secret="gpcs_whatever")
    assert_oauth_error(send(client, form), 400, "invalid_request")


def test_a_wrong_assertion_type_is_refused(client: TestClient, keys: tuple[KeyPair, str]) -> None:
    pair, client_id = keys
    form = assertion_form(pair.sign(client_id, TOKEN_URL), client_assertion_type="urn:other")
    assert_oauth_error(send(client, form), 400, "invalid_request")


def test_a_suspended_client_is_refused(
    acme: Factory, client: TestClient, keys: tuple[KeyPair, str]
) -> None:
    pair, client_id = keys
    with acme.db.transaction() as session:
        tenant = tenants.get_tenant(session, "acme")
        lifecycle.suspend(session, tenant, CLIENT, client_id, actor=ACTOR)

    def refused() -> bool:
        return send(client, assertion_form(pair.sign(client_id, TOKEN_URL))).status_code == 401

    assert wait_for(refused)


def test_the_ip_allowlist_applies(acme: Factory, client: TestClient) -> None:
    pair = key_pair("EdDSA")
    client_id = acme.client(jwks=pair.jwks(), allowed_ips=("203.0.113.0/24",)).client_id
    response = send(client, assertion_form(pair.sign(client_id, TOKEN_URL)))
    assert_oauth_error(response, 401, "invalid_client")


def wait_for(condition: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def two_apps(settings: Settings) -> tuple[TestClient, TestClient]:
    return (
        TestClient(create_app(settings), base_url=BASE),
        TestClient(create_app(settings), base_url=BASE),
    )


def replay_across(settings: Settings, factory: Factory) -> None:
    pair = key_pair("RS256")
    client_id = factory.client(jwks=pair.jwks()).client_id
    first, second = two_apps(settings)
    with first, second:
        form = assertion_form(pair.sign(client_id, TOKEN_URL))
        assert send(first, form).status_code == 200
        assert_oauth_error(send(second, form), 401, "invalid_client")
        assert_oauth_error(send(first, form), 401, "invalid_client")
        fresh = assertion_form(pair.sign(client_id, TOKEN_URL))
        assert send(second, fresh).status_code == 200


def test_replay_is_refused_across_processes_sharing_the_database(
    settings: Settings, acme: Factory
) -> None:
    replay_across(settings, acme)
    assert used_count(acme) == 2


def test_replay_is_refused_across_processes_sharing_redis(
    settings: Settings, acme: Factory, redis_url: str
) -> None:
    replay_across(settings.model_copy(update={"redis_url": redis_url}), acme)
    assert used_count(acme) == 0  # Redis remembered them: no database write


def test_discovery_lists_private_key_jwt(acme: Factory, client: TestClient) -> None:
    document: dict[str, Any] = client.get("/realms/acme/.well-known/openid-configuration").json()
    assert "private_key_jwt" in document["token_endpoint_auth_methods_supported"]
    assert "private_key_jwt" in document["introspection_endpoint_auth_methods_supported"]
    assert document["token_endpoint_auth_signing_alg_values_supported"] == list(ALGORITHMS)


def test_a_keyed_client_s_use_is_recorded_for_dormancy(
    acme: Factory, client: TestClient, keys: tuple[KeyPair, str]
) -> None:
    """A client with keys has no secret row: its last use is recorded on the client itself, so
    the dormancy report and auto-suspend do not take a busy keyed client for an idle one."""
    pair, client_id = keys
    assert last_used(acme, client_id) is None
    assert send(client, assertion_form(pair.sign(client_id, TOKEN_URL))).status_code == 200
    client.app.services.cache.flush_uses()  # type: ignore[attr-defined]
    assert last_used(acme, client_id) is not None


def last_used(factory: Factory, client_id: str) -> object:
    with factory.db.read() as session:
        return session.scalar(
            select(OAuthClient.last_used_at).where(OAuthClient.client_id == client_id)
        )
