"""The token endpoint's successful answers: response shape, JWT, scopes, audience, lifetime."""

from __future__ import annotations

import httpx2
import jwt
import pytest
from starlette.testclient import TestClient

from gatepass.permissions import service as permissions
from gatepass.tenants.service import TenantSettings
from tests.factories import ACTOR, Factory
from tests.http.support import (
    FORM,
    drain_changes,
    issue_token,
    issuer,
    poll,
    request_token,
    request_token_by_post,
    status_is,
    tenant_session,
    token_path,
    update_tenant,
    verify_with_jwks,
)

KEYCLOAK_KEYS = {
    "access_token",
    "expires_in",
    "refresh_expires_in",
    "token_type",
    "not-before-policy",
    "scope",
}


def test_client_secret_basic_issues_a_keycloak_shaped_response(
    factory: Factory, client: TestClient
) -> None:
    factory.tenant()
    cred = factory.client(scopes=("nql", "workflows"))
    response = request_token(client, cred)
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == KEYCLOAK_KEYS
    assert body["expires_in"] == 600
    assert body["refresh_expires_in"] == 0
    assert body["token_type"] == "Bearer"
    assert body["not-before-policy"] == 0
    assert body["scope"] == "nql workflows"
    assert response.headers["content-type"].startswith("application/json")


def test_success_response_is_not_cacheable(factory: Factory, client: TestClient) -> None:
    factory.tenant()
    response = request_token(client, factory.client())
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["pragma"] == "no-cache"


def test_client_secret_post_issues_a_token(factory: Factory, client: TestClient) -> None:
    factory.tenant()
    cred = factory.client()
    response = request_token_by_post(client, cred)
    assert response.status_code == 200, response.text
    claims = verify_with_jwks(client, "acme", response.json()["access_token"])
    assert claims["client_id"] == cred.client_id


def test_seed_002_keycloak_curl_works_unchanged(factory: Factory, client: TestClient) -> None:
    """curl -d grant_type=client_credentials -d scope=profile -d client_id=… -d client_secret=…"""
    factory.tenant()
    cred = factory.client(scopes=("nql", "workflows"))
    body = (
        f"grant_type=client_credentials&scope=profile"
        f"&client_id={cred.client_id}&client_secret={cred.secret}"
    )
    response = client.post(
        token_path(),
        content=body.encode(),
        headers={"Content-Type": FORM},
    )
    assert response.status_code == 200, response.text
    assert response.json()["scope"] == "nql workflows"
    assert response.json()["token_type"] == "Bearer"


def test_access_token_is_an_rfc_9068_jwt(factory: Factory, client: TestClient) -> None:
    factory.tenant()
    cred = factory.client(scopes=("nql",), groups_=("emea",))
    response = request_token(client, cred)
    assert response.status_code == 200, response.text
    token = response.json()["access_token"]
    header = jwt.get_unverified_header(token)
    assert header["typ"] == "at+jwt"
    assert header["alg"] == "ES256"
    assert header["kid"]
    claims = verify_with_jwks(client, "acme", token)
    assert claims["iss"] == issuer("acme")
    assert claims["sub"] == cred.client_id
    assert claims["client_id"] == cred.client_id
    assert claims["aud"] == "api://acme"
    assert claims["scope"] == "nql"
    assert claims["groups"] == ["emea"]
    assert claims["exp"] - claims["iat"] == 600
    assert isinstance(claims["jti"], str)
    assert claims["jti"]


def test_every_token_has_a_fresh_jti(factory: Factory, client: TestClient) -> None:
    factory.tenant()
    cred = factory.client()
    tokens = [issue_token(client, cred) for _ in range(3)]
    jtis = {jwt.decode(t, options={"verify_signature": False})["jti"] for t in tokens}
    assert len(jtis) == 3


def test_client_without_groups_gets_an_empty_groups_claim(
    factory: Factory, client: TestClient
) -> None:
    factory.tenant()
    claims = verify_with_jwks(client, "acme", issue_token(client, factory.client()))
    assert claims["groups"] == []


# -- lifetime -------------------------------------------------------------------------------


def test_client_token_lifetime_overrides_the_default(factory: Factory, client: TestClient) -> None:
    factory.tenant()
    response = request_token(client, factory.client(token_lifetime=120))
    assert response.status_code == 200, response.text
    assert response.json()["expires_in"] == 120
    claims = verify_with_jwks(client, "acme", response.json()["access_token"])
    assert claims["exp"] - claims["iat"] == 120


def test_tenant_token_lifetime_applies_to_its_clients(factory: Factory, client: TestClient) -> None:
    factory.tenant()
    cred = factory.client()
    assert request_token(client, cred).json()["expires_in"] == 600
    update_tenant(factory, "acme", TenantSettings(token_lifetime=300))
    response = poll(lambda: request_token(client, cred), lambda r: r.json()["expires_in"] == 300)
    assert response.json()["expires_in"] == 300
    claims = verify_with_jwks(client, "acme", response.json()["access_token"])
    assert claims["exp"] - claims["iat"] == 300


# -- scope ----------------------------------------------------------------------------------


def test_no_scope_grants_all_the_clients_permissions(factory: Factory, client: TestClient) -> None:
    factory.tenant()
    response = request_token(client, factory.client(scopes=("nql", "campaigns")))
    assert response.json()["scope"] == "campaigns nql"


def test_a_subset_of_the_clients_permissions_is_granted_as_asked(
    factory: Factory, client: TestClient
) -> None:
    factory.tenant()
    cred = factory.client(scopes=("nql", "workflows", "campaigns"))
    response = request_token(client, cred, scope="workflows nql")
    assert response.status_code == 200, response.text
    assert set(response.json()["scope"].split()) == {"workflows", "nql"}
    claims = verify_with_jwks(client, "acme", response.json()["access_token"])
    assert claims["scope"] == response.json()["scope"]


@pytest.mark.parametrize("scope", ["profile", "openid profile email"])
def test_openid_scopes_are_accepted_and_ignored(
    factory: Factory, client: TestClient, scope: str
) -> None:
    factory.tenant()
    response = request_token(client, factory.client(scopes=("nql",)), scope=scope)
    assert response.status_code == 200, response.text
    assert response.json()["scope"] == "nql"


def test_openid_scope_next_to_a_permission_grants_only_the_permission(
    factory: Factory, client: TestClient
) -> None:
    factory.tenant()
    cred = factory.client(scopes=("nql", "workflows"))
    response = request_token(client, cred, scope="openid workflows")
    assert response.status_code == 200, response.text
    assert response.json()["scope"] == "workflows"


@pytest.mark.parametrize(
    "scope",
    [
        pytest.param("campaigns", id="catalog-but-not-granted"),
        pytest.param("nql campaigns", id="one-of-two-not-granted"),
        pytest.param("billing", id="unknown"),
        pytest.param("reports", id="unavailable"),
    ],
)
def test_scope_outside_the_clients_permissions_is_invalid_scope(
    factory: Factory, client: TestClient, scope: str
) -> None:
    factory.tenant(unavailable=("reports",))
    response = request_token(client, factory.client(scopes=("nql",)), scope=scope)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_scope"


def test_a_permission_that_becomes_unavailable_is_no_longer_granted(
    factory: Factory, client: TestClient
) -> None:
    factory.tenant()
    cred = factory.client(scopes=("nql", "workflows"))
    assert request_token(client, cred).json()["scope"] == "nql workflows"
    with tenant_session(factory, "acme") as (session, tenant):
        permissions.set_availability(
            session, tenant, "workflows", available=False, reason="preview", actor=ACTOR
        )
    response = poll(lambda: request_token(client, cred), lambda r: r.json()["scope"] == "nql")
    assert response.json()["scope"] == "nql"
    refused = request_token(client, cred, scope="workflows")
    assert refused.status_code == 400
    assert refused.json()["error"] == "invalid_scope"


def test_a_permission_added_to_a_cached_tenant_can_be_granted(
    factory: Factory, client: TestClient
) -> None:
    factory.tenant()
    drain_changes(factory, client, "acme")
    assert request_token(client, factory.client(scopes=("nql",))).status_code == 200
    with tenant_session(factory, "acme") as (session, tenant):
        permissions.create_permission(
            session,
            tenant,
            name="reports",
            label="Reports",
            description="",
            available=True,
            actor=ACTOR,
        )
    cred = factory.client(scopes=("reports",))
    response = poll(lambda: request_token(client, cred, scope="reports"), status_is(200))
    assert response.status_code == 200, response.text
    assert response.json()["scope"] == "reports"


# -- audience (RFC 8707) --------------------------------------------------------------------

AUDIENCES = ("api://acme", "https://api.example.com", "https://reports.example.com")


def test_audience_is_the_tenant_default_without_resource(
    factory: Factory, client: TestClient
) -> None:
    factory.tenant()
    claims = verify_with_jwks(client, "acme", issue_token(client, factory.client()))
    assert claims["aud"] == "api://acme"


def test_resource_picks_an_allowed_audience(factory: Factory, client: TestClient) -> None:
    factory.tenant()
    update_tenant(factory, "acme", TenantSettings(allowed_audiences=AUDIENCES))
    cred = factory.client()
    response = poll(
        lambda: request_token(client, cred, resource="https://reports.example.com"),
        status_is(200),
    )
    assert response.status_code == 200, response.text
    token = response.json()["access_token"]
    claims = verify_with_jwks(client, "acme", token, audience="https://reports.example.com")
    assert claims["aud"] == "https://reports.example.com"


def test_two_resources_give_both_audiences(factory: Factory, client: TestClient) -> None:
    factory.tenant()
    update_tenant(factory, "acme", TenantSettings(allowed_audiences=AUDIENCES))
    cred = factory.client()
    body = (
        "grant_type=client_credentials"
        "&resource=https%3A%2F%2Fapi.example.com&resource=https%3A%2F%2Freports.example.com"
    )

    def ask() -> httpx2.Response:
        return client.post(
            token_path(),
            content=body.encode(),
            headers={"Authorization": cred.basic, "Content-Type": FORM},
        )

    response = poll(ask, status_is(200))
    assert response.status_code == 200, response.text
    claims = jwt.decode(response.json()["access_token"], options={"verify_signature": False})
    assert claims["aud"] == ["https://api.example.com", "https://reports.example.com"]


@pytest.mark.parametrize(
    "resource",
    [
        pytest.param("https://unknown.example.com", id="unknown"),
        pytest.param("reports", id="not-absolute"),
        pytest.param("https://api.example.com#x", id="fragment"),
    ],
)
def test_unknown_resource_is_invalid_target(
    factory: Factory, client: TestClient, resource: str
) -> None:
    factory.tenant()
    update_tenant(factory, "acme", TenantSettings(allowed_audiences=AUDIENCES))
    response = request_token(client, factory.client(), resource=resource)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_target"
