"""Bad requests to the verify endpoint: 400 ``invalid_request`` for a bad body, 404 for an
unknown tenant, and never an echo of the key."""

from __future__ import annotations

import httpx2
from starlette.testclient import TestClient

from tests.apikeys.support import call_verify, create_key, verifier
from tests.factories import Factory
from tests.http.support import assert_oauth_error

BAD_BODIES = {
    "empty": b"",
    "not json": b"key=gpk_abc",
    "not utf-8": b'{"key": "\xff\xfe"}',
    "array": b'["gpk_abc"]',
    "string": b'"gpk_abc"',
    "null": b"null",
    "number": b"42",
    "missing key": b'{"api_key": "gpk_abc"}',
    "null key": b'{"key": null}',
    "number key": b'{"key": 12345}',
    "list key": b'{"key": ["gpk_abc"]}',
    "object key": b'{"key": {"value": "gpk_abc"}}',
    "deeply nested": b'{"key": ' + b"[" * 5000 + b"]" * 5000 + b"}",
}


def error_of(response: httpx2.Response) -> tuple[int, str | None]:
    body = response.json() if response.headers["content-type"] == "application/json" else {}
    return response.status_code, body.get("error")


def test_bad_body_is_invalid_request(factory: Factory, client: TestClient) -> None:
    factory.tenant()
    key = create_key(factory)
    caller = verifier(factory)
    bodies = {**BAD_BODIES, "truncated, with a real key": b'{"key": "' + key.secret.encode()}

    responses = {
        name: call_verify(client, caller.basic, body=body) for name, body in bodies.items()
    }

    assert {n: error_of(r) for n, r in responses.items()} == dict.fromkeys(
        bodies, (400, "invalid_request")
    )
    for response in responses.values():
        assert_oauth_error(response, 400, "invalid_request")
        assert key.secret[4:-6] not in response.text


def test_unknown_tenant_is_404_and_only_post_is_allowed(
    factory: Factory, client: TestClient
) -> None:
    factory.tenant()
    key = create_key(factory)
    caller = verifier(factory)

    unknown = call_verify(client, caller.basic, key=key.secret, tenant="nobody")
    get = client.get("/realms/acme/api-keys/verify", headers={"Authorization": caller.basic})

    assert_oauth_error(unknown, 404, "invalid_request")
    assert key.secret not in unknown.text
    assert_oauth_error(get, 405, "invalid_request")
    assert get.headers["allow"] == "POST"
