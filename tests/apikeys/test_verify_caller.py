"""Who may call the verify endpoint: a client of the tenant holding ``api_keys:verify``, with
HTTP Basic client credentials or a Bearer access token of the tenant."""

from __future__ import annotations

import httpx2
from starlette.testclient import TestClient

from tests.apikeys.support import VERIFY_SCOPE, call_verify, create_key, verifier
from tests.factories import Factory
from tests.http.support import (
    assert_oauth_error,
    basic,
    gatepass_token,
    poll,
    revoke_path,
    status_is,
)


def bearer(token: str) -> str:
    return f"Bearer {token}"


def assert_bearer_challenge(response: httpx2.Response, error: str) -> None:
    challenge = response.headers["www-authenticate"]
    assert challenge.startswith('Bearer realm="acme"'), challenge
    assert f'error="{error}"' in challenge


def assert_insufficient_scope(response: httpx2.Response) -> None:
    assert_oauth_error(response, 403, "insufficient_scope")
    assert_bearer_challenge(response, "insufficient_scope")
    assert f'scope="{VERIFY_SCOPE}"' in response.headers["www-authenticate"]


def test_verifier_is_accepted_with_basic_or_bearer(factory: Factory, client: TestClient) -> None:
    factory.tenant()
    key = create_key(factory)
    caller = verifier(factory)
    token = gatepass_token(client, caller)

    for authorization in (caller.basic, bearer(token), f"bearer   {token}"):
        response = call_verify(client, authorization, key=key.secret)
        assert response.status_code == 200, response.text
        assert response.json()["code"] == "VALID"


def test_no_credentials_is_401_with_a_bearer_challenge(
    factory: Factory, client: TestClient
) -> None:
    factory.tenant()
    key = create_key(factory)

    response = call_verify(client, None, key=key.secret)

    assert_oauth_error(response, 401, "invalid_token")
    assert response.headers["www-authenticate"].startswith('Bearer realm="acme"')
    assert key.secret not in response.text


def test_wrong_client_credentials_are_401(factory: Factory, client: TestClient) -> None:
    factory.tenant("acme")
    factory.tenant("globex")
    key = create_key(factory)
    caller, other = verifier(factory), factory.client(name="other")
    foreign = verifier(factory, "globex")  # right secret, but a client of another tenant

    for authorization in (
        basic(caller.client_id, other.secret),
        basic(caller.client_id, "not-a-secret"),
        basic("nobody", caller.secret),
        foreign.basic,
    ):
        response = call_verify(client, authorization, key=key.secret)
        assert_oauth_error(response, 401, "invalid_client")
        assert "www-authenticate" in response.headers
        assert key.secret not in response.text


def test_invalid_or_revoked_bearer_token_is_401(factory: Factory, client: TestClient) -> None:
    factory.tenant("acme")
    factory.tenant("globex")
    key = create_key(factory)
    caller = verifier(factory)
    token = gatepass_token(client, caller)
    head, payload, signature = token.split(".")
    tampered = f"{head}.{payload}.{signature[:-4]}AAAA"
    foreign = gatepass_token(client, verifier(factory, "globex"))

    for invalid in ("not-a-token", tampered, foreign, ""):
        response = call_verify(client, bearer(invalid), key=key.secret)
        assert_oauth_error(response, 401, "invalid_token")
        assert_bearer_challenge(response, "invalid_token")

    assert call_verify(client, bearer(token), key=key.secret).status_code == 200
    revoked = client.post(
        revoke_path(), data={"token": token}, headers={"Authorization": caller.basic}
    )
    assert revoked.status_code == 200, revoked.text
    response = poll(lambda: call_verify(client, bearer(token), key=key.secret), status_is(401))
    assert_oauth_error(response, 401, "invalid_token")
    assert_bearer_challenge(response, "invalid_token")


def test_client_without_the_verify_permission_is_403(factory: Factory, client: TestClient) -> None:
    factory.tenant()
    key = create_key(factory)
    caller = factory.client(scopes=("nql", "workflows"))

    assert_insufficient_scope(call_verify(client, caller.basic, key=key.secret))
    token = gatepass_token(client, caller)
    assert_insufficient_scope(call_verify(client, bearer(token), key=key.secret))


def test_token_narrowed_to_exclude_the_verify_permission_is_403(
    factory: Factory, client: TestClient
) -> None:
    factory.tenant()
    key = create_key(factory)
    caller = verifier(factory, scopes=("nql",))

    narrowed = gatepass_token(client, caller, scope="nql")
    assert_insufficient_scope(call_verify(client, bearer(narrowed), key=key.secret))

    # The same client, with a token that does carry the permission, is let in.
    full = gatepass_token(client, caller, scope=f"nql {VERIFY_SCOPE}")
    assert call_verify(client, bearer(full), key=key.secret).status_code == 200
