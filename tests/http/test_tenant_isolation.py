"""Nothing crosses tenants: credentials, tokens and introspection stay inside their tenant."""

from __future__ import annotations

from starlette.testclient import TestClient

from gatepass.oauth.context import AUTH_FAILED
from tests.factories import Credential, Factory
from tests.http.support import introspect, issue_token, request_token


def test_client_cannot_get_tokens_at_another_tenant(factory: Factory, client: TestClient) -> None:
    factory.tenant("acme")
    factory.tenant("globex")
    cred = factory.client("acme")
    response = request_token(client, cred, tenant="globex")
    assert response.status_code == 401
    assert response.json() == {"error": "invalid_client", "error_description": AUTH_FAILED}
    assert 'realm="globex"' in response.headers["www-authenticate"]


def test_same_client_id_in_two_tenants_keeps_secrets_apart(
    factory: Factory, client: TestClient
) -> None:
    factory.tenant("acme")
    factory.tenant("globex")
    mine = factory.client("acme", client_id="shared-id")
    theirs = factory.client("globex", client_id="shared-id")
    crossed = Credential("globex", "shared-id", mine.secret)
    assert request_token(client, crossed).status_code == 401
    assert request_token(client, mine).status_code == 200
    assert request_token(client, theirs).status_code == 200


def test_token_names_its_own_tenant_as_issuer(factory: Factory, client: TestClient) -> None:
    factory.tenant("acme")
    factory.tenant("globex")
    token = issue_token(client, factory.client("globex"))
    response = introspect(client, factory.client("globex"), token)
    assert response.json()["iss"] == "http://testserver/realms/globex"


def test_client_cannot_introspect_another_tenants_token_as_active(
    factory: Factory, client: TestClient
) -> None:
    factory.tenant("acme")
    factory.tenant("globex")
    theirs = issue_token(client, factory.client("globex"))
    mine = factory.client("acme")
    assert introspect(client, mine, theirs).json() == {"active": False}
    response = introspect(client, mine, theirs, tenant="globex")
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_client_cannot_revoke_another_tenants_token(factory: Factory, client: TestClient) -> None:
    factory.tenant("acme")
    factory.tenant("globex")
    owner = factory.client("globex")
    token = issue_token(client, owner)
    outsider = factory.client("acme")
    response = client.post(
        "/realms/acme/protocol/openid-connect/revoke",
        data={"token": token},
        headers={"Authorization": outsider.basic},
    )
    assert response.status_code == 200  # RFC 7009: not a token of this tenant, so invalid
    assert introspect(client, owner, token).json()["active"] is True
