"""A client ID can be deleted and chosen again: the new client inherits nothing of the old one.

Tokens carry the client's never-reused uid (``client_uid``) and idempotency records are bound to
it, so the old client's tokens stay dead at introspection, the management API and the verify
endpoint, and its stored answers (which hold new secrets) are not replayed to the newcomer.
"""

from __future__ import annotations

from typing import Any

import jwt
from starlette.testclient import TestClient

from tests.api.support import Caller, api
from tests.apikeys.support import VERIFY_SCOPE, call_verify, create_key
from tests.factories import Credential, Factory
from tests.http.support import (
    delete,
    gatepass_token,
    introspect,
    poll,
    request_token,
    revoke_path,
    status_is,
)
from tests.http.test_introspection import forge

REUSED = "partner-sync"
SCOPES = ("nql", "tenant:admin", VERIFY_SCOPE)


def reincarnate(factory: Factory, client: TestClient, old: Credential) -> Credential:
    """Delete ``old`` and create a client with its ID, once the server knows the new one."""
    delete(factory, old)
    new = factory.client(client_id=old.client_id, scopes=SCOPES, name="newcomer")
    assert poll(lambda: request_token(client, new), status_is(200)).status_code == 200
    return new


def bearer(token: str) -> Caller:
    return Caller("token", {"authorization": f"Bearer {token}"}, {})


def test_a_recreated_client_id_does_not_revive_old_tokens_at_introspection(
    factory: Factory, client: TestClient
) -> None:
    factory.tenant()
    resource_server = factory.client(name="resource server")
    old = factory.client(client_id=REUSED, scopes=SCOPES)
    token = gatepass_token(client, old)
    assert introspect(client, resource_server, token).json()["active"] is True

    new = reincarnate(factory, client, old)

    assert introspect(client, resource_server, token).json() == {"active": False}
    fresh = gatepass_token(client, new)
    assert introspect(client, resource_server, fresh).json()["active"] is True


def test_a_recreated_client_id_does_not_revive_old_tokens_at_the_management_api(
    factory: Factory, client: TestClient
) -> None:
    factory.tenant()
    old = factory.client(client_id=REUSED, scopes=SCOPES)
    token = gatepass_token(client, old)
    assert bearer(token).request(client, "GET", api("acme", "/clients")).status_code == 200

    new = reincarnate(factory, client, old)

    refused = bearer(token).request(client, "GET", api("acme", "/clients"))
    assert refused.status_code == 401, refused.text
    accepted = bearer(gatepass_token(client, new)).request(client, "GET", api("acme", "/clients"))
    assert accepted.status_code == 200, accepted.text


def test_a_recreated_client_id_does_not_revive_old_tokens_at_the_verify_endpoint(
    factory: Factory, client: TestClient
) -> None:
    factory.tenant()
    key = create_key(factory)
    old = factory.client(client_id=REUSED, scopes=SCOPES)
    token = gatepass_token(client, old)
    assert call_verify(client, f"Bearer {token}", key=key.secret).json()["valid"] is True

    new = reincarnate(factory, client, old)

    refused = call_verify(client, f"Bearer {token}", key=key.secret)
    assert refused.status_code == 401, refused.text
    assert refused.json()["error"] == "invalid_token"
    fresh = gatepass_token(client, new)
    assert call_verify(client, f"Bearer {fresh}", key=key.secret).json()["valid"] is True


def test_a_recreated_client_cannot_revoke_the_old_one_s_tokens(
    factory: Factory, client: TestClient
) -> None:
    factory.tenant()
    old = factory.client(client_id=REUSED, scopes=SCOPES)
    token = gatepass_token(client, old)

    new = reincarnate(factory, client, old)

    response = client.post(
        revoke_path(), data={"token": token}, headers={"authorization": new.basic}
    )
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "invalid_request"


def test_a_token_without_the_client_uid_is_inactive(factory: Factory, client: TestClient) -> None:
    factory.tenant()
    resource_server = factory.client(name="resource server")
    cred = factory.client(scopes=SCOPES)
    token = gatepass_token(client, cred)
    claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    assert len(claims["client_uid"]) == 32
    stripped = forge(factory, "acme", token, client_uid=None)
    other = forge(factory, "acme", token, client_uid="0" * 32)

    for forged in (stripped, other):
        assert introspect(client, resource_server, forged).json() == {"active": False}
        assert bearer(forged).request(client, "GET", api("acme", "/clients")).status_code == 401


def test_every_client_gets_its_own_uid(factory: Factory, client: TestClient) -> None:
    factory.tenant()
    uids = {
        jwt.decode(gatepass_token(client, factory.client()), options={"verify_signature": False})[
            "client_uid"
        ]
        for _ in range(5)
    }
    assert len(uids) == 5


def test_a_recreated_client_does_not_replay_the_old_one_s_idempotent_answers(
    factory: Factory, client: TestClient
) -> None:
    factory.tenant()
    old = factory.client(client_id=REUSED, scopes=SCOPES)
    body = {"name": "nightly export", "scopes": ["nql"]}
    headers = {"idempotency-key": "export-2026-12-03"}
    first = bearer(gatepass_token(client, old)).request(
        client, "POST", api("acme", "/clients"), json=body, headers=headers
    )
    assert first.status_code == 201, first.text

    new = reincarnate(factory, client, old)

    second = bearer(gatepass_token(client, new)).request(
        client, "POST", api("acme", "/clients"), json=body, headers=headers
    )
    assert second.status_code == 201, second.text
    assert "idempotent-replayed" not in second.headers
    assert second.json()["client_secret"] != first.json()["client_secret"]
    assert second.json()["client_id"] != first.json()["client_id"]
