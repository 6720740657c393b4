"""How each OAuth error renders: status, error code, headers, body (gatepass.oauth.errors)."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from gatepass.oauth import errors

BASE_HEADERS = {
    b"content-type": b"application/json",
    b"cache-control": b"no-store",
    b"pragma": b"no-cache",
}

CASES: list[tuple[Callable[[], errors.OAuthError], int, str, dict[bytes, bytes]]] = [
    (lambda: errors.InvalidRequestError("bad"), 400, "invalid_request", {}),
    (
        lambda: errors.InvalidClientError("bad", realm="acme"),
        401,
        "invalid_client",
        {b"www-authenticate": b'Basic realm="acme", charset="UTF-8"'},
    ),
    (lambda: errors.InvalidGrantError("bad"), 400, "invalid_grant", {}),
    (lambda: errors.UnauthorizedClientError("bad"), 400, "unauthorized_client", {}),
    (lambda: errors.UnsupportedGrantTypeError("bad"), 400, "unsupported_grant_type", {}),
    (lambda: errors.InvalidScopeError("bad"), 400, "invalid_scope", {}),
    (lambda: errors.InvalidTargetError("bad"), 400, "invalid_target", {}),
    (lambda: errors.RealmNotFoundError("bad"), 404, "invalid_request", {}),
    (
        lambda: errors.MethodNotAllowedError("POST"),
        405,
        "invalid_request",
        {b"allow": b"POST"},
    ),
    (lambda: errors.PayloadTooLargeError("bad"), 413, "invalid_request", {}),
    (
        errors.ServiceUnavailableError,
        503,
        "temporarily_unavailable",
        {b"retry-after": b"2"},
    ),
]
IDS = [
    "InvalidRequestError",
    "InvalidClientError",
    "InvalidGrantError",
    "UnauthorizedClientError",
    "UnsupportedGrantTypeError",
    "InvalidScopeError",
    "InvalidTargetError",
    "RealmNotFoundError",
    "MethodNotAllowedError",
    "PayloadTooLargeError",
    "ServiceUnavailableError",
]


@pytest.mark.parametrize(("make", "status", "code", "extra"), CASES, ids=IDS)
def test_error_renders_status_code_and_headers(
    make: Callable[[], errors.OAuthError], status: int, code: str, extra: dict[bytes, bytes]
) -> None:
    error = make()
    rendered_status, headers, _ = error.render()
    assert rendered_status == status
    assert error.error == code
    names = [name for name, _ in headers]
    assert len(names) == len(set(names))
    assert dict(headers) == {**BASE_HEADERS, **extra}


@pytest.mark.parametrize(("make", "status", "code", "extra"), CASES, ids=IDS)
def test_error_body_is_rfc_6749_json(
    make: Callable[[], errors.OAuthError], status: int, code: str, extra: dict[bytes, bytes]
) -> None:
    error = make()
    _, _, body = error.render()
    document = json.loads(body)
    assert document == {"error": code, "error_description": error.description}
    assert document["error_description"]


def test_error_description_is_the_message_given() -> None:
    _, _, body = errors.InvalidScopeError("scope 'x' is not granted").render()
    assert json.loads(body)["error_description"] == "scope 'x' is not granted"


def test_invalid_client_challenge_names_the_realm() -> None:
    _, headers, _ = errors.InvalidClientError("bad", realm="other-tenant").render()
    assert dict(headers)[b"www-authenticate"] == b'Basic realm="other-tenant", charset="UTF-8"'


def test_every_error_is_an_oauth_error() -> None:
    for make, *_ in CASES:
        assert isinstance(make(), errors.OAuthError)
