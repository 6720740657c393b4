"""OAuth clients through the management API: the whole lifecycle, checked at the token endpoint."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import httpx2
from sqlalchemy import select
from starlette.testclient import TestClient

from gatepass.changes import feed
from gatepass.clients.models import OAuthClient
from tests.api.support import Caller, api, assert_problem, bearer_caller, session_caller
from tests.factories import Credential, Factory
from tests.http.support import inactive, introspect, poll, request_token, status_is

TOKEN_ENDPOINT = "http://testserver/realms/acme/protocol/openid-connect/token"
# rotate_secret adds the new secret version without a flush, so its created_at is still None
# when the answer is built: every rotate-secret call fails (500) and rotates nothing.


def create(http: TestClient, caller: Caller, **fields: Any) -> dict[str, Any]:
    body = {"name": "billing sync", "scopes": ["nql"], **fields}
    response = caller.request(http, "POST", api("acme", "/clients"), json=body)
    assert response.status_code == 201, response.text
    issued: dict[str, Any] = response.json()
    return issued


def credential(issued: dict[str, Any]) -> Credential:
    return Credential("acme", issued["client_id"], issued["client_secret"])


def token_with(http: TestClient, client_id: str, secret: str) -> httpx2.Response:
    return request_token(http, Credential("acme", client_id, secret))


def all_clients(http: TestClient, caller: Caller, **params: str) -> list[dict[str, Any]]:
    response = caller.request(
        http, "GET", api("acme", "/clients"), params={"limit": "200", **params}
    )
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def audit_text(http: TestClient, caller: Caller) -> str:
    response = caller.request(http, "GET", api("acme", "/audit-events"), params={"limit": "200"})
    assert response.status_code == 200, response.text
    return response.text


def test_create_returns_a_working_secret_once(factory: Factory, client: TestClient) -> None:
    factory.tenant()
    admin = bearer_caller(client, factory, "acme")
    response = admin.request(
        client,
        "POST",
        api("acme", "/clients"),
        json={
            "name": "Billing sync",
            "description": "nightly export",
            "scopes": ["workflows", "nql"],
            "groups": ["emea"],
        },
    )
    assert response.status_code == 201, response.text
    assert response.headers["cache-control"] == "no-store"
    issued = response.json()
    secret = issued["client_secret"]
    assert secret.startswith("gpcs_")
    assert issued["token_endpoint"] == TOKEN_ENDPOINT
    assert issued["status"] == "active"
    assert sorted(issued["scopes"]) == ["nql", "workflows"]
    assert issued["groups"] == ["emea"]
    assert issued["description"] == "nightly export"
    assert [s["hint"] for s in issued["secrets"]] == [f"gpcs_…{secret[-4:]}"]

    answer = client.post(
        issued["token_endpoint"],
        data={"grant_type": "client_credentials", "scope": "nql"},
        auth=(issued["client_id"], secret),
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["scope"] == "nql"

    shown = admin.request(client, "GET", api("acme", f"/clients/{issued['client_id']}"))
    assert shown.status_code == 200
    assert "client_secret" not in shown.json()
    assert shown.json()["name"] == "Billing sync"
    listed = admin.request(client, "GET", api("acme", "/clients"))
    assert issued["client_id"] in listed.text
    for later in (shown.text, listed.text, audit_text(client, admin)):
        assert secret not in later
        assert secret[5:] not in later


def test_get_unknown_client_is_a_404_problem(factory: Factory, client: TestClient) -> None:
    factory.tenant()
    admin = bearer_caller(client, factory, "acme")
    response = admin.request(client, "GET", api("acme", "/clients/gp-nothing-here"))
    assert_problem(response, 404, "not_found")


def test_rotate_without_grace_stops_the_old_secret_at_once(
    factory: Factory, client: TestClient
) -> None:
    factory.tenant()
    admin = bearer_caller(client, factory, "acme")
    issued = create(client, admin)
    client_id, old = issued["client_id"], issued["client_secret"]
    assert token_with(client, client_id, old).status_code == 200

    response = admin.request(client, "POST", api("acme", f"/clients/{client_id}/rotate-secret"))
    assert response.status_code == 200, response.text
    new = response.json()["client_secret"]
    assert new != old
    assert new.startswith("gpcs_")
    assert response.json()["token_endpoint"] == TOKEN_ENDPOINT

    refused = poll(partial(token_with, client, client_id, old), status_is(401))
    assert refused.status_code == 401
    assert refused.json()["error"] == "invalid_client"
    assert token_with(client, client_id, new).status_code == 200
    versions = admin.request(client, "GET", api("acme", f"/clients/{client_id}")).json()["secrets"]
    assert [v["active"] for v in versions] == [False, True]


def test_rotate_with_grace_keeps_the_old_secret_working(
    factory: Factory, client: TestClient
) -> None:
    factory.tenant()
    admin = bearer_caller(client, factory, "acme")
    issued = create(client, admin)
    client_id, old = issued["client_id"], issued["client_secret"]
    assert token_with(client, client_id, old).status_code == 200

    response = admin.request(
        client,
        "POST",
        api("acme", f"/clients/{client_id}/rotate-secret"),
        json={"grace_seconds": 3600},
    )
    assert response.status_code == 200, response.text
    new = response.json()["client_secret"]
    # Once the new secret is accepted, the server sees the rotation: the old one must still work.
    assert poll(partial(token_with, client, client_id, new), status_is(200)).status_code == 200
    assert token_with(client, client_id, old).status_code == 200

    versions = response.json()["secrets"]
    assert [v["active"] for v in versions] == [True, True]
    ends = datetime.fromisoformat(versions[0]["expires_at"])
    assert timedelta(minutes=59) < ends - datetime.now(UTC) <= timedelta(hours=1)
    assert versions[1]["expires_at"] is None


def test_rotate_refuses_a_grace_beyond_thirty_days(factory: Factory, client: TestClient) -> None:
    factory.tenant()
    admin = bearer_caller(client, factory, "acme")
    issued = create(client, admin)
    response = admin.request(
        client,
        "POST",
        api("acme", f"/clients/{issued['client_id']}/rotate-secret"),
        json={"grace_seconds": 31 * 86400},
    )
    body = assert_problem(response, 422, "invalid_input")
    assert [e["pointer"] for e in body["errors"]] == ["body/grace_seconds"]
    assert token_with(client, issued["client_id"], issued["client_secret"]).status_code == 200


def test_revoke_refuses_the_client_and_its_earlier_tokens(
    factory: Factory, client: TestClient
) -> None:
    factory.tenant()
    admin = bearer_caller(client, factory, "acme")
    resource_server = factory.client("acme", scopes=(), name="resource server")
    issued = create(client, admin)
    answer = request_token(client, credential(issued))
    assert answer.status_code == 200
    earlier = answer.json()["access_token"]
    assert introspect(client, resource_server, earlier).json()["active"] is True

    response = admin.request(client, "POST", api("acme", f"/clients/{issued['client_id']}/revoke"))
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "revoked"
    assert "client_secret" not in response.json()

    refused = poll(partial(request_token, client, credential(issued)), status_is(401))
    assert refused.status_code == 401
    assert refused.json()["error"] == "invalid_client"
    check = poll(lambda: introspect(client, resource_server, earlier), inactive)
    assert check.json() == {"active": False}
    shown = admin.request(client, "GET", api("acme", f"/clients/{issued['client_id']}"))
    assert shown.json()["status"] == "revoked"
    again = admin.request(
        client, "POST", api("acme", f"/clients/{issued['client_id']}/rotate-secret")
    )
    assert_problem(again, 422)


def test_revoke_all_counts_and_refuses_every_client(factory: Factory, client: TestClient) -> None:
    factory.tenant()
    admin = session_caller(client, factory, "acme")
    made = [credential(create(client, admin, name=f"integration {n}")) for n in range(3)]
    already = create(client, admin, name="already revoked")
    revoked = admin.request(client, "POST", api("acme", f"/clients/{already['client_id']}/revoke"))
    assert revoked.status_code == 200
    for cred in made:
        assert request_token(client, cred).status_code == 200

    response = admin.request(client, "POST", api("acme", "/clients/revoke-all"))
    assert response.status_code == 200, response.text
    assert response.json() == {"count": 3}
    for cred in made:
        refused = poll(partial(request_token, client, cred), status_is(401))
        assert refused.json()["error"] == "invalid_client"
    assert all_clients(client, admin, status="active") == []
    assert len(all_clients(client, admin, status="revoked")) == 4
    second = admin.request(client, "POST", api("acme", "/clients/revoke-all"))
    assert second.json() == {"count": 0}


def test_delete_answers_204_then_404(factory: Factory, client: TestClient) -> None:
    factory.tenant()
    admin = bearer_caller(client, factory, "acme")
    issued = create(client, admin)
    assert request_token(client, credential(issued)).status_code == 200
    path = api("acme", f"/clients/{issued['client_id']}")

    response = admin.request(client, "DELETE", path)
    assert response.status_code == 204
    assert response.content == b""
    assert response.headers["cache-control"] == "no-store"
    assert_problem(admin.request(client, "GET", path), 404, "not_found")
    assert_problem(admin.request(client, "DELETE", path), 404, "not_found")
    assert issued["client_id"] not in admin.request(client, "GET", api("acme", "/clients")).text
    refused = poll(partial(request_token, client, credential(issued)), status_is(401))
    assert refused.json()["error"] == "invalid_client"


def test_an_expired_client_shows_as_expired(factory: Factory, client: TestClient) -> None:
    factory.tenant()
    admin = bearer_caller(client, factory, "acme")
    tomorrow = datetime.now(UTC) + timedelta(days=1)
    issued = create(client, admin, expires_at=tomorrow.isoformat())
    assert issued["status"] == "active"
    assert datetime.fromisoformat(issued["expires_at"]) == tomorrow
    # Expiry takes a day to come: move it into the past in the store, as time would, and tell
    # the servers' caches as the services do.
    with factory.db.transaction() as session:
        row = session.scalars(
            select(OAuthClient).where(OAuthClient.client_id == issued["client_id"])
        ).one()
        row.expires_at = datetime.now(UTC) - timedelta(seconds=1)
        feed.publish(session, row.tenant_id, feed.KIND_CLIENT, row.client_id)

    shown = admin.request(client, "GET", api("acme", f"/clients/{issued['client_id']}"))
    assert shown.json()["status"] == "expired"
    expired_ids = [c["client_id"] for c in all_clients(client, admin, status="expired")]
    active_ids = [c["client_id"] for c in all_clients(client, admin, status="active")]
    assert expired_ids == [issued["client_id"]]
    assert issued["client_id"] not in active_ids
    refused = poll(partial(request_token, client, credential(issued)), status_is(401))
    assert refused.json()["error"] == "invalid_client"


REFUSED: list[tuple[dict[str, Any], str]] = [
    ({"scopes": ["nql", "nonexistent"]}, "unknown permission"),
    ({"groups": ["emea", "nowhere"]}, "nowhere"),
    ({"scopes": ["spark"]}, "cannot be granted"),  # in the catalog, but unavailable
    ({"expires_at": "2001-01-01T00:00:00Z"}, "future"),
]


def test_refused_input_is_a_422_problem_and_stores_nothing(
    factory: Factory, client: TestClient
) -> None:
    factory.tenant(unavailable=("spark",))
    admin = bearer_caller(client, factory, "acme")
    before = all_clients(client, admin)
    events_before = audit_text(client, admin)
    for fields, detail in REFUSED:
        response = admin.request(
            client, "POST", api("acme", "/clients"), json={"name": "rejected", **fields}
        )
        body = assert_problem(response, 422, "invalid_input")
        assert detail in body["detail"], fields
    naive = admin.request(
        client,
        "POST",
        api("acme", "/clients"),
        json={"name": "rejected", "expires_at": "2099-01-01T00:00:00"},
    )
    assert [e["pointer"] for e in assert_problem(naive, 422)["errors"]] == ["body/expires_at"]
    assert all_clients(client, admin) == before
    assert audit_text(client, admin) == events_before


def test_a_taken_client_id_is_a_409(factory: Factory, client: TestClient) -> None:
    factory.tenant()
    admin = bearer_caller(client, factory, "acme")
    create(client, admin, client_id="billing-sync")
    response = admin.request(
        client,
        "POST",
        api("acme", "/clients"),
        json={"name": "second", "client_id": "billing-sync"},
    )
    assert_problem(response, 409, "conflict")
    assert [c["name"] for c in all_clients(client, admin, name="second")] == []


def test_roles_bound_what_a_caller_may_create(factory: Factory, client: TestClient) -> None:
    factory.tenant()
    manager = bearer_caller(client, factory, "acme", "credentials_manager")
    response = manager.request(
        client,
        "POST",
        api("acme", "/clients"),
        json={"name": "escalation", "scopes": ["tenant:admin"]},
    )
    assert_problem(response, 403)
    assert all_clients(client, manager, name="escalation") == []
    assert create(client, manager, name="allowed")["scopes"] == ["nql"]
    viewer = bearer_caller(client, factory, "acme", "viewer")
    refused = viewer.request(client, "POST", api("acme", "/clients"), json={"name": "nope"})
    assert_problem(refused, 403, "forbidden")
    assert all_clients(client, viewer, name="nope") == []
