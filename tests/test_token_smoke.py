"""A first pass over the token endpoint through the real app."""

from __future__ import annotations

import jwt
from starlette.testclient import TestClient

from tests.factories import Factory

TOKEN = "/realms/acme/protocol/openid-connect/token"


def test_basic_auth_issues_a_jwt(factory: Factory, client: TestClient) -> None:
    factory.tenant()
    cred = factory.client(groups_=("emea",))
    response = client.post(
        TOKEN, data={"grant_type": "client_credentials"}, headers={"Authorization": cred.basic}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert response.headers["cache-control"] == "no-store"
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 600
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert claims["groups"] == ["emea"]
    assert claims["iss"] == "http://testserver/realms/acme"
