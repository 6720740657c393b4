"""OAuth 2.0 error responses, one class per error code (RFC 6749 §5.2, RFC 8707 §2).

Each class carries its HTTP shape; ``render`` turns any of them into ``(status, headers, body)``.
"""

from __future__ import annotations

import json

JSON_HEADERS = (
    (b"content-type", b"application/json"),
    (b"cache-control", b"no-store"),
    (b"pragma", b"no-cache"),
)


class OAuthError(Exception):
    error = "invalid_request"
    status = 400
    outcome = ""  # the label in request metrics when it is not the error code

    def __init__(self, description: str, *, headers: tuple[tuple[bytes, bytes], ...] = ()) -> None:
        super().__init__(description)
        self.description = description
        self.extra_headers = headers

    def render(self) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        body = json.dumps(
            {"error": self.error, "error_description": self.description}, separators=(",", ":")
        )
        return self.status, [*JSON_HEADERS, *self.extra_headers], body.encode()


class InvalidRequestError(OAuthError):
    error = "invalid_request"


class InvalidClientError(OAuthError):
    """Client authentication failed. Always 401 with a challenge (RFC 6749 §5.2)."""

    error = "invalid_client"
    status = 401

    def __init__(self, description: str, *, realm: str) -> None:
        challenge = f'Basic realm="{realm}", charset="UTF-8"'.encode()
        super().__init__(description, headers=((b"www-authenticate", challenge),))


class ThrottledClientError(OAuthError):
    """Too many wrong secrets for this client: 429 with Retry-After.

    The error code stays ``invalid_client`` (the secret was checked and was wrong, RFC 6749
    §5.2), so OAuth libraries react as to any failed authentication; the status and
    ``Retry-After`` tell HTTP clients, proxies and retry logic to back off (RFC 6585 §4).
    """

    error = "invalid_client"
    status = 429
    outcome = "throttled"

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            f"too many failed client authentications; retry after {retry_after} s",
            headers=((b"retry-after", str(retry_after).encode()),),
        )


class InvalidGrantError(OAuthError):
    error = "invalid_grant"


class UnauthorizedClientError(OAuthError):
    error = "unauthorized_client"


class UnsupportedGrantTypeError(OAuthError):
    error = "unsupported_grant_type"


class InvalidScopeError(OAuthError):
    error = "invalid_scope"


class InvalidTargetError(OAuthError):
    """RFC 8707: the requested resource is not one this tenant issues tokens for."""

    error = "invalid_target"


class AuthenticationRequiredError(OAuthError):
    """No credentials at all: a challenge without an error code (RFC 6750 §3.1)."""

    error = "invalid_token"
    status = 401

    def __init__(self, description: str, *, realm: str) -> None:
        challenges = ((b"www-authenticate", f'Bearer realm="{realm}"'.encode()),)
        super().__init__(description, headers=challenges)


class InvalidBearerTokenError(OAuthError):
    """RFC 6750 §3.1: the access token is missing, expired, revoked or not ours."""

    error = "invalid_token"
    status = 401

    def __init__(self, description: str, *, realm: str) -> None:
        challenge = f'Bearer realm="{realm}", error="invalid_token"'.encode()
        super().__init__(description, headers=((b"www-authenticate", challenge),))


class InsufficientScopeError(OAuthError):
    """RFC 6750 §3.1: the caller is known but lacks the permission this endpoint needs."""

    error = "insufficient_scope"
    status = 403

    def __init__(self, scope: str, *, realm: str) -> None:
        challenge = f'Bearer realm="{realm}", error="insufficient_scope", scope="{scope}"'
        super().__init__(
            f"the '{scope}' permission is required",
            headers=((b"www-authenticate", challenge.encode()),),
        )


class RealmNotFoundError(OAuthError):
    """Keycloak answers 404 for an unknown realm; so do we, in OAuth's error shape."""

    error = "invalid_request"
    status = 404


class MethodNotAllowedError(OAuthError):
    error = "invalid_request"
    status = 405

    def __init__(self, allowed: str) -> None:
        super().__init__(f"use {allowed}", headers=((b"allow", allowed.encode()),))


class PayloadTooLargeError(OAuthError):
    error = "invalid_request"
    status = 413


class ServerError(OAuthError):
    """An unexpected failure; details are in the log, never in the response."""

    error = "server_error"
    status = 500

    def __init__(self) -> None:
        super().__init__("the server could not handle the request")


class ServiceUnavailableError(OAuthError):
    error = "temporarily_unavailable"
    status = 503

    def __init__(self) -> None:
        super().__init__(
            "the service is temporarily unavailable, retry shortly",
            headers=((b"retry-after", b"2"),),
        )
