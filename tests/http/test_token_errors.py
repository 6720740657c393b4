"""Token endpoint errors: one test per reachable RFC 6749 §5.2 / RFC 8707 error code."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from gatepass import credential_secrets as cs
from tests.factories import Credential, Factory
from tests.http.support import assert_oauth_error, post, request_token


@pytest.fixture
def cred(factory: Factory) -> Credential:
    factory.tenant()
    return factory.client(scopes=("nql",))


def test_missing_grant_type_is_invalid_request(cred: Credential, client: TestClient) -> None:
    response = post(client, b"scope=nql", authorization=cred.basic)
    assert_oauth_error(response, 400, "invalid_request")


def test_wrong_secret_is_invalid_client_with_a_basic_challenge(
    cred: Credential, client: TestClient
) -> None:
    wrong = Credential("acme", cred.client_id, cs.generate(cs.SecretKind.CLIENT_SECRET).reveal())
    response = request_token(client, wrong)
    assert_oauth_error(response, 401, "invalid_client")
    assert response.headers["www-authenticate"].startswith('Basic realm="acme"')


def test_invalid_client_by_post_also_carries_a_challenge(
    cred: Credential, client: TestClient
) -> None:
    body = f"grant_type=client_credentials&client_id={cred.client_id}&client_secret=nope"
    response = post(client, body.encode())
    assert_oauth_error(response, 401, "invalid_client")
    assert response.headers["www-authenticate"].startswith("Basic ")


def test_other_grant_type_is_unsupported_grant_type(cred: Credential, client: TestClient) -> None:
    for grant_type in ("password", "authorization_code", "refresh_token", "CLIENT_CREDENTIALS"):
        response = request_token(client, cred, grant_type=grant_type)
        assert_oauth_error(response, 400, "unsupported_grant_type")


def test_scope_not_granted_is_invalid_scope(cred: Credential, client: TestClient) -> None:
    response = request_token(client, cred, scope="workflows")
    assert_oauth_error(response, 400, "invalid_scope")


def test_unknown_resource_is_invalid_target(cred: Credential, client: TestClient) -> None:
    response = request_token(client, cred, resource="https://elsewhere.example.com")
    assert_oauth_error(response, 400, "invalid_target")


def test_unknown_tenant_is_404(cred: Credential, client: TestClient) -> None:
    response = request_token(client, cred, tenant="nowhere")
    assert response.status_code == 404
    assert response.headers["cache-control"] == "no-store"
    assert "error" in response.json()
