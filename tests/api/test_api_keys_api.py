"""API keys through the management API, each step checked at the verify endpoint."""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient

from tests.api.support import Caller, api, assert_problem, bearer_caller, session_caller
from tests.apikeys.support import code_is, verifier, verify, verify_until
from tests.factories import Factory


def create(http: TestClient, caller: Caller, **fields: Any) -> dict[str, Any]:
    body = {"name": "billing sync", "scopes": ["nql"], **fields}
    response = caller.request(http, "POST", api("acme", "/api-keys"), json=body)
    assert response.status_code == 201, response.text
    issued: dict[str, Any] = response.json()
    return issued


def all_keys(http: TestClient, caller: Caller, **params: str) -> list[dict[str, Any]]:
    response = caller.request(
        http, "GET", api("acme", "/api-keys"), params={"limit": "200", **params}
    )
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def test_create_returns_a_valid_key_once(factory: Factory, client: TestClient) -> None:
    factory.tenant()
    admin = bearer_caller(client, factory, "acme")
    checker = verifier(factory)
    response = admin.request(
        client,
        "POST",
        api("acme", "/api-keys"),
        json={"name": "Billing sync", "scopes": ["nql", "workflows"], "groups": ["emea"]},
    )
    assert response.status_code == 201, response.text
    assert response.headers["cache-control"] == "no-store"
    issued = response.json()
    secret = issued["key"]
    assert secret.startswith("gpk_")
    assert issued["kind"] == "service"
    assert issued["owner"] is None
    assert issued["status"] == "active"
    assert issued["hint"] == f"gpk_…{secret[-4:]}"

    answer = verify(client, checker, secret)
    assert answer["valid"] is True
    assert answer["code"] == "VALID"
    assert answer["key_id"] == issued["id"]
    assert answer["name"] == "Billing sync"
    assert sorted(answer["scopes"]) == ["nql", "workflows"]
    assert answer["groups"] == ["emea"]

    shown = admin.request(client, "GET", api("acme", f"/api-keys/{issued['id']}"))
    assert shown.status_code == 200
    assert "key" not in shown.json()
    assert shown.json()["hint"] == issued["hint"]
    listed = admin.request(client, "GET", api("acme", "/api-keys"))
    assert issued["id"] in listed.text
    events = admin.request(client, "GET", api("acme", "/audit-events"), params={"limit": "200"})
    assert issued["id"] in events.text
    for later in (shown.text, listed.text, events.text):
        assert secret not in later
        assert secret[4:] not in later


def test_revoke_makes_the_key_revoked(factory: Factory, client: TestClient) -> None:
    factory.tenant()
    admin = bearer_caller(client, factory, "acme")
    checker = verifier(factory)
    issued = create(client, admin)
    assert verify(client, checker, issued["key"])["code"] == "VALID"

    response = admin.request(client, "POST", api("acme", f"/api-keys/{issued['id']}/revoke"))
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "revoked"
    assert "key" not in response.json()
    answer = verify_until(client, checker, issued["key"], code_is("REVOKED"))
    assert answer == {"valid": False, "code": "REVOKED"}
    regenerate = admin.request(client, "POST", api("acme", f"/api-keys/{issued['id']}/regenerate"))
    assert_problem(regenerate, 422)


def test_delete_answers_204_then_404_and_the_key_is_not_found(
    factory: Factory, client: TestClient
) -> None:
    factory.tenant()
    admin = bearer_caller(client, factory, "acme")
    checker = verifier(factory)
    issued = create(client, admin)
    assert verify(client, checker, issued["key"])["code"] == "VALID"
    path = api("acme", f"/api-keys/{issued['id']}")

    response = admin.request(client, "DELETE", path)
    assert response.status_code == 204
    assert response.content == b""
    assert_problem(admin.request(client, "GET", path), 404, "not_found")
    assert_problem(admin.request(client, "DELETE", path), 404, "not_found")
    answer = verify_until(client, checker, issued["key"], code_is("NOT_FOUND"))
    assert answer == {"valid": False, "code": "NOT_FOUND"}


def test_regenerate_revokes_the_old_secret_and_keeps_the_id(
    factory: Factory, client: TestClient
) -> None:
    factory.tenant()
    admin = bearer_caller(client, factory, "acme")
    checker = verifier(factory)
    issued = create(client, admin)
    old = issued["key"]
    assert verify(client, checker, old)["code"] == "VALID"

    response = admin.request(client, "POST", api("acme", f"/api-keys/{issued['id']}/regenerate"))
    assert response.status_code == 200, response.text
    new = response.json()["key"]
    assert new != old
    assert response.json()["id"] == issued["id"]
    assert response.json()["hint"] == f"gpk_…{new[-4:]}"
    assert verify_until(client, checker, old, code_is("REVOKED"))["code"] == "REVOKED"
    answer = verify(client, checker, new)
    assert answer["code"] == "VALID"
    assert answer["key_id"] == issued["id"]


def test_regenerate_with_grace_keeps_the_old_secret_valid(
    factory: Factory, client: TestClient
) -> None:
    factory.tenant()
    admin = bearer_caller(client, factory, "acme")
    checker = verifier(factory)
    issued, probe = create(client, admin), create(client, admin, name="cache probe")
    for key in (issued, probe):
        assert verify(client, checker, key["key"])["code"] == "VALID"

    response = admin.request(
        client,
        "POST",
        api("acme", f"/api-keys/{issued['id']}/regenerate"),
        json={"grace_seconds": 600},
    )
    assert response.status_code == 200, response.text
    # Changes reach the verify cache in order: once the probe's later revocation shows, the
    # regeneration has been seen too, and the old secret must still be valid.
    assert admin.request(client, "POST", api("acme", f"/api-keys/{probe['id']}/revoke")).is_success
    assert verify_until(client, checker, probe["key"], code_is("REVOKED"))["code"] == "REVOKED"
    assert verify(client, checker, issued["key"])["code"] == "VALID"
    assert verify(client, checker, response.json()["key"])["code"] == "VALID"


def test_revoke_all_counts_and_revokes_every_key(factory: Factory, client: TestClient) -> None:
    factory.tenant()
    admin = bearer_caller(client, factory, "acme")
    checker = verifier(factory)
    made = [create(client, admin, name=f"key {n}") for n in range(3)]
    gone = create(client, admin, name="revoked first")
    assert admin.request(client, "POST", api("acme", f"/api-keys/{gone['id']}/revoke")).is_success
    for issued in made:
        assert verify(client, checker, issued["key"])["code"] == "VALID"

    response = admin.request(client, "POST", api("acme", "/api-keys/revoke-all"))
    assert response.status_code == 200, response.text
    assert response.json() == {"count": 3}
    for issued in made:
        assert verify_until(client, checker, issued["key"], code_is("REVOKED"))["valid"] is False
    assert all_keys(client, admin, status="active") == []
    # The admin's own OAuth client is untouched: revoking keys is not revoking clients.
    assert admin.request(client, "GET", api("acme", "/api-keys")).status_code == 200


def test_personal_key_names_its_owner(factory: Factory, client: TestClient) -> None:
    factory.tenant()
    dev = session_caller(
        client, factory, "acme", "credentials_manager", email="dev@acme.example.com"
    )
    checker = verifier(factory)
    issued = create(client, dev, name="my laptop", owner="Dev@Acme.example.com")
    assert issued["kind"] == "personal"
    assert issued["owner"] == "dev@acme.example.com"

    answer = verify(client, checker, issued["key"])
    assert answer["code"] == "VALID"
    assert answer["kind"] == "personal"
    assert answer["owner"] == {"email": "dev@acme.example.com"}
    assert answer["scopes"] == ["nql"]


def test_a_personal_key_its_owner_could_not_hold_is_refused(
    factory: Factory, client: TestClient
) -> None:
    factory.tenant()
    factory.user("acme", email="viewer@acme.example.com", role="viewer")
    manager = session_caller(
        client, factory, "acme", "credentials_manager", email="manager@acme.example.com"
    )
    admin = bearer_caller(client, factory, "acme")
    # Only the owner themself creates a personal key: a token never does, whoever the owner is
    # (an unknown one included: the answer does not tell which users exist).
    cases = [
        (admin, "nobody@acme.example.com", ["nql"]),
        (admin, "viewer@acme.example.com", ["nql"]),
        (admin, "manager@acme.example.com", ["tenant:admin"]),
        (manager, "manager@acme.example.com", ["tenant:admin"]),  # beyond the owner's role
    ]
    for caller, owner, scopes in cases:
        response = caller.request(
            client,
            "POST",
            api("acme", "/api-keys"),
            json={"name": "refused", "owner": owner, "scopes": scopes},
        )
        assert_problem(response, 403, "forbidden")
    assert all_keys(client, admin) == []


def test_rate_limit_is_shown_and_enforced(factory: Factory, client: TestClient) -> None:
    factory.tenant()
    admin = bearer_caller(client, factory, "acme")
    checker = verifier(factory)
    issued = create(client, admin, rate_limit={"limit": 2, "period": 86400})
    assert issued["rate_limit"] == {"limit": 2, "period": 86400}
    shown = admin.request(client, "GET", api("acme", f"/api-keys/{issued['id']}")).json()
    assert shown["rate_limit"] == {"limit": 2, "period": 86400}

    codes = [verify(client, checker, issued["key"])["code"] for _ in range(3)]
    assert codes == ["VALID", "VALID", "RATE_LIMITED"]


def test_refused_input_stores_no_key(factory: Factory, client: TestClient) -> None:
    factory.tenant()
    admin = bearer_caller(client, factory, "acme")
    cases: list[dict[str, Any]] = [
        {"rate_limit": {"limit": 0, "period": 60}},
        {"rate_limit": {"limit": 5, "period": 86401}},
        {"scopes": ["nonexistent"]},
        {"groups": ["nowhere"]},
        {"expires_at": "2001-01-01T00:00:00Z"},
    ]
    for fields in cases:
        response = admin.request(
            client, "POST", api("acme", "/api-keys"), json={"name": "refused", **fields}
        )
        assert_problem(response, 422)
    assert all_keys(client, admin) == []
