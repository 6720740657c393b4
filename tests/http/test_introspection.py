"""Token introspection (RFC 7662)."""

from __future__ import annotations

import time
from typing import Any

import jwt
from starlette.testclient import TestClient

from gatepass.cache.entries import load_tenant
from tests.factories import Factory
from tests.http.support import (
    FORM,
    introspect,
    introspect_path,
    issue_token,
    issuer,
)


def test_active_token_introspects_with_its_claims(factory: Factory, client: TestClient) -> None:
    factory.tenant()
    cred = factory.client(scopes=("nql", "workflows"), groups_=("emea",))
    caller = factory.client(scopes=(), name="resource server")
    token = issue_token(client, cred)
    response = introspect(client, caller, token)
    assert response.status_code == 200, response.text
    body = response.json()
    claims = jwt.decode(token, options={"verify_signature": False})
    assert body["active"] is True
    assert body["token_type"] == "Bearer"
    for name in ("iss", "sub", "aud", "exp", "iat", "jti", "client_id", "scope", "groups"):
        assert body[name] == claims[name], name
    assert body["client_id"] == cred.client_id
    assert body["scope"] == "nql workflows"
    assert body["groups"] == ["emea"]
    assert body["iss"] == issuer("acme")


def test_a_client_may_introspect_its_own_token(factory: Factory, client: TestClient) -> None:
    factory.tenant()
    cred = factory.client()
    assert introspect(client, cred, issue_token(client, cred)).json()["active"] is True


def test_introspection_accepts_client_secret_post(factory: Factory, client: TestClient) -> None:
    factory.tenant()
    cred = factory.client()
    token = issue_token(client, cred)
    response = client.post(
        introspect_path(),
        data={"token": token, "client_id": cred.client_id, "client_secret": cred.secret},
    )
    assert response.status_code == 200, response.text
    assert response.json()["active"] is True


def test_garbage_token_is_inactive(factory: Factory, client: TestClient) -> None:
    factory.tenant()
    caller = factory.client()
    for garbage in ("garbage", "a.b.c", "eyJhbGciOiJub25lIn0.e30.", "x" * 4000):
        response = introspect(client, caller, garbage)
        assert response.status_code == 200
        assert response.json() == {"active": False}


def forge(factory: Factory, slug: str, template: str, **changes: Any) -> str:
    """Re-sign a real token's claims with the tenant's own current key, with some changes."""
    with factory.db.read() as session:
        tenant = load_tenant(
            session, slug, public_url=factory.settings.public_url, cipher=factory.cipher
        )
    assert tenant is not None
    claims = {**jwt.decode(template, options={"verify_signature": False}), **changes}
    return tenant.signer.sign(claims)


def test_expired_token_is_inactive(factory: Factory, client: TestClient) -> None:
    factory.tenant()
    cred = factory.client()
    caller = factory.client(name="resource server")
    template = issue_token(client, cred)
    now = int(time.time())
    still_valid = forge(factory, "acme", template, jti="forged-1", iat=now - 700, exp=now + 60)
    assert introspect(client, caller, still_valid).json()["active"] is True
    expired = forge(factory, "acme", template, jti="forged-2", iat=now - 700, exp=now - 100)
    response = introspect(client, caller, expired)
    assert response.status_code == 200
    assert response.json() == {"active": False}


def test_token_with_a_tampered_signature_is_inactive(factory: Factory, client: TestClient) -> None:
    factory.tenant()
    cred = factory.client()
    token = issue_token(client, cred)
    head, payload, signature = token.split(".")
    flipped = ("A" if signature[10] != "A" else "B").join((signature[:10], signature[11:]))
    assert introspect(client, cred, f"{head}.{payload}.{flipped}").json() == {"active": False}


def test_another_tenants_token_is_inactive(factory: Factory, client: TestClient) -> None:
    factory.tenant("acme")
    factory.tenant("globex")
    theirs = factory.client("globex")
    token = issue_token(client, theirs)
    assert introspect(client, theirs, token).json()["active"] is True
    mine = factory.client("acme")
    response = introspect(client, mine, token)
    assert response.status_code == 200
    assert response.json() == {"active": False}


def test_caller_from_another_tenant_is_invalid_client(factory: Factory, client: TestClient) -> None:
    factory.tenant("acme")
    factory.tenant("globex")
    token = issue_token(client, factory.client("acme"))
    outsider = factory.client("globex")
    response = introspect(client, outsider, token, tenant="acme")
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert "active" not in response.json()


def test_unauthenticated_introspection_is_invalid_client(
    factory: Factory, client: TestClient
) -> None:
    factory.tenant()
    token = issue_token(client, factory.client())
    response = client.post(introspect_path(), data={"token": token})
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert "www-authenticate" in response.headers


def test_missing_token_is_invalid_request(factory: Factory, client: TestClient) -> None:
    factory.tenant()
    caller = factory.client()
    response = client.post(
        introspect_path(),
        content=b"token_type_hint=access_token",
        headers={"Authorization": caller.basic, "Content-Type": FORM},
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


def test_introspection_response_is_not_cacheable(factory: Factory, client: TestClient) -> None:
    factory.tenant()
    cred = factory.client()
    response = introspect(client, cred, issue_token(client, cred))
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["content-type"].startswith("application/json")


def test_token_of_an_unknown_client_id_is_inactive(factory: Factory, client: TestClient) -> None:
    factory.tenant()
    cred = factory.client()
    forged = forge(factory, "acme", issue_token(client, cred), client_id="ghost", sub="ghost")
    assert introspect(client, cred, forged).json() == {"active": False}
