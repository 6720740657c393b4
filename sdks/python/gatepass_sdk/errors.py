"""Why a request is refused, with its HTTP shape (RFC 6750 §3, RFC 6585 §4).

One class per answer. Each carries a fixed public description and an internal ``reason`` (a
verify code, a PyJWT error name) for the API's own logs; neither ever holds the credential.
``render`` turns any of them into ``(status, headers, body)`` for the given realm.
"""

from __future__ import annotations

import json

__all__ = [
    "AuthError",
    "CredentialsRequiredError",
    "InsufficientScopeError",
    "InvalidRequestError",
    "InvalidTokenError",
    "RateLimitedError",
    "UnavailableError",
]

Headers = list[tuple[bytes, bytes]]
JSON_NO_STORE: Headers = [(b"content-type", b"application/json"), (b"cache-control", b"no-store")]


class AuthError(Exception):
    """Base class: the credential is not valid (401 ``invalid_token``)."""

    status = 401
    error: str | None = "invalid_token"
    description = "the access token or API key is not valid"
    challenge = True  # answer with a ``WWW-Authenticate`` challenge of ``scheme``
    scheme = "Bearer"
    retry_after: int | None = None  # seconds, for a ``Retry-After`` header

    def __init__(self, reason: str = "") -> None:
        super().__init__(reason or self.description)
        self.reason = reason

    def challenge_params(self) -> list[str]:
        return [f'error="{self.error}"'] if self.error else []

    def www_authenticate(self, realm: str) -> str | None:
        """The ``WWW-Authenticate`` challenge for ``realm``, if this answer carries one."""
        if not self.challenge:
            return None
        params = [f'realm="{_quoted(realm)}"', *self.challenge_params()]
        return f"{self.scheme} " + ", ".join(params)

    def document(self) -> dict[str, str]:
        """The JSON body: ``error`` and ``error_description`` (RFC 6749 §5.2's shape)."""
        return {"error": self.error or "unauthorized", "error_description": self.description}

    def render(self, realm: str) -> tuple[int, Headers, bytes]:
        headers = [*JSON_NO_STORE]
        if self.retry_after is not None:
            headers.append((b"retry-after", str(self.retry_after).encode()))
        challenge = self.www_authenticate(realm)
        if challenge is not None:
            headers.append((b"www-authenticate", challenge.encode()))
        return self.status, headers, json.dumps(self.document(), separators=(",", ":")).encode()


class InvalidTokenError(AuthError):
    """RFC 6750 §3.1 ``invalid_token``: expired, revoked, malformed, or not from this issuer."""


class InvalidDPoPProofError(AuthError):
    """RFC 9449 §7.1: a DPoP-bound token came without a good proof of its key."""

    error = "invalid_dpop_proof"
    description = "the DPoP proof is missing or not valid for this request and token"
    scheme = "DPoP"


class CredentialsRequiredError(AuthError):
    """No credential at all: 401 with a bare challenge, no error code (RFC 6750 §3.1)."""

    error = None
    description = "authentication is required: a Bearer token or an API key"


class InvalidRequestError(AuthError):
    """RFC 6750 §3.1 ``invalid_request``: e.g. credentials sent in more than one way."""

    status = 400
    error = "invalid_request"
    description = "send exactly one credential: a Bearer token or one API key"


class InsufficientScopeError(AuthError):
    """RFC 6750 §3.1 ``insufficient_scope``: a known caller without a permission it needs."""

    status = 403
    error = "insufficient_scope"

    def __init__(self, required: tuple[str, ...]) -> None:
        super().__init__(" ".join(required))
        self.required = required
        self.description = f"this request needs the permission(s): {' '.join(required)}"

    def challenge_params(self) -> list[str]:
        return [*super().challenge_params(), f'scope="{_quoted(" ".join(self.required))}"']


class RateLimitedError(AuthError):
    """The API key is over its rate limit: 429 with ``Retry-After`` (RFC 6585 §4)."""

    status = 429
    error = "rate_limited"
    description = "the API key is over its rate limit; retry later"
    challenge = False

    def __init__(self, reason: str = "", *, retry_after: int = 1) -> None:
        super().__init__(reason)
        self.retry_after = max(retry_after, 1)


class UnavailableError(AuthError):
    """Gatepass could not be asked (down, or the verify client misconfigured): 503."""

    status = 503
    error = "temporarily_unavailable"
    description = "the credential cannot be checked right now; retry shortly"
    challenge = False
    retry_after = 2


def _quoted(value: str) -> str:
    """A value safe inside an RFC 7235 quoted-string (realms and scopes never need escapes)."""
    return value.replace("\\", "").replace('"', "")
