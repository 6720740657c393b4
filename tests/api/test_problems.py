"""Errors of the management API: RFC 9457 problem documents that never echo what was sent."""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient

from tests.api.support import Caller, api, assert_problem, bearer_caller, session_caller
from tests.factories import Factory

JSON = {"content-type": "application/json"}


def secret_of(factory: Factory) -> str:
    """A real client secret, the kind of value that must never come back in an error."""
    return factory.client("acme", scopes=(), name="leaky").secret


def test_unknown_routes_are_404_problems(factory: Factory, client: TestClient) -> None:
    factory.tenant()
    admin = bearer_caller(client, factory, "acme")
    for method, path in (
        ("GET", "/api/v1/nothing"),
        ("GET", "/api/v1/realms/acme/nope"),
        ("POST", "/api/v1/realms/acme/clients/gp-x/disable"),
        ("GET", "/api/v2/realms/acme/clients"),
    ):
        response = admin.request(client, method, path)
        body = assert_problem(response, 404, "not_found")
        assert response.headers["cache-control"] == "no-store"
        assert body["type"] == "urn:gatepass:problem:not_found"


def test_a_wrong_method_is_a_405_problem(factory: Factory, client: TestClient) -> None:
    factory.tenant()
    admin = bearer_caller(client, factory, "acme")
    for method, path in (
        ("PUT", "/clients"),
        ("PATCH", "/api-keys"),
        ("DELETE", "/users"),
        ("PUT", "/session"),
        ("POST", "/audit-events"),
    ):
        response = admin.request(client, method, api("acme", path))
        assert_problem(response, 405, "method_not_allowed")
        assert response.headers["cache-control"] == "no-store"
        assert response.headers["allow"]


def test_a_405_allows_every_method_of_the_resource(factory: Factory, client: TestClient) -> None:
    factory.tenant()
    admin = bearer_caller(client, factory, "acme")
    for path, methods in (("/api-keys", {"GET", "POST"}), ("/session", {"GET", "POST", "DELETE"})):
        response = admin.request(client, "PUT", api("acme", path))
        assert_problem(response, 405, "method_not_allowed")
        allowed = {m.strip() for m in response.headers["allow"].split(",")}
        assert methods <= allowed, (path, allowed)


def test_malformed_json_is_a_400_problem(factory: Factory, client: TestClient) -> None:
    factory.tenant()
    admin = bearer_caller(client, factory, "acme")
    secret = secret_of(factory)
    broken = ('{"name": "' + secret + '", ').encode()
    for method, path in (
        ("POST", "/clients"),
        ("POST", "/api-keys"),
        ("PATCH", "/users/1"),
        ("POST", "/session"),
        ("POST", "/clients/gp-x/rotate-secret"),
    ):
        response = admin.request(client, method, api("acme", path), content=broken, headers=JSON)
        body = assert_problem(response, 400, "malformed_json")
        assert "errors" not in body
        assert secret not in response.text
    listed = admin.request(client, "GET", api("acme", "/clients"), params={"name": secret})
    assert listed.json()["items"] == []


def test_validation_errors_point_at_fields_without_echoing_them(
    factory: Factory, client: TestClient
) -> None:
    factory.tenant()
    admin = bearer_caller(client, factory, "acme")
    secret = secret_of(factory)
    response = admin.request(
        client,
        "POST",
        api("acme", "/clients"),
        json={
            "name": [secret],
            "scopes": secret,
            "expires_at": secret,
            "token_lifetime": secret,
            "client_secret": secret,
        },
    )
    body = assert_problem(response, 422, "invalid_input")
    pointers = {e["pointer"] for e in body["errors"]}
    assert pointers == {
        "body/name",
        "body/scopes",
        "body/expires_at",
        "body/token_lifetime",
        "body/client_secret",
    }
    assert all(e["detail"] for e in body["errors"])
    assert secret not in response.text
    assert secret[5:25] not in response.text


def test_no_kind_of_bad_input_echoes_a_secret(factory: Factory, client: TestClient) -> None:
    factory.tenant()
    admin = bearer_caller(client, factory, "acme")
    secret = secret_of(factory)
    requests: list[tuple[str, str, dict[str, Any]]] = [
        ("GET", "/clients", {"params": {"limit": secret, "status": secret}}),
        ("GET", "/audit-events", {"params": {"since": secret, "action": secret}}),
        ("GET", f"/clients/{secret}", {}),
        ("GET", f"/api-keys/{secret}", {}),
        ("GET", f"/users/{secret}", {}),
        ("POST", "/clients", {"json": {"name": "x", "scopes": [secret]}}),
        ("POST", "/api-keys", {"json": {"name": "x", "owner": secret}}),
        ("POST", "/api-keys", {"json": {"name": "x", "rate_limit": {"limit": secret}}}),
        ("PATCH", "/users/1", {"json": {"role": secret, "status": secret}}),
        ("POST", "/users", {"json": {"email": secret, "role": "viewer", "password": secret}}),
        ("POST", "/session", {"json": {"email": 5, "password": [secret]}}),
        ("POST", "/session", {"json": {"email": secret, "password": secret}}),
        ("POST", "/clients/gp-x/rotate-secret", {"json": {"grace_seconds": secret}}),
    ]
    for method, path, kwargs in requests:
        response = admin.request(client, method, api("acme", path), **kwargs)
        assert 400 <= response.status_code < 500, (path, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        assert secret not in response.text, (method, path, response.text)


def test_an_unknown_field_named_like_a_secret_is_not_echoed(
    factory: Factory, client: TestClient
) -> None:
    factory.tenant()
    admin = bearer_caller(client, factory, "acme")
    secret = secret_of(factory)
    response = admin.request(client, "POST", api("acme", "/clients"), json={"name": "x", secret: 1})
    assert_problem(response, 422, "invalid_input")
    assert secret not in response.text


def test_an_unknown_tenant_is_a_404_problem(factory: Factory, client: TestClient) -> None:
    factory.tenant()
    admin = bearer_caller(client, factory, "acme")
    anonymous = Caller("anonymous", {}, {})
    for caller in (admin, anonymous):
        for method, path in (
            ("GET", "/clients"),
            ("POST", "/clients"),
            ("GET", "/users/1"),
            ("GET", "/session"),
        ):
            response = caller.request(client, method, api("initech", path), json={"name": "x"})
            body = assert_problem(response, 404, "tenant_not_found")
            assert "initech" in body["detail"]
    signed_in = client.post(
        api("initech", "/session"), json={"email": "ada@acme.example.com", "password": "x" * 12}
    )
    assert_problem(signed_in, 404, "tenant_not_found")


def test_unauthenticated_requests_get_a_bearer_challenge(
    factory: Factory, client: TestClient
) -> None:
    factory.tenant()
    for headers in ({}, {"authorization": "Basic dXNlcjpwYXNz"}, {"authorization": "Bearer "}):
        response = client.get(api("acme", "/clients"), headers=headers)
        assert_problem(response, 401, "unauthenticated")
        assert response.headers["www-authenticate"].startswith('Bearer realm="acme"')
        assert response.headers["cache-control"] == "no-store"


def test_a_token_without_an_api_scope_is_a_403(factory: Factory, client: TestClient) -> None:
    factory.tenant()
    plain = factory.client("acme", scopes=("nql",), name="data client")
    answer = client.post(
        "/realms/acme/protocol/openid-connect/token",
        data={"grant_type": "client_credentials", "resource": "http://testserver/realms/acme"},
        headers={"authorization": plain.basic},
    )
    caller = Caller("plain", {"authorization": f"Bearer {answer.json()['access_token']}"}, {})
    response = caller.request(client, "GET", api("acme", "/clients"))
    assert_problem(response, 403, "insufficient_scope")
    assert 'error="insufficient_scope"' in response.headers["www-authenticate"]


def test_every_answer_is_no_store(factory: Factory, client: TestClient) -> None:
    factory.tenant()
    admin = bearer_caller(client, factory, "acme")
    member = session_caller(client, factory, "acme", "admin")
    made = admin.request(client, "POST", api("acme", "/clients"), json={"name": "x"})
    client_id = made.json()["client_id"]
    answers = [
        made,
        admin.request(client, "GET", api("acme", "/clients")),
        admin.request(client, "GET", api("acme", f"/clients/{client_id}")),
        admin.request(client, "POST", api("acme", f"/clients/{client_id}/revoke")),
        admin.request(client, "DELETE", api("acme", f"/clients/{client_id}")),
        admin.request(client, "GET", api("acme", "")),
        admin.request(client, "GET", api("acme", "/permissions")),
        admin.request(client, "GET", api("acme", "/groups")),
        admin.request(client, "GET", api("acme", "/users")),
        admin.request(client, "GET", api("acme", "/audit-events")),
        admin.request(client, "GET", api("acme", "/api-keys")),
        member.request(client, "GET", api("acme", "/session")),
        admin.request(client, "GET", api("acme", "/clients/gp-none")),
        client.get(api("acme", "/clients")),
    ]
    for response in answers:
        assert response.headers.get("cache-control") == "no-store", (
            response.request.method,
            response.request.url,
            response.status_code,
        )


def test_signing_out_is_no_store_too(factory: Factory, client: TestClient) -> None:
    factory.tenant()
    member = session_caller(client, factory, "acme", "admin")
    response = member.request(client, "DELETE", api("acme", "/session"))
    assert response.status_code == 204
    assert response.headers.get("cache-control") == "no-store"
