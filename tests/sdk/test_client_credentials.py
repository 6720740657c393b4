"""``ClientCredentialsAuth`` against a real Gatepass: one token for many calls, a new one when it
is about to expire, and one more try with a new token after a 401.

The "API" called is Gatepass's own verify endpoint, which takes a Bearer token asked for its
issuer (RFC 8707 ``resource``) and, unlike an offline JWT check, refuses a revoked one (RFC 7009)
at once.
"""

from __future__ import annotations

import time
from urllib.parse import quote_plus

import httpx
import pytest

from gatepass_sdk import ClientCredentialsAuth
from tests.factories import Credential
from tests.sdk.realm import VERIFY, Realm, altered

pytestmark = pytest.mark.e2e


class Clock:
    def __init__(self) -> None:
        self.now = time.monotonic()

    def __call__(self) -> float:
        return self.now


class Calls:
    """What one ``httpx`` client sent: token requests and API calls, with their tokens."""

    def __init__(self, token_url: str) -> None:
        self.token_url = token_url
        self.tokens: list[str] = []
        self.api_tokens: list[str] = []

    def __call__(self, request: httpx.Request) -> None:
        if str(request.url) == self.token_url:
            self.tokens.append(request.headers["authorization"])
        else:
            self.api_tokens.append(request.headers["authorization"])

    async def async_hook(self, request: httpx.Request) -> None:
        self(request)


def auth_for(realm: Realm, client: Credential, **options: object) -> ClientCredentialsAuth:
    token_url = realm.server.token_url(realm.slug)
    return ClientCredentialsAuth(
        token_url,
        client.client_id,
        client.secret,
        resource=realm.issuer,
        **options,  # type: ignore[arg-type]
    )


def call_api(http: httpx.Client, realm: Realm) -> httpx.Response:
    url = f"{realm.issuer}/api-keys/verify"
    return http.post(url, json={"key": "gpk_not_a_key"})


def revoke(realm: Realm, client: Credential, bearer: str) -> None:
    response = httpx.post(
        realm.server.oidc(realm.slug, "revoke"),
        data={"token": bearer.removeprefix("Bearer ")},
        auth=(client.client_id, client.secret),
        timeout=10,
    )
    assert response.status_code == 200


def test_one_token_serves_many_calls(realm: Realm) -> None:
    client = realm.client(scopes=(VERIFY,))
    calls = Calls(realm.server.token_url(realm.slug))
    with httpx.Client(auth=auth_for(realm, client), event_hooks={"request": [calls]}) as http:
        answers = [call_api(http, realm) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert answers[0].json() == {"valid": False, "code": "NOT_FOUND"}
    assert len(calls.tokens) == 1
    assert calls.tokens[0].startswith("Basic ")
    assert len(set(calls.api_tokens)) == 1


def test_a_token_is_renewed_shortly_before_it_expires(realm: Realm) -> None:
    client = realm.client(scopes=(VERIFY,))
    clock = Clock()
    calls = Calls(realm.server.token_url(realm.slug))
    auth = auth_for(realm, client, margin=30, clock=clock)
    with httpx.Client(auth=auth, event_hooks={"request": [calls]}) as http:
        call_api(http, realm)
        clock.now += 600 - 31  # Gatepass's tokens live 600 s
        call_api(http, realm)
        clock.now += 2
        assert call_api(http, realm).status_code == 200
    assert len(calls.tokens) == 2
    assert len(set(calls.api_tokens)) == 2


def test_a_401_gets_a_new_token_and_one_more_try(realm: Realm) -> None:
    client = realm.client(scopes=(VERIFY,))
    calls = Calls(realm.server.token_url(realm.slug))
    with httpx.Client(auth=auth_for(realm, client), event_hooks={"request": [calls]}) as http:
        call_api(http, realm)
        revoke(realm, client, calls.api_tokens[0])
        answer = call_api(http, realm)
    assert answer.status_code == 200
    assert len(calls.tokens) == 2
    assert calls.api_tokens[1] == calls.api_tokens[0]  # refused...
    assert calls.api_tokens[2] != calls.api_tokens[0]  # ...then sent again with a new token


def test_a_second_401_is_the_answer_no_loop(realm: Realm, other_realm: Realm) -> None:
    """Tokens of another tenant are never valid here: two tries, then the 401 itself."""
    stranger = other_realm.client(scopes=(VERIFY,))
    calls = Calls(other_realm.server.token_url(other_realm.slug))
    auth = auth_for(other_realm, stranger)
    with httpx.Client(auth=auth, event_hooks={"request": [calls]}) as http:
        answer = call_api(http, realm)
    assert answer.status_code == 401
    assert answer.json()["error"] == "invalid_token"
    assert (len(calls.tokens), len(calls.api_tokens)) == (2, 2)


def test_bad_client_credentials_raise_without_the_secret(realm: Realm) -> None:
    client = realm.client(scopes=(VERIFY,))
    wrong = Credential(client.tenant, client.client_id, altered(client.secret))
    with (
        httpx.Client(auth=auth_for(realm, wrong)) as http,
        pytest.raises(httpx.HTTPStatusError) as failed,
    ):
        call_api(http, realm)
    assert failed.value.response.status_code == 401
    assert wrong.secret not in str(failed.value)
    assert wrong.secret not in repr(auth_for(realm, wrong))


@pytest.mark.anyio
async def test_the_async_flow_gets_renews_and_retries(realm: Realm) -> None:
    client = realm.client(scopes=(VERIFY,))
    calls = Calls(realm.server.token_url(realm.slug))
    url = f"{realm.issuer}/api-keys/verify"
    hooks = {"request": [calls.async_hook]}
    async with httpx.AsyncClient(auth=auth_for(realm, client), event_hooks=hooks) as http:
        first = await http.post(url, json={"key": "gpk_x"})
        await http.post(url, json={"key": "gpk_x"})
        revoke(realm, client, calls.api_tokens[0])
        after = await http.post(url, json={"key": "gpk_x"})
    assert (first.status_code, after.status_code) == (200, 200)
    assert len(calls.tokens) == 2
    assert calls.api_tokens[3] != calls.api_tokens[0]


def test_the_resource_goes_into_every_token_request(realm: Realm) -> None:
    client = realm.client(scopes=(VERIFY,))
    sent: list[bytes] = []

    def note(request: httpx.Request) -> None:
        if str(request.url) == realm.server.token_url(realm.slug):
            sent.append(request.read())

    with httpx.Client(auth=auth_for(realm, client), event_hooks={"request": [note]}) as http:
        assert call_api(http, realm).status_code == 200
    assert sent == [b"grant_type=client_credentials&resource=" + quote_plus(realm.issuer).encode()]
