"""JWT access token claims (RFC 9068 §2.2) and the scope and audience rules of Gatepass.

Pure functions: the token endpoint passes in snapshots and the clock.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from gatepass.credential_secrets import mask
from gatepass.oauth.errors import InvalidScopeError, InvalidTargetError
from gatepass.tokens.signer import token_id

# Accepted and ignored so that OpenID-flavoured scripts (Keycloak's curl examples) work as is.
IGNORED_SCOPES = frozenset({"openid", "profile", "email"})
# A private claim (RFC 9068 §2.2 allows more): the client's never-reused uid. A client ID can
# be deleted and chosen again; Gatepass honours a token only for the client that holds this uid.
CLIENT_UID = "client_uid"
# A token got by token exchange (``oauth.exchange``) names the jti of the token it came from, and
# ends when that one is revoked.
EXCHANGED_FROM = "exchanged_from"
# A token got by exchanging an API key names the key and its secret (``{"key_id", "secret"}``),
# and ends with them.
API_KEY_CLAIM = "api_key"


# Not frozen: one is made per request, and a frozen dataclass takes three times as long to make.
@dataclass(slots=True)
class TokenGrant:
    scopes: tuple[str, ...]
    audience: str | list[str]
    lifetime: int


def grant_scopes(
    requested: list[str], granted: Iterable[str], available: frozenset[str]
) -> tuple[str, ...]:
    """No scope asked: everything granted. A subset: that subset. Anything else: invalid_scope."""
    allowed = tuple(s for s in granted if s in available)
    wanted = [s for s in requested if s not in IGNORED_SCOPES]
    if not wanted:
        return allowed
    refused = [s for s in wanted if s not in allowed]
    if refused:
        raise InvalidScopeError(f"scope '{mask(refused[0])}' is not granted to this client")
    return tuple(wanted)


def choose_audience(
    resources: list[str], default: str, allowed: frozenset[str], *, own: str = ""
) -> str | list[str]:
    """RFC 8707: ``resource`` picks among the tenant's audiences; without it, the default.

    ``own`` is Gatepass's own audience (the issuer: its management API and verify endpoint).
    It is granted alone only: a token that also names another resource server would let that
    server replay it to Gatepass.
    """
    if not resources:
        return default
    for resource in resources:
        try:
            parts = urlsplit(resource)
        except ValueError:  # e.g. an unbalanced '[' in the host
            raise InvalidTargetError("resource is not a valid URI") from None
        if not parts.scheme or parts.fragment:
            raise InvalidTargetError("resource must be an absolute URI without a fragment")
        if resource not in allowed and resource != own:
            raise InvalidTargetError(
                f"resource '{mask(resource)}' is not an audience of this realm"
            )
    unique = list(dict.fromkeys(resources))
    if own in unique and len(unique) > 1:
        raise InvalidTargetError(
            "the issuer's own audience cannot be combined with other resources"
        )
    return unique[0] if len(unique) == 1 else unique


def for_gatepass(claims: dict[str, Any], issuer: str) -> bool:
    """Whether a token was minted for Gatepass itself: its audience is the issuer, alone."""
    return claims.get("aud") in (issuer, [issuer])


def access_token_claims(
    *,
    issuer: str,
    client_id: str,
    client_uid: str,
    grant: TokenGrant,
    groups: tuple[str, ...],
    now: int,
) -> dict[str, Any]:
    return {
        "iss": issuer,
        "sub": client_id,
        "aud": grant.audience,
        "exp": now + grant.lifetime,
        "iat": now,
        "nbf": now,
        "jti": token_id(),
        "client_id": client_id,
        "scope": " ".join(grant.scopes),
        "groups": list(groups),
        CLIENT_UID: client_uid,
    }
