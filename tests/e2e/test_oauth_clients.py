"""Off-the-shelf OAuth 2.0 clients and resource-server code against ``gatepass serve``."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from urllib.parse import parse_qs

import httpx
import jwt
import pytest
import requests
from authlib.integrations.httpx_client import AsyncOAuth2Client, OAuth2Client
from authlib.integrations.requests_client import OAuth2Session
from authlib.oauth2.rfc7523 import PrivateKeyJWT
from cryptography.hazmat.primitives import serialization
from joserfc.jwk import ECKey, OKPKey, RSAKey
from oauthlib.oauth2 import BackendApplicationClient  # type: ignore[import-untyped]
from requests_oauthlib import OAuth2Session as OAuthlibSession

from gatepass.settings import Settings
from tests.e2e.conftest import Server, assert_claims, verify
from tests.factories import Factory
from tests.key_server import key_server
from tests.keypairs import ALGORITHMS, KeyPair, key_pair

pytestmark = pytest.mark.e2e

SCOPES = "nql workflows campaigns"


@pytest.fixture(scope="module")
def acme(module_settings: Settings) -> Iterator[None]:
    """Tenant ``acme``, made once for the module: each test makes its own client in it."""
    made = Factory(module_settings)
    made.tenant()
    yield
    made.close()


@pytest.fixture
def settings(module_settings: Settings, acme: None) -> Settings:
    return module_settings


@pytest.fixture
def server(module_server: Server) -> Server:
    return module_server


def sent_with(method: str, headers: dict[str, str], body: str, client_id: str) -> bool:
    """Whether a token request authenticated the client with ``method`` and only with it."""
    form = parse_qs(body)
    authorization = {k.lower(): v for k, v in headers.items()}.get("authorization", "")
    basic = authorization.startswith("Basic ")
    in_body = "client_secret" in form
    if method == "client_secret_basic":
        decoded = base64.b64decode(authorization[6:]).decode() if basic else ""
        return basic and not in_body and decoded.startswith(f"{client_id}:")
    return in_body and not basic and form.get("client_id") == [client_id]


def body_text(request: requests.PreparedRequest | httpx.Request) -> str:
    raw = request.body if isinstance(request, requests.PreparedRequest) else request.content
    return raw.decode() if isinstance(raw, bytes) else str(raw or "")


def test_authlib_requests_session(factory: Factory, server: Server) -> None:
    cred = factory.client(groups_=("emea",))

    for method in ("client_secret_basic", "client_secret_post"):
        sent: list[requests.PreparedRequest] = []
        with OAuth2Session(
            cred.client_id, cred.secret, token_endpoint_auth_method=method, scope="nql"
        ) as session:
            session.hooks["response"].append(lambda r, *_, sent=sent, **__: sent.append(r.request))
            token = session.fetch_token(server.token_url("acme"), grant_type="client_credentials")

        [request] = sent
        assert sent_with(method, dict(request.headers), body_text(request), cred.client_id)
        assert token["token_type"] == "Bearer"
        assert token["expires_in"] == 600
        claims = verify(server, "acme", token["access_token"])
        assert_claims(claims, cred.client_id, "nql", ("emea",))


def test_authlib_httpx_clients(factory: Factory, server: Server) -> None:
    cred = factory.client()
    sent: list[httpx.Request] = []

    def record(request: httpx.Request) -> None:
        sent.append(request)

    with OAuth2Client(
        cred.client_id,
        cred.secret,
        token_endpoint_auth_method="client_secret_post",
        event_hooks={"request": [record]},
    ) as sync_client:
        sync_token = sync_client.fetch_token(
            server.token_url("acme"), grant_type="client_credentials"
        )

    async def fetch_async() -> dict[str, str]:
        async def record_async(request: httpx.Request) -> None:
            sent.append(request)

        async with AsyncOAuth2Client(
            cred.client_id,
            cred.secret,
            token_endpoint_auth_method="client_secret_basic",
            event_hooks={"request": [record_async]},
        ) as async_client:
            token: dict[str, str] = await async_client.fetch_token(
                server.token_url("acme"), grant_type="client_credentials"
            )
            return token

    async_token = asyncio.run(fetch_async())

    methods = ["client_secret_post", "client_secret_basic"]
    for method, request in zip(methods, sent, strict=True):
        assert sent_with(method, dict(request.headers), body_text(request), cred.client_id)
    for token in (sync_token, async_token):
        assert_claims(verify(server, "acme", token["access_token"]), cred.client_id, SCOPES)
    assert sync_token["access_token"] != async_token["access_token"]


def joserfc_key(pair: KeyPair) -> ECKey | RSAKey | OKPKey:
    pem = pair.private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    kind = {"ES256": ECKey, "RS256": RSAKey, "PS256": RSAKey, "EdDSA": OKPKey}[pair.alg]
    return kind.import_key(pem, {"kid": pair.kid})


# joserfc warns that RFC 9864 deprecates "EdDSA" for "Ed25519"; Gatepass takes "EdDSA" for now.
@pytest.mark.filterwarnings("ignore:EdDSA is deprecated")
@pytest.mark.parametrize("alg", ALGORITHMS)
def test_authlib_private_key_jwt(factory: Factory, server: Server, alg: str) -> None:
    """Authlib's ``PrivateKeyJWT`` as it comes (its assertions live one hour, aud the token
    endpoint, a new jti each time): two tokens in a row, the second with a new assertion."""
    pair = key_pair(alg)
    client_id = factory.client(groups_=("emea",), jwks=pair.jwks()).client_id
    url = server.token_url("acme")
    auth = PrivateKeyJWT(url, alg=alg, headers={"kid": pair.kid})

    with OAuth2Client(
        client_id, joserfc_key(pair), token_endpoint_auth_method=auth, scope="nql"
    ) as http:
        tokens = [http.fetch_token(url, grant_type="client_credentials") for _ in range(2)]

    for token in tokens:
        claims = verify(server, "acme", token["access_token"])
        assert claims["client_id"] == client_id
        assert claims["groups"] == ["emea"]


def test_authlib_private_key_jwt_with_keys_published_at_a_url(
    factory: Factory, server: Server
) -> None:
    """The client's keys are fetched by the served process from the URL where the client
    publishes them (the test's key server), once for both tokens."""
    pair = key_pair("ES256")
    with key_server() as keys_at:
        keys_at.serve("/jwks.json", pair.jwks())
        client_id = factory.client(jwks_uri=keys_at.url("/jwks.json")).client_id
        url = server.token_url("acme")
        auth = PrivateKeyJWT(url, alg="ES256", headers={"kid": pair.kid})
        with OAuth2Client(client_id, joserfc_key(pair), token_endpoint_auth_method=auth) as http:
            tokens = [http.fetch_token(url, grant_type="client_credentials") for _ in range(2)]
        assert keys_at.hits["/jwks.json"] == 1

    for token in tokens:
        assert verify(server, "acme", token["access_token"])["client_id"] == client_id


def test_requests_oauthlib_backend_application(
    factory: Factory, server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")  # the test server speaks plain http
    cred = factory.client(scopes=("nql", "workflows"))

    for include_client_id, method in ((False, "client_secret_basic"), (True, "client_secret_post")):
        sent: list[requests.PreparedRequest] = []
        client = BackendApplicationClient(client_id=cred.client_id)
        with OAuthlibSession(client=client) as session:
            session.hooks["response"].append(lambda r, *_, sent=sent, **__: sent.append(r.request))
            token = session.fetch_token(
                token_url=server.token_url("acme"),
                client_id=cred.client_id,
                client_secret=cred.secret,
                include_client_id=include_client_id,
            )

        [request] = sent
        assert sent_with(method, dict(request.headers), body_text(request), cred.client_id)
        assert token["token_type"] == "Bearer"
        claims = verify(server, "acme", token["access_token"])
        assert_claims(claims, cred.client_id, "nql workflows")


def test_discovery_drives_the_clients(factory: Factory, server: Server) -> None:
    cred = factory.client(groups_=("emea",))
    issuer = server.issuer("acme")

    oidc = requests.get(
        f"{server.base_url}/realms/acme/.well-known/openid-configuration", timeout=5
    )
    rfc8414 = requests.get(
        f"{server.base_url}/.well-known/oauth-authorization-server/realms/acme", timeout=5
    )

    assert oidc.status_code == rfc8414.status_code == 200
    metadata = oidc.json()
    assert rfc8414.json() == metadata
    assert metadata["issuer"] == issuer
    assert metadata["token_endpoint"] == f"{issuer}/protocol/openid-connect/token"
    assert metadata["jwks_uri"] == f"{issuer}/protocol/openid-connect/certs"
    assert metadata["grant_types_supported"] == [
        "client_credentials",
        "urn:ietf:params:oauth:grant-type:jwt-bearer",
    ]
    assert {"client_secret_basic", "client_secret_post"} <= set(
        metadata["token_endpoint_auth_methods_supported"]
    )
    with OAuth2Session(cred.client_id, cred.secret) as session:
        token = session.fetch_token(metadata["token_endpoint"], grant_type="client_credentials")
    claims = verify(
        server, "acme", token["access_token"], jwks=jwt.PyJWKClient(metadata["jwks_uri"])
    )
    assert_claims(claims, cred.client_id, SCOPES, ("emea",))


SEED_002_CURL = """curl -sX POST "$base/realms/$t/protocol/openid-connect/token" \
  -H "Content-Type: application/x-www-form-urlencoded" \
  -d "grant_type=client_credentials" \
  -d "scope=profile" \
  -d "client_id=$id" \
  -d "client_secret=$secret"
"""


def test_seed_002_curl_gets_a_keycloak_shaped_answer(factory: Factory, server: Server) -> None:
    cred = factory.client(scopes=("nql",))
    if shutil.which("curl"):
        env = {
            "PATH": os.environ["PATH"],
            "base": server.base_url,
            "t": "acme",
            "id": cred.client_id,
            "secret": cred.secret,
        }
        done = subprocess.run(
            ["bash", "-c", SEED_002_CURL],
            env=env,
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        )
        body = json.loads(done.stdout)
    else:  # the same request without curl
        body = requests.post(
            server.token_url("acme"),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            data={
                "grant_type": "client_credentials",
                "scope": "profile",
                "client_id": cred.client_id,
                "client_secret": cred.secret,
            },
            timeout=5,
        ).json()

    assert body["expires_in"] == 600
    assert body["refresh_expires_in"] == 0
    assert body["token_type"] == "Bearer"
    assert body["not-before-policy"] == 0
    assert_claims(verify(server, "acme", body["access_token"]), cred.client_id, "nql")
