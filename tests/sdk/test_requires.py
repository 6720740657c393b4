"""``requires(...)`` and the middleware's answers, per RFC 6750 §3: a bare challenge without
credentials, ``invalid_token`` for a bad one, ``insufficient_scope`` with the needed scope."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from starlette.types import Receive, Scope, Send

from gatepass_sdk import GatepassMiddleware, GatepassVerifier, requires
from tests.sdk.protected import REALM, api, challenge
from tests.sdk.realm import Realm, altered

pytestmark = [pytest.mark.e2e, pytest.mark.anyio]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_no_credential_is_401_with_a_bare_challenge(realm: Realm) -> None:
    async with api(realm.verifier()) as http:
        response = await http.get("/nql")
    assert response.status_code == 401
    assert challenge(response) == f'Bearer realm="{REALM}"'
    assert response.json()["error"] == "unauthorized"


async def test_a_route_without_requires_is_open_to_anonymous_callers(realm: Realm) -> None:
    async with api(realm.verifier()) as http:
        response = await http.get("/open")
    assert response.json() == {"query": "", "subject": None}


async def test_another_authorization_scheme_is_left_alone(realm: Realm) -> None:
    async with api(realm.verifier()) as http:
        response = await http.get("/open", headers={"Authorization": "Basic dXNlcjpwYXNz"})
    assert response.status_code == 200


async def test_a_bad_token_is_401_invalid_token_even_on_an_open_route(realm: Realm) -> None:
    token = realm.token(realm.client())
    async with api(realm.verifier()) as http:
        response = await http.get("/open", headers=bearer(altered(token)))
    assert response.status_code == 401
    assert challenge(response) == f'Bearer realm="{REALM}", error="invalid_token"'
    assert response.json() == {
        "error": "invalid_token",
        "error_description": "the access token or API key is not valid",
    }


async def test_a_token_without_the_permission_is_403_naming_the_scope(realm: Realm) -> None:
    token = realm.token(realm.client(scopes=("workflows",)))
    async with api(realm.verifier()) as http:
        response = await http.get("/nql", headers=bearer(token))
    assert response.status_code == 403
    assert challenge(response) == (
        f'Bearer realm="{REALM}", error="insufficient_scope", scope="nql"'
    )
    assert response.json()["error"] == "insufficient_scope"


async def test_every_required_permission_is_needed_and_named(realm: Realm) -> None:
    key = realm.api_key(scopes=("nql",)).key
    token = realm.token(realm.client(scopes=("nql", "workflows")))
    async with api(realm.verifier()) as http:
        refused = await http.get("/nql-and-workflows", headers={"X-API-Key": key})
        allowed = await http.get("/nql-and-workflows", headers=bearer(token))
    assert refused.status_code == 403
    assert 'scope="nql workflows"' in challenge(refused)
    assert allowed.status_code == 200


async def test_a_key_without_the_permission_is_403_too(realm: Realm) -> None:
    key = realm.api_key(scopes=("workflows",)).key
    async with api(realm.verifier()) as http:
        response = await http.get("/nql", params={"apikey": key})
    assert response.status_code == 403
    assert 'error="insufficient_scope", scope="nql"' in challenge(response)


async def test_the_handler_gets_the_callers_groups(realm: Realm) -> None:
    client = realm.client(scopes=("nql",), groups=("emea", "americas"))
    token = realm.token(client)
    key = realm.api_key(groups=("emea",)).key
    async with api(realm.verifier()) as http:
        by_token = (await http.get("/me", headers=bearer(token))).json()
        by_key = (await http.get("/me", headers={"Authorization-PSK": key})).json()
    assert (by_token["subject"], by_token["kind"]) == (client.client_id, "oauth_client")
    assert sorted(by_token["groups"]) == ["americas", "emea"]
    assert by_token["permissions"] == ["nql"]
    assert by_key["groups"] == ["emea"]


async def test_requires_without_the_middleware_is_a_loud_server_error() -> None:
    app = FastAPI()
    app.get("/nql")(requires("nql"))
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as http:
        response = await http.get("/nql")
    assert response.status_code == 500


async def test_a_refused_request_never_reaches_the_application(realm: Realm) -> None:
    reached: list[str] = []
    verifier = GatepassVerifier(issuer=realm.issuer, audience=realm.audience)

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        reached.append(str(scope["path"]))

    middleware = GatepassMiddleware(app, verifier=verifier)
    transport = httpx.ASGITransport(app=middleware)
    async with verifier, httpx.AsyncClient(transport=transport, base_url="http://api") as http:
        response = await http.get("/x", headers={"X-API-Key": "gpk_nope"})
    assert response.status_code == 401
    assert reached == []
    assert f'realm="{realm.audience}"' in challenge(response)  # the default realm
