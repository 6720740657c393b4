"""Token revocation (RFC 7009)."""

from __future__ import annotations

from starlette.testclient import TestClient

from tests.factories import Factory
from tests.http.support import FORM, introspect, issue_token, revoke_path


def test_revoking_own_token_answers_200_with_an_empty_body(
    factory: Factory, client: TestClient
) -> None:
    factory.tenant()
    cred = factory.client()
    token = issue_token(client, cred)
    response = client.post(
        revoke_path(), data={"token": token}, headers={"Authorization": cred.basic}
    )
    assert response.status_code == 200
    assert response.content == b""
    assert response.headers["cache-control"] == "no-store"


def test_a_revoked_token_introspects_inactive_at_once(factory: Factory, client: TestClient) -> None:
    factory.tenant()
    cred = factory.client()
    caller = factory.client(name="resource server")
    token = issue_token(client, cred)
    assert introspect(client, caller, token).json()["active"] is True
    response = client.post(
        revoke_path(),
        data={"token": token, "token_type_hint": "access_token"},
        headers={"Authorization": cred.basic},
    )
    assert response.status_code == 200
    assert introspect(client, caller, token).json() == {"active": False}


def test_revoking_one_token_leaves_the_clients_other_tokens_active(
    factory: Factory, client: TestClient
) -> None:
    factory.tenant()
    cred = factory.client()
    first, second = issue_token(client, cred), issue_token(client, cred)
    client.post(revoke_path(), data={"token": first}, headers={"Authorization": cred.basic})
    assert introspect(client, cred, first).json() == {"active": False}
    assert introspect(client, cred, second).json()["active"] is True


def test_revoking_twice_is_fine(factory: Factory, client: TestClient) -> None:
    factory.tenant()
    cred = factory.client()
    token = issue_token(client, cred)
    for _ in range(2):
        response = client.post(
            revoke_path(), data={"token": token}, headers={"Authorization": cred.basic}
        )
        assert response.status_code == 200


def test_revoking_an_invalid_token_answers_200(factory: Factory, client: TestClient) -> None:
    factory.tenant()
    cred = factory.client()
    for token in ("garbage", "a.b.c"):
        response = client.post(
            revoke_path(), data={"token": token}, headers={"Authorization": cred.basic}
        )
        assert response.status_code == 200
        assert response.content == b""


def test_revoking_another_clients_token_is_invalid_request(
    factory: Factory, client: TestClient
) -> None:
    factory.tenant()
    owner, other = factory.client(), factory.client()
    token = issue_token(client, owner)
    response = client.post(
        revoke_path(), data={"token": token}, headers={"Authorization": other.basic}
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
    assert introspect(client, owner, token).json()["active"] is True


def test_revocation_requires_client_authentication(factory: Factory, client: TestClient) -> None:
    factory.tenant()
    cred = factory.client()
    token = issue_token(client, cred)
    response = client.post(revoke_path(), data={"token": token})
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert introspect(client, cred, token).json()["active"] is True


def test_revocation_without_token_is_invalid_request(factory: Factory, client: TestClient) -> None:
    factory.tenant()
    cred = factory.client()
    response = client.post(
        revoke_path(),
        content=b"token_type_hint=access_token",
        headers={"Authorization": cred.basic, "Content-Type": FORM},
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
