"""Cursor paging and the filters of the management API's listings."""

from __future__ import annotations

import base64
from datetime import datetime, timedelta, timezone
from typing import Any

from starlette.testclient import TestClient

from tests.api.support import Caller, api, assert_problem, bearer_caller, session_caller
from tests.factories import Factory


def make(http: TestClient, caller: Caller, path: str, **fields: Any) -> dict[str, Any]:
    response = caller.request(http, "POST", api("acme", path), json=fields)
    assert response.status_code == 201, response.text
    made: dict[str, Any] = response.json()
    return made


def listing(http: TestClient, caller: Caller, path: str, **params: str) -> dict[str, Any]:
    response = caller.request(http, "GET", api("acme", path), params=params)
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    page: dict[str, Any] = response.json()
    return page


def pages(http: TestClient, caller: Caller, path: str, **params: str) -> list[list[str]]:
    """Every page of a listing, followed through ``next_cursor``: the names on each."""
    found: list[list[str]] = []
    cursor: str | None = None
    while True:
        query = {**params, **({"cursor": cursor} if cursor else {})}
        page = listing(http, caller, path, **query)
        found.append([item["name"] for item in page["items"]])
        cursor = page["next_cursor"]
        if cursor is None:
            return found
        assert len(found) < 10, "paging does not end"


def names(http: TestClient, caller: Caller, path: str, **params: str) -> list[str]:
    return [item["name"] for item in listing(http, caller, path, **params)["items"]]


def encoded(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def test_clients_page_newest_first_without_gaps_or_repeats(
    factory: Factory, client: TestClient
) -> None:
    factory.tenant()
    admin = bearer_caller(client, factory, "acme")
    made = [make(client, admin, "/clients", name=f"page item {n}")["name"] for n in range(7)]

    walked = pages(client, admin, "/clients", name="page item", limit="3")
    assert [len(page) for page in walked] == [3, 3, 1]
    assert [name for page in walked for name in page] == made[::-1]
    whole = listing(client, admin, "/clients", name="page item", limit="7")
    assert whole["next_cursor"] is None
    assert [item["name"] for item in whole["items"]] == made[::-1]


def test_api_keys_page_newest_first_without_gaps_or_repeats(
    factory: Factory, client: TestClient
) -> None:
    factory.tenant()
    admin = bearer_caller(client, factory, "acme")
    made = [make(client, admin, "/api-keys", name=f"key {n}")["name"] for n in range(7)]
    walked = pages(client, admin, "/api-keys", limit="3")
    assert [len(page) for page in walked] == [3, 3, 1]
    assert [name for page in walked for name in page] == made[::-1]
    # A page boundary survives a deletion in between: nothing repeats, nothing is skipped.
    first = listing(client, admin, "/api-keys", limit="3")
    newest = first["items"][0]["id"]
    assert admin.request(client, "DELETE", api("acme", f"/api-keys/{newest}")).status_code == 204
    rest = listing(client, admin, "/api-keys", limit="10", cursor=first["next_cursor"])
    assert [item["name"] for item in rest["items"]] == made[::-1][3:]


def test_a_tampered_cursor_is_refused(factory: Factory, client: TestClient) -> None:
    factory.tenant()
    admin = bearer_caller(client, factory, "acme")
    for n in range(3):
        make(client, admin, "/clients", name=f"item {n}")
    cursor = listing(client, admin, "/clients", limit="1")["next_cursor"]
    assert cursor is not None
    tampered = [
        cursor + "A",
        cursor[:-1],
        cursor[::-1],
        encoded(b"before:3"),
        encoded(b"after:"),
        encoded(b"after:-1"),
        encoded(b"after:1e3"),
        encoded(b"after:" + b"9" * 19),
        encoded(b"\xff\xfeafter:3"),
    ]
    for bad in tampered:
        response = admin.request(client, "GET", api("acme", "/clients"), params={"cursor": bad})
        assert_problem(response, 422, "invalid_cursor")
    for path in ("/api-keys", "/audit-events", "/users"):
        response = admin.request(client, "GET", api("acme", path), params={"cursor": cursor + "A"})
        assert_problem(response, 422, "invalid_cursor")
    for limit in ("0", "201", "many"):
        response = admin.request(client, "GET", api("acme", "/clients"), params={"limit": limit})
        assert_problem(response, 422, "invalid_input")


def test_client_filters(factory: Factory, client: TestClient) -> None:
    factory.tenant()
    robot = bearer_caller(client, factory, "acme")
    person = session_caller(client, factory, "acme", "admin")
    a = make(client, robot, "/clients", name="50% off", scopes=["nql"], groups=["emea"])
    make(client, robot, "/clients", name="5000 off", scopes=["workflows"])
    make(client, person, "/clients", name="a_b", scopes=["nql", "workflows"])
    d = make(client, person, "/clients", name="axb")
    revoked = robot.request(client, "POST", api("acme", f"/clients/{d['client_id']}/revoke"))
    assert revoked.status_code == 200

    def find(**params: str) -> list[str]:
        return names(client, robot, "/clients", **params)

    assert find(name="%") == ["50% off"]
    assert find(name="_") == ["a_b"]
    assert find(name="OFF") == ["5000 off", "50% off"]
    assert find(name="0 o") == ["5000 off"]
    assert find(created_by="admin@acme.example.com") == ["axb", "a_b"]
    assert find(created_by=a["created_by"]) == ["5000 off", "50% off"]
    assert find(created_by="ADMIN@acme.example.com") == []
    assert find(permission="nql") == ["a_b", "50% off"]
    assert find(permission="workflows", name="off") == ["5000 off"]
    assert find(group="emea") == ["50% off"]
    assert find(status="revoked") == ["axb"]
    assert "axb" not in find(status="active")
    assert find(status="expired") == []
    for bad in ({"status": "deleted"}, {"name": "new\nline"}):
        response = robot.request(client, "GET", api("acme", "/clients"), params=bad)
        assert_problem(response, 422, "invalid_input")


def test_api_key_filters(factory: Factory, client: TestClient) -> None:
    factory.tenant()
    robot = bearer_caller(client, factory, "acme")
    dev = session_caller(
        client, factory, "acme", "credentials_manager", email="dev@acme.example.com"
    )
    person = session_caller(client, factory, "acme", "admin")
    make(client, person, "/api-keys", name="alpha", scopes=["nql"], groups=["emea"])
    # A personal key is created by its owner.
    make(client, dev, "/api-keys", name="beta", scopes=["nql"], owner="dev@acme.example.com")
    make(client, dev, "/api-keys", name="gamma", owner="dev@acme.example.com")
    delta = make(client, robot, "/api-keys", name="delta")
    revoked = robot.request(client, "POST", api("acme", f"/api-keys/{delta['id']}/revoke"))
    assert revoked.status_code == 200

    def find(**params: str) -> list[str]:
        return names(client, robot, "/api-keys", **params)

    assert find(kind="personal") == ["gamma", "beta"]
    assert find(kind="service") == ["delta", "alpha"]
    assert find(owner="DEV@acme.example.com") == ["gamma", "beta"]
    assert find(owner="admin@acme.example.com") == []
    assert find(created_by="dev@acme.example.com") == ["gamma", "beta"]
    assert find(created_by="admin@acme.example.com") == ["alpha"]
    assert find(permission="nql") == ["beta", "alpha"]
    assert find(permission="nql", kind="service") == ["alpha"]
    assert find(group="emea") == ["alpha"]
    assert find(name="ALP") == ["alpha"]
    assert find(status="revoked") == ["delta"]
    assert find(status="active") == ["gamma", "beta", "alpha"]

    users = listing(client, robot, "/users", email="dev@")["items"]
    disabled = robot.request(
        client, "PATCH", api("acme", f"/users/{users[0]['id']}"), json={"status": "disabled"}
    )
    assert disabled.status_code == 200
    assert find(status="disabled") == ["gamma", "beta"]
    assert find(status="active") == ["alpha"]
    response = robot.request(client, "GET", api("acme", "/api-keys"), params={"kind": "shared"})
    assert_problem(response, 422, "invalid_input")


def test_audit_filters(factory: Factory, client: TestClient) -> None:
    factory.tenant()
    robot = bearer_caller(client, factory, "acme")
    person = session_caller(client, factory, "acme", "admin")
    made = make(client, robot, "/clients", name="audited")
    target = made["client_id"]
    revoked = robot.request(client, "POST", api("acme", f"/clients/{target}/revoke"))
    assert revoked.status_code == 200
    key = make(client, person, "/api-keys", name="audited key")

    def find(**params: str) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = listing(client, robot, "/audit-events", **params)["items"]
        return events

    def actions(**params: str) -> list[str]:
        return [e["action"] for e in find(**params)]

    robot_id = made["created_by"]
    assert actions(actor=robot_id) == ["client.revoke", "client.create"]
    assert actions(actor="admin@acme.example.com") == ["apikey.create", "session.sign_in"]
    assert actions(actor_type="user") == ["apikey.create", "session.sign_in"]
    assert actions(target=target) == ["client.revoke", "client.create"]
    assert actions(target=key["id"]) == ["apikey.create"]
    assert actions(action="client.revoke") == ["client.revoke"]
    assert set(actions(action="client.")) == {"client.create", "client.revoke"}
    assert find(action="client.create")[0]["target"] == target
    assert actions(action="apikey.") == ["apikey.create"]
    assert actions(action="client") == []
    assert actions(action="client.", actor=robot_id, target=target) == [
        "client.revoke",
        "client.create",
    ]

    revocation = find(action="client.revoke")[0]
    at = datetime.fromisoformat(revocation["at"])
    assert actions(since=revocation["at"], actor=robot_id) == ["client.revoke"]
    assert actions(until=revocation["at"], actor=robot_id) == ["client.create"]
    shifted = at.astimezone(timezone(timedelta(hours=2))).isoformat()
    assert actions(since=shifted, actor=robot_id) == ["client.revoke"]
    assert actions(since=revocation["at"], until=revocation["at"]) == []
    later = (at + timedelta(microseconds=1)).isoformat()
    assert actions(since=later, actor=robot_id) == []
    everything = find(limit="200")
    newest_first = [e["id"] for e in everything]
    assert newest_first == sorted(newest_first, reverse=True)
    for bad in ({"since": "2026-01-01T00:00:00"}, {"action": "Client.Create"}):
        response = robot.request(client, "GET", api("acme", "/audit-events"), params=bad)
        assert_problem(response, 422, "invalid_input")
