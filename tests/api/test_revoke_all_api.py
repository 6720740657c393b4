"""``POST /clients/revoke-all`` and ``/api-keys/revoke-all``: with no body they revoke every
active or suspended credential, as before; ``{"keep_management": true}`` keeps the ones that
verify API keys or manage Gatepass. Each revoked credential's audit history shows its revoke."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from gatepass.apikeys.kind import API_KEY
from gatepass.clients.kind import CLIENT
from gatepass.credentials import lifecycle
from tests.api.support import Caller, api, assert_problem, bearer_caller
from tests.credentials.support import in_acme
from tests.factories import Factory

KINDS = [
    pytest.param("/clients", "client_id", "client", id="client"),
    pytest.param("/api-keys", "id", "apikey", id="api_key"),
]


def create(http: TestClient, caller: Caller, path: str, name: str, scopes: list[str]) -> Any:
    response = caller.request(
        http, "POST", api("acme", path), json={"name": name, "scopes": scopes}
    )
    assert response.status_code == 201, response.text
    return response.json()


def status_of(http: TestClient, caller: Caller, path: str, ref: str) -> str:
    response = caller.request(http, "GET", api("acme", f"{path}/{ref}"))
    assert response.status_code == 200, response.text
    status: str = response.json()["status"]
    return status


def history(http: TestClient, caller: Caller, ref: str) -> list[tuple[str, Any]]:
    response = caller.request(http, "GET", api("acme", "/audit-events"), params={"target": ref})
    assert response.status_code == 200, response.text
    return [(e["action"], e["details"]) for e in reversed(response.json()["items"])]


@pytest.mark.parametrize(("path", "ref", "family"), KINDS)
def test_keep_management_keeps_verifiers_and_managers(
    factory: Factory, client: TestClient, path: str, ref: str, family: str
) -> None:
    factory.tenant()
    robot = bearer_caller(client, factory, "acme", "credentials_manager")
    product = create(client, robot, path, "billing", ["nql"])[ref]
    gateway = create(client, robot, path, "gateway", ["api_keys:verify"])[ref]
    reader = create(client, robot, path, "reporting", ["credentials:read"])[ref]

    response = robot.request(
        client, "POST", api("acme", f"{path}/revoke-all"), json={"keep_management": True}
    )

    assert response.status_code == 200, response.text
    assert response.json() == {"count": 1}
    assert status_of(client, robot, path, product) == "revoked"
    assert status_of(client, robot, path, gateway) == "active"
    assert status_of(client, robot, path, reader) == "active"
    events = history(client, robot, product)
    assert [action for action, _ in events] == [f"{family}.create", f"{family}.revoke"]
    assert events[-1] == (f"{family}.revoke", {"by": "revoke all"})
    assert [a for a, _ in history(client, robot, gateway)] == [f"{family}.create"]


@pytest.mark.parametrize(("path", "ref", "family"), KINDS)
def test_without_a_body_every_credential_is_revoked(
    factory: Factory, client: TestClient, path: str, ref: str, family: str
) -> None:
    factory.tenant()
    robot = bearer_caller(client, factory, "acme", "admin")
    made = [
        create(client, robot, path, n, s)[ref]
        for n, s in (("a", ["nql"]), ("b", ["api_keys:verify"]))
    ]

    response = robot.request(client, "POST", api("acme", f"{path}/revoke-all"))

    assert response.status_code == 200, response.text
    expected = 3 if path == "/clients" else 2  # of clients, the calling robot's own too
    assert response.json() == {"count": expected}
    assert {stored_status(factory, path, r) for r in made} == {"revoked"}


def stored_status(factory: Factory, path: str, ref: str) -> str:
    """The status in the store: the robot may have revoked its own client, and its token."""
    kind = CLIENT if path == "/clients" else API_KEY
    with in_acme(factory) as (session, tenant):
        return lifecycle.get(session, tenant, kind, ref).status


@pytest.mark.parametrize(("path", "ref", "family"), KINDS)
def test_an_unknown_field_is_a_422_problem(
    factory: Factory, client: TestClient, path: str, ref: str, family: str
) -> None:
    factory.tenant()
    robot = bearer_caller(client, factory, "acme", "admin")
    answer = robot.request(client, "POST", api("acme", f"{path}/revoke-all"), json={"keep": True})
    assert_problem(answer, 422)
