"""Editing OAuth clients and API keys through the management API (``PATCH``): what changes, what
stays, who may grant what, and that the change is seen where the credential is used."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.api.routes import audit_after, audit_mark, snapshot
from tests.api.support import Caller, api, assert_problem, bearer_caller
from tests.apikeys.support import create_key, create_user, verifier, verify, verify_until
from tests.factories import Factory
from tests.http.support import poll, request_token

KINDS = {"client": ("/clients", "client_id"), "key": ("/api-keys", "id")}


def create(http: TestClient, admin: Caller, kind: str, **fields: Any) -> dict[str, Any]:
    path, _ = KINDS[kind]
    body = {"name": "billing sync", "scopes": ["nql"], "groups": ["emea"], **fields}
    response = admin.request(http, "POST", api("acme", path), json=body)
    assert response.status_code == 201, response.text
    made: dict[str, Any] = response.json()
    return made


def patch(http: TestClient, caller: Caller, kind: str, ref: str, body: dict[str, Any]) -> Any:
    path, _ = KINDS[kind]
    return caller.request(http, "PATCH", api("acme", f"{path}/{ref}"), json=body)


def edited(http: TestClient, caller: Caller, kind: str, ref: str, body: dict[str, Any]) -> Any:
    response = patch(http, caller, kind, ref, body)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.parametrize("kind", list(KINDS))
def test_fields_sent_change_and_fields_left_out_stay(
    factory: Factory, client: TestClient, kind: str
) -> None:
    factory.tenant()
    admin = bearer_caller(client, factory, "acme")
    expires = (datetime.now(UTC) + timedelta(days=30)).replace(microsecond=0)
    made = create(client, admin, kind, description="old", expires_at=expires.isoformat())
    ref = made[KINDS[kind][1]]
    mark = audit_mark(factory)

    shown = edited(
        client, admin, kind, ref, {"name": "Billing export", "scopes": ["nql", "workflows"]}
    )

    assert (shown["name"], shown["scopes"]) == ("Billing export", ["nql", "workflows"])
    assert (shown["description"], shown["groups"]) == ("old", ["emea"])
    assert datetime.fromisoformat(shown["expires_at"]).replace(tzinfo=UTC) == expires
    events = audit_after(factory, mark)
    assert [e.action for e in events] == [f"{'client' if kind == 'client' else 'apikey'}.update"]
    assert events[0].details == {"name": "Billing export", "scopes": ["nql", "workflows"]}

    cleared = edited(client, admin, kind, ref, {"expires_at": None, "groups": []})
    assert (cleared["expires_at"], cleared["groups"]) == (None, [])

    mark = audit_mark(factory)
    assert edited(client, admin, kind, ref, {"name": "Billing export"})["name"] == "Billing export"
    assert audit_after(factory, mark) == []  # nothing changed: nothing audited


def test_a_client_s_new_permissions_are_in_its_next_token(
    factory: Factory, client: TestClient
) -> None:
    factory.tenant()
    admin = bearer_caller(client, factory, "acme")
    cred = factory.client(scopes=("nql",), name="reports")
    edited(
        client,
        admin,
        "client",
        cred.client_id,
        {"scopes": ["nql", "workflows"], "token_lifetime": 120},
    )

    def granted() -> Any:
        return request_token(client, cred).json()

    answer = poll(granted, lambda body: body.get("scope") == "nql workflows")
    assert (answer["scope"], answer["expires_in"]) == ("nql workflows", 120)


def test_a_key_s_rate_limit_is_set_and_removed(factory: Factory, client: TestClient) -> None:
    factory.tenant()
    admin = bearer_caller(client, factory, "acme")
    checker = verifier(factory)
    made = create(client, admin, "key")

    shown = edited(client, admin, "key", made["id"], {"rate_limit": {"limit": 5, "period": 60}})

    assert shown["rate_limit"] == {"limit": 5, "period": 60}
    answer = verify_until(
        client, checker, made["key"], lambda a: (a.get("rate_limit") or {}).get("limit") == 5
    )
    assert answer["rate_limit"]["limit"] == 5
    assert edited(client, admin, "key", made["id"], {"rate_limit": None})["rate_limit"] is None
    assert verify_until(client, checker, made["key"], lambda a: a["rate_limit"] is None)["valid"]


@pytest.mark.parametrize("kind", list(KINDS))
def test_an_editor_keeps_what_it_could_not_grant_but_cannot_add_it(
    factory: Factory, client: TestClient, kind: str
) -> None:
    factory.tenant()
    admin = bearer_caller(client, factory, "acme")
    manager = bearer_caller(client, factory, "acme", role="credentials_manager")
    made = create(client, admin, kind, scopes=["nql", "tenant:admin"])
    ref = made[KINDS[kind][1]]

    # A credentials manager could not grant tenant:admin; it may keep it, or take it away.
    kept = edited(client, manager, kind, ref, {"scopes": ["nql", "tenant:admin", "workflows"]})
    assert kept["scopes"] == ["nql", "tenant:admin", "workflows"]
    assert edited(client, manager, kind, ref, {"scopes": ["nql"]})["scopes"] == ["nql"]

    before = snapshot(factory, "acme")
    response = patch(client, manager, kind, ref, {"scopes": ["nql", "tenant:admin"]})
    assert_problem(response, 403)
    assert snapshot(factory, "acme") == before


BAD = {
    "unknown permission": ({"scopes": ["nql", "nope"]}, 422),
    "expiry in the past": ({"expires_at": "2001-01-01T00:00:00Z"}, 422),
    "empty name": ({"name": ""}, 422),
    "unknown field": ({"owner": "someone@acme.example"}, 422),
    "unknown group": ({"groups": ["mars"]}, 422),
    "not an IP range": ({"allowed_ips": ["10.0.0.0/33"]}, 422),
    "not an address at all": ({"allowed_ips": ["intranet"]}, 422),
}


@pytest.mark.parametrize("case", list(BAD))
@pytest.mark.parametrize("kind", list(KINDS))
def test_bad_input_is_refused_and_changes_nothing(
    factory: Factory, client: TestClient, kind: str, case: str
) -> None:
    factory.tenant()
    admin = bearer_caller(client, factory, "acme")
    ref = create(client, admin, kind)[KINDS[kind][1]]
    before = snapshot(factory, "acme")
    body, status = BAD[case]

    assert_problem(patch(client, admin, kind, ref, body), status)

    assert snapshot(factory, "acme") == before


@pytest.mark.parametrize("kind", list(KINDS))
def test_a_revoked_credential_cannot_be_edited(
    factory: Factory, client: TestClient, kind: str
) -> None:
    factory.tenant()
    admin = bearer_caller(client, factory, "acme")
    path, field = KINDS[kind]
    ref = create(client, admin, kind)[field]
    assert admin.request(client, "POST", api("acme", f"{path}/{ref}/revoke")).status_code == 200
    assert_problem(patch(client, admin, kind, ref, {"name": "again"}), 409)


def test_a_personal_key_holds_no_more_than_its_owner_s_role(
    factory: Factory, client: TestClient
) -> None:
    factory.tenant()
    admin = bearer_caller(client, factory, "acme")
    owner = create_user(factory, "manager@acme.example", "credentials_manager")
    key = create_key(factory, scopes=("nql",), owner=owner)
    response = patch(client, admin, "key", key.key_id, {"scopes": ["nql", "tenant:admin"]})
    assert_problem(response, 422)
    assert "cannot carry permission 'tenant:admin'" in response.json()["detail"]
    assert verify(client, verifier(factory), key.secret)["scopes"] == ["nql"]


@pytest.mark.parametrize("kind", list(KINDS))
def test_the_ip_allowlist_is_set_normalised_and_removed(
    factory: Factory, client: TestClient, kind: str
) -> None:
    factory.tenant()
    admin = bearer_caller(client, factory, "acme")
    made = create(client, admin, kind, allowed_ips=["203.0.113.7/24"])
    assert made["allowed_ips"] == ["203.0.113.0/24"]
    ref = made[KINDS[kind][1]]

    shown = edited(client, admin, kind, ref, {"allowed_ips": ["2001:db8::1/32", "198.51.100.9"]})
    assert shown["allowed_ips"] == ["2001:db8::/32", "198.51.100.9/32"]
    assert (
        edited(client, admin, kind, ref, {"name": "renamed"})["allowed_ips"] == shown["allowed_ips"]
    )
    assert edited(client, admin, kind, ref, {"allowed_ips": []})["allowed_ips"] == []
