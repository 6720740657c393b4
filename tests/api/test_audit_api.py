"""The audit log as the management API writes it: who, what, which target, from where."""

from __future__ import annotations

from functools import partial
from typing import Any

from starlette.testclient import TestClient

from tests.api.support import (
    Caller,
    api,
    assert_problem,
    bearer_caller,
    flush_failures,
    session_caller,
)
from tests.factories import Factory
from tests.http.support import issuer, poll, request_token, status_is

ROBOT_AGENT = "audit-tests/2.0 (automation)"
CONSOLE_AGENT = "audit-tests/2.0 (console)"


def call(
    http: TestClient, caller: Caller, method: str, path: str, agent: str, **kwargs: Any
) -> Any:
    response = caller.request(
        http, method, api("acme", path), headers={"user-agent": agent}, **kwargs
    )
    assert response.is_success, response.text
    return response.json() if response.content else None


def events(http: TestClient, caller: Caller, **params: str) -> list[dict[str, Any]]:
    flush_failures(http)  # failure counts held in memory, written
    response = caller.request(
        http, "GET", api("acme", "/audit-events"), params={"limit": "200", **params}
    )
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()["items"]
    return found


def test_every_mutation_is_audited_with_actor_target_and_source(
    factory: Factory, client: TestClient
) -> None:
    factory.tenant()
    robot = bearer_caller(client, factory, "acme")
    person = session_caller(client, factory, "acme", "admin", email="root@acme.example.com")
    expected: list[tuple[str, str, str]] = []  # (action, target, who)

    def robot_call(method: str, path: str, **kwargs: Any) -> Any:
        return call(client, robot, method, path, ROBOT_AGENT, **kwargs)

    made = robot_call("POST", "/clients", json={"name": "audited", "scopes": ["nql"]})
    robot_id, client_id = made["created_by"], made["client_id"]
    robot_call("POST", f"/clients/{client_id}/revoke")
    robot_call("DELETE", f"/clients/{client_id}")
    expected += [
        ("client.create", client_id, robot_id),
        ("client.revoke", client_id, robot_id),
        ("client.delete", client_id, robot_id),
    ]

    key_id = robot_call("POST", "/api-keys", json={"name": "audited"})["id"]
    robot_call("POST", f"/api-keys/{key_id}/regenerate")
    robot_call("POST", f"/api-keys/{key_id}/revoke")
    robot_call("DELETE", f"/api-keys/{key_id}")
    robot_call("POST", "/api-keys/revoke-all")
    expected += [
        ("apikey.create", key_id, robot_id),
        ("apikey.regenerate", key_id, robot_id),
        ("apikey.revoke", key_id, robot_id),
        ("apikey.delete", key_id, robot_id),
        ("apikey.revoke_all", "acme", robot_id),
    ]

    email = "new@acme.example.com"
    body = {"email": email, "role": "viewer", "password": "a long enough passphrase"}
    user_id = robot_call("POST", "/users", json=body)["id"]
    robot_call("PATCH", f"/users/{user_id}", json={"display_name": "New"})
    robot_call("PATCH", f"/users/{user_id}", json={"role": "credentials_manager"})
    robot_call("PATCH", f"/users/{user_id}", json={"status": "disabled"})
    robot_call("PATCH", f"/users/{user_id}", json={"status": "active"})
    robot_call("POST", "/groups", json={"name": "apac"})
    robot_call("POST", "/permissions", json={"name": "reports", "label": "Reports"})
    robot_call("PATCH", "/permissions/reports", json={"label": "Reports API"})
    robot_call("PATCH", "", json={"name": "Acme Corp"})
    expected += [
        ("user.create", email, robot_id),
        ("user.update", email, robot_id),
        ("user.set_role", email, robot_id),
        ("user.disable", email, robot_id),
        ("user.enable", email, robot_id),
        ("group.create", "apac", robot_id),
        ("permission.create", "reports", robot_id),
        ("permission.update", "reports", robot_id),
    ]

    def console_call(method: str, path: str, **kwargs: Any) -> Any:
        return call(client, person, method, path, CONSOLE_AGENT, **kwargs)

    mine = console_call("POST", "/clients", json={"name": "from the console"})["client_id"]
    console_call("POST", "/clients/revoke-all")
    expected += [
        ("client.create", mine, "root@acme.example.com"),
        ("client.revoke_all", "acme", "root@acme.example.com"),
    ]

    recorded = events(client, person)
    for action, target, who in expected:
        matching = [e for e in recorded if e["action"] == action and e["target"] == target]
        assert len(matching) == 1, (action, target, matching)
        event = matching[0]
        assert event["actor"] == who, event
        assert event["actor_type"] == ("client" if who == robot_id else "user")
        assert event["source_ip"] == "testclient"
        assert event["user_agent"] == (ROBOT_AGENT if who == robot_id else CONSOLE_AGENT)
    updates = [e for e in recorded if e["action"] == "tenant.update"]
    assert len(updates) == 1
    assert updates[0]["actor"] == robot_id
    assert updates[0]["user_agent"] == ROBOT_AGENT
    revoke_all = next(e for e in recorded if e["action"] == "client.revoke_all")
    assert revoke_all["details"] == {"count": 2}  # the console's client and the robot's own

    console_call("DELETE", "/session")
    reader = bearer_caller(client, factory, "acme", "viewer")
    signed_out = events(client, reader, action="session.sign_out")
    assert [(e["actor"], e["user_agent"]) for e in signed_out] == [
        ("root@acme.example.com", CONSOLE_AGENT)
    ]


def test_no_secret_or_password_reaches_the_audit_log(factory: Factory, client: TestClient) -> None:
    factory.tenant()
    robot = bearer_caller(client, factory, "acme")
    password = "a long enough passphrase"
    made = call(client, robot, "POST", "/clients", ROBOT_AGENT, json={"name": "c"})
    key = call(client, robot, "POST", "/api-keys", ROBOT_AGENT, json={"name": "k"})
    again = call(client, robot, "POST", f"/api-keys/{key['id']}/regenerate", ROBOT_AGENT)
    body = {"email": "p@acme.example.com", "role": "viewer", "password": password}
    call(client, robot, "POST", "/users", ROBOT_AGENT, json=body)
    token = robot.headers["authorization"].split()[1]
    logged = str(events(client, robot))
    for secret in (made["client_secret"], key["key"], again["key"], password, token):
        assert secret not in logged
    assert made["client_id"] in logged


def test_failed_bearer_authentication_is_audited(factory: Factory, client: TestClient) -> None:
    factory.tenant()
    factory.tenant("globex")
    admin = bearer_caller(client, factory, "acme")
    stranger = bearer_caller(client, factory, "globex")
    victim = factory.client("acme", scopes=("credentials:read",), name="soon revoked")
    answer = request_token(client, victim, scope="credentials:read", resource=issuer("acme"))
    victim_token = answer.json()["access_token"]
    reader = Caller("victim", {"authorization": f"Bearer {victim_token}"}, {})
    assert reader.request(client, "GET", api("acme", "/clients")).status_code == 200

    garbage = Caller("garbage", {"authorization": "Bearer gpcs_not-a-token-at-all"}, {})
    for caller in (garbage, stranger):
        refused = caller.request(
            client, "GET", api("acme", "/clients"), headers={"user-agent": "intruder/0.1"}
        )
        assert_problem(refused, 401, "unauthenticated")
        assert refused.headers["www-authenticate"].startswith('Bearer realm="acme"')

    response = admin.request(client, "POST", api("acme", f"/clients/{victim.client_id}/revoke"))
    assert response.status_code == 200
    refused = poll(partial(reader.request, client, "GET", api("acme", "/clients")), status_is(401))
    assert_problem(refused, 401, "unauthenticated")

    failures = events(client, admin, action="api.auth_failed")
    assert sum(e["count"] for e in failures) == 3  # one row per source and minute
    for event in failures:
        assert event["details"]["reason"] == "invalid_token"
        assert event["details"]["path"] == api("acme", "/clients")
        assert event["source_ip"] == "testclient"
    logged = str(failures)
    assert victim_token not in logged
    assert "gpcs_not-a-token-at-all" not in logged
    assert stranger.headers["authorization"].split()[1] not in logged


def test_a_refusal_for_want_of_a_role_is_audited(factory: Factory, client: TestClient) -> None:
    factory.tenant()
    viewer = bearer_caller(client, factory, "acme", "viewer")
    refused = viewer.request(client, "POST", api("acme", "/clients"), json={"name": "x"})
    assert_problem(refused, 403, "forbidden")
    denied = events(client, viewer, action="api.access_denied")
    assert len(denied) == 1
    assert denied[0]["details"]["reason"] == "role"
    assert denied[0]["details"]["role"] == "viewer"
    assert denied[0]["actor_type"] == "client"


def test_a_failing_mutation_writes_no_event(factory: Factory, client: TestClient) -> None:
    factory.tenant()
    factory.user("acme", email="root@acme.example.com", role="admin")
    admin = bearer_caller(client, factory, "acme")
    root = admin.request(client, "GET", api("acme", "/users")).json()["items"][0]
    before = events(client, admin)

    # The display name is changed and audited first, then disabling the last admin fails:
    # the whole request rolls back, its audit event with it.
    response = admin.request(
        client,
        "PATCH",
        api("acme", f"/users/{root['id']}"),
        json={"display_name": "Renamed", "status": "disabled"},
    )
    assert_problem(response, 409, "conflict")
    refused = admin.request(
        client, "POST", api("acme", "/clients"), json={"name": "x", "groups": ["nowhere"]}
    )
    assert_problem(refused, 422)
    missing = admin.request(client, "POST", api("acme", "/clients/gp-missing/revoke"))
    assert_problem(missing, 404)

    assert events(client, admin) == before
    shown = admin.request(client, "GET", api("acme", f"/users/{root['id']}")).json()
    assert shown["display_name"] == root["display_name"]
    assert shown["status"] == "active"
