"""Discovery metadata (RFC 8414, OpenID Connect discovery) and the JWKS document."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from tests.factories import Factory
from tests.http.support import certs_path, issuer, poll, status_is

OIDC = "/realms/{}/.well-known/openid-configuration"
RFC8414 = "/.well-known/oauth-authorization-server/realms/{}"


@pytest.mark.parametrize("template", [OIDC, RFC8414], ids=["openid", "rfc8414"])
def test_discovery_document_names_every_endpoint(
    factory: Factory, client: TestClient, template: str
) -> None:
    factory.tenant()
    response = client.get(template.format("acme"))
    assert response.status_code == 200, response.text
    document = response.json()
    base = f"{issuer('acme')}/protocol/openid-connect"
    assert document["issuer"] == issuer("acme")
    assert document["token_endpoint"] == f"{base}/token"
    assert document["jwks_uri"] == f"{base}/certs"
    assert document["introspection_endpoint"] == f"{base}/token/introspect"
    assert document["revocation_endpoint"] == f"{base}/revoke"
    assert document["grant_types_supported"] == [
        "client_credentials",
        "urn:ietf:params:oauth:grant-type:jwt-bearer",
    ]
    methods = {"client_secret_basic", "client_secret_post", "private_key_jwt"}
    assert set(document["token_endpoint_auth_methods_supported"]) == methods
    assert set(document["introspection_endpoint_auth_methods_supported"]) == methods
    assert set(document["revocation_endpoint_auth_methods_supported"]) == methods


def test_both_discovery_documents_agree(factory: Factory, client: TestClient) -> None:
    factory.tenant()
    assert client.get(OIDC.format("acme")).json() == client.get(RFC8414.format("acme")).json()


def test_discovery_lists_available_scopes_only(factory: Factory, client: TestClient) -> None:
    factory.tenant(unavailable=("reports",))
    scopes = client.get(OIDC.format("acme")).json()["scopes_supported"]
    assert {"nql", "workflows", "campaigns"} <= set(scopes)
    assert "reports" not in scopes


def test_each_tenant_is_its_own_issuer(factory: Factory, client: TestClient) -> None:
    factory.tenant("acme")
    factory.tenant("globex")
    assert client.get(OIDC.format("globex")).json()["issuer"] == issuer("globex")
    assert client.get(RFC8414.format("acme")).json()["issuer"] == issuer("acme")


def test_jwks_uri_serves_the_signing_keys(factory: Factory, client: TestClient) -> None:
    factory.tenant()
    jwks_uri = client.get(OIDC.format("acme")).json()["jwks_uri"]
    response = client.get(jwks_uri)
    assert response.status_code == 200
    keys = response.json()["keys"]
    assert len(keys) == 2, "the current key and the next one"
    for key in keys:
        assert (key["kty"], key["alg"], key["use"]) == ("EC", "ES256", "sig")
        assert key["kid"]
        assert "d" not in key


@pytest.mark.parametrize(
    "path",
    [OIDC.format("nowhere"), RFC8414.format("nowhere"), certs_path("nowhere")],
    ids=["openid", "rfc8414", "certs"],
)
def test_unknown_tenant_is_404(factory: Factory, client: TestClient, path: str) -> None:
    factory.tenant()
    response = client.get(path)
    assert response.status_code == 404
    assert "error" in response.json()


def test_a_tenant_created_after_a_404_becomes_reachable(
    factory: Factory, client: TestClient
) -> None:
    assert client.get(OIDC.format("latecomer")).status_code == 404
    factory.tenant("latecomer")
    response = poll(lambda: client.get(OIDC.format("latecomer")), status_is(200))
    assert response.status_code == 200
    assert response.json()["issuer"] == issuer("latecomer")
