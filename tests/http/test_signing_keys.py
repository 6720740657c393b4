"""Signing algorithms and key rotation: tokens verify with the published JWKS throughout."""

from __future__ import annotations

import jwt
import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from gatepass.signing_keys import service as signing_keys
from gatepass.signing_keys.models import SigningKey
from gatepass.tenants.service import TenantSettings
from tests.factories import ACTOR, Factory
from tests.http.support import (
    certs_path,
    introspect,
    issue_token,
    poll,
    tenant_session,
    update_tenant,
    verify_with_jwks,
)


def kids(client: TestClient, tenant: str = "acme") -> list[str]:
    return [key["kid"] for key in client.get(certs_path(tenant)).json()["keys"]]


def rotate_key(factory: Factory, slug: str = "acme") -> str:
    with tenant_session(factory, slug) as (session, tenant):
        return signing_keys.rotate(session, tenant, factory.cipher, actor=ACTOR).kid


@pytest.mark.parametrize(("alg", "kty"), [("ES256", "EC"), ("RS256", "RSA"), ("EdDSA", "OKP")])
def test_tokens_verify_with_the_jwks_and_no_private_key_is_published(
    factory: Factory, client: TestClient, alg: str, kty: str
) -> None:
    factory.tenant(signing_alg=alg)
    cred = factory.client()
    token = issue_token(client, cred)
    assert jwt.get_unverified_header(token)["alg"] == alg
    jwks = client.get(certs_path()).json()["keys"]
    assert len(jwks) == 2, "the current key and the next one"
    for jwk in jwks:
        assert (jwk["kty"], jwk["alg"], jwk["use"]) == (kty, alg, "sig")
        assert not {"d", "p", "q", "dp", "dq", "qi"} & set(jwk), "private key material published"
        # RFC 7517: only public parameters, each a string (key_ops would have to be an array)
        assert set(jwk) <= {"kty", "crv", "x", "y", "n", "e", "kid", "alg", "use"}, jwk
        assert all(isinstance(value, str) for value in jwk.values()), jwk
    claims = verify_with_jwks(client, "acme", token)
    assert claims["client_id"] == cred.client_id


def test_a_key_stored_with_key_ops_as_a_string_is_published_without_it(
    factory: Factory, client: TestClient
) -> None:
    """RSA keys made by earlier versions stored PyJWT's ``key_ops`` list as a string."""
    factory.tenant(signing_alg="RS256")
    with factory.db.transaction() as session:
        for key in session.scalars(select(SigningKey)):
            key.public_jwk = {**key.public_jwk, "key_ops": "['verify']"}
    jwks = client.get(certs_path()).json()["keys"]
    assert jwks
    assert all("key_ops" not in jwk for jwk in jwks), jwks
    token = issue_token(client, factory.client())
    assert verify_with_jwks(client, "acme", token)["iss"].endswith("/realms/acme")


def test_rotation_promotes_the_key_published_ahead(factory: Factory, client: TestClient) -> None:
    factory.tenant()
    cred = factory.client()
    before = kids(client)
    signing_kid = jwt.get_unverified_header(issue_token(client, cred))["kid"]
    new_kid = rotate_key(factory)
    assert new_kid in before, "the new signing key was in the JWKS before the rotation"
    assert new_kid != signing_kid
    published = poll(lambda: kids(client), lambda found: len(found) == 3)
    assert set(before) | {new_kid} < set(published), "old keys stay, a new next key appears"


def test_token_issued_before_rotation_still_verifies_and_introspects(
    factory: Factory, client: TestClient
) -> None:
    factory.tenant()
    cred = factory.client()
    before = issue_token(client, cred)
    rotate_key(factory)
    poll(lambda: kids(client), lambda found: len(found) == 3)
    assert verify_with_jwks(client, "acme", before)["client_id"] == cred.client_id
    response = introspect(client, cred, before)
    assert response.json()["active"] is True


def test_tokens_after_rotation_carry_the_new_kid(factory: Factory, client: TestClient) -> None:
    factory.tenant()
    cred = factory.client()
    old_kid = jwt.get_unverified_header(issue_token(client, cred))["kid"]
    new_kid = rotate_key(factory)
    assert new_kid != old_kid
    after = poll(
        lambda: issue_token(client, cred),
        lambda token: jwt.get_unverified_header(token)["kid"] == new_kid,
    )
    assert jwt.get_unverified_header(after)["kid"] == new_kid
    assert verify_with_jwks(client, "acme", after)["client_id"] == cred.client_id
    assert introspect(client, cred, after).json()["active"] is True


def test_changing_the_algorithm_keeps_old_tokens_valid(
    factory: Factory, client: TestClient
) -> None:
    factory.tenant()
    cred = factory.client()
    before = issue_token(client, cred)
    update_tenant(factory, "acme", TenantSettings(signing_alg="EdDSA"))
    after = poll(
        lambda: issue_token(client, cred),
        lambda token: jwt.get_unverified_header(token)["alg"] == "EdDSA",
    )
    assert jwt.get_unverified_header(after)["alg"] == "EdDSA"
    assert jwt.get_unverified_header(before)["alg"] == "ES256"
    for token in (before, after):
        assert verify_with_jwks(client, "acme", token)["client_id"] == cred.client_id
        assert introspect(client, cred, token).json()["active"] is True
    algs = sorted(key["alg"] for key in client.get(certs_path()).json()["keys"])
    assert algs == ["ES256", "EdDSA", "EdDSA"], "the old key, the new current and next keys"
