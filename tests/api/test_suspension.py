"""Suspend and resume through the management API, each step checked where the credential is
used: the token endpoint and introspection for a client, the verify endpoint and the gateway
check for an API key."""

from __future__ import annotations

from typing import Any

import httpx2
from starlette.testclient import TestClient

from tests.api.support import Caller, api, assert_problem, bearer_caller
from tests.apikeys.support import code_is, verifier, verify_until
from tests.factories import Credential, Factory
from tests.http.support import inactive, introspect, poll, request_token, status_is


def act(http: TestClient, admin: Caller, path: str, action: str) -> dict[str, Any]:
    response = admin.request(http, "POST", api("acme", f"{path}/{action}"))
    assert response.status_code == 200, response.text
    shown: dict[str, Any] = response.json()
    return shown


def listed(http: TestClient, admin: Caller, path: str, status: str) -> list[str]:
    response = admin.request(http, "GET", api("acme", path), params={"status": status})
    assert response.status_code == 200, response.text
    ref = "client_id" if path == "/clients" else "id"
    return [item[ref] for item in response.json()["items"]]


def test_a_suspended_client_gets_no_token_and_its_tokens_go_inactive_until_resumed(
    factory: Factory, client: TestClient
) -> None:
    factory.tenant()
    admin = bearer_caller(client, factory, "acme")
    cred = factory.client(scopes=("nql",), name="billing")
    resource_server = factory.client(name="resource server")
    token = request_token(client, cred).json()["access_token"]

    shown = act(client, admin, f"/clients/{cred.client_id}", "suspend")

    assert shown["status"] == "suspended"
    assert listed(client, admin, "/clients", "suspended") == [cred.client_id]
    refused = poll(lambda: request_token(client, cred), status_is(401))
    assert (refused.status_code, refused.json()["error"]) == (401, "invalid_client")
    assert inactive(poll(lambda: introspect(client, resource_server, token), inactive))

    assert act(client, admin, f"/clients/{cred.client_id}", "resume")["status"] == "active"
    assert poll(lambda: request_token(client, cred), status_is(200)).status_code == 200
    answer = poll(lambda: introspect(client, resource_server, token), lambda r: not inactive(r))
    assert answer.json()["active"] is True


def _key(http: TestClient, admin: Caller) -> dict[str, Any]:
    response = admin.request(http, "POST", api("acme", "/api-keys"), json={"name": "sync"})
    assert response.status_code == 201, response.text
    issued: dict[str, Any] = response.json()
    return issued


def _gateway(http: TestClient, key: str) -> httpx2.Response:
    return http.get("/realms/acme/gateway/check", headers={"x-api-key": key})


def test_a_suspended_key_answers_suspended_until_resumed(
    factory: Factory, client: TestClient
) -> None:
    factory.tenant()
    admin = bearer_caller(client, factory, "acme")
    checker: Credential = verifier(factory)
    issued = _key(client, admin)
    path = f"/api-keys/{issued['id']}"

    assert act(client, admin, path, "suspend")["status"] == "suspended"

    answer = verify_until(client, checker, issued["key"], code_is("SUSPENDED"))
    assert answer == {"valid": False, "code": "SUSPENDED"}
    assert _gateway(client, issued["key"]).status_code == 401
    assert listed(client, admin, "/api-keys", "suspended") == [issued["id"]]
    assert listed(client, admin, "/api-keys", "active") == []

    assert act(client, admin, path, "resume")["status"] == "active"
    assert verify_until(client, checker, issued["key"], code_is("VALID"))["valid"] is True
    assert _gateway(client, issued["key"]).status_code == 200


def test_a_revoked_credential_cannot_be_suspended_or_resumed(
    factory: Factory, client: TestClient
) -> None:
    factory.tenant()
    admin = bearer_caller(client, factory, "acme")
    path = f"/api-keys/{_key(client, admin)['id']}"
    act(client, admin, path, "revoke")
    for action in ("suspend", "resume"):
        response = admin.request(client, "POST", api("acme", f"{path}/{action}"))
        assert_problem(response, 409)
        assert "is revoked" in response.json()["detail"]
