"""Token exchange (RFC 8693): an access token of the tenant is exchanged for a narrower one.

Handing an agent or a job a token that cannot outlive its task: the holder of a token sends it
as ``subject_token`` and gets a new one with at most its scopes (``scope`` picks fewer), at
most its audiences (``resource`` or ``audience`` picks among them), and a lifetime of at most
the tenant's ``token_exchange_lifetime`` that never ends after the token it came from. The new
token names who acts in ``act`` (§4.1): the client of an ``actor_token`` if one is sent, else
the client that authenticated the request if one did, else the subject's own client.
It names its origin's ``jti`` in ``exchanged_from``, so revoking the origin (RFC 7009) ends it
at introspection and at the gateway check too, as does anything that ends the origin's client.

Nothing is gained by an exchange, so possession of the subject token is all it takes: the new
token can do less than the old, for no longer. Two limits keep it so:

- a token bound to a key (DPoP) is exchanged only with a proof of that key, and the new token
  is bound to it too: an exchange is not a way to unbind a stolen bound token;
- an exchanged token is not exchanged again (one level of ``act``, one origin to revoke).

An API key can be the subject too (``subject_token_type`` ``API_KEY``): the exchange is a use of
the key (its allowlist, rate limit, last use), and the token acts as the key (``sub`` and
``client_id`` its key ID, ``api_key`` naming the key and its secret) with some of its scopes and
one of the tenant's audiences, never Gatepass's own; it ends with the key's secret.

A tenant allows exchanges in its settings (``token_exchange_lifetime``); off by default.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from gatepass.cache.entries import ClientEntry, TenantEntry
from gatepass.oauth import dpop
from gatepass.oauth.claims import (
    API_KEY_CLAIM,
    CLIENT_UID,
    EXCHANGED_FROM,
    TokenGrant,
    choose_audience,
    grant_scopes,
)
from gatepass.oauth.context import ProtocolContext
from gatepass.oauth.errors import InvalidGrantError, InvalidRequestError, OAuthError
from gatepass.oauth.introspection import active_token, bound
from gatepass.oauth.requests import split_scope
from gatepass.oauth.verify import check_key
from gatepass.tokens.signer import token_id

GRANT_TYPE = "urn:ietf:params:oauth:grant-type:token-exchange"
ACCESS_TOKEN = "urn:ietf:params:oauth:token-type:access_token"  # noqa: S105 - a type's name
JWT = "urn:ietf:params:oauth:token-type:jwt"
TOKEN_TYPES = (ACCESS_TOKEN, JWT)  # Gatepass's access tokens are JWTs: either name fits
API_KEY = "urn:gatepass:params:oauth:token-type:api_key"  # RFC 8693 §3 allows other URIs


class TokenExchangeDisabledError(OAuthError):
    error = "unsupported_grant_type"


@dataclass(frozen=True, slots=True)
class Exchanged:
    claims: dict[str, Any]  # the new token's claims, ready to sign
    lifetime: int
    client: ClientEntry | None  # the subject's client, whose token the new one stays; None
    # for an API key's


async def exchange(
    ctx: ProtocolContext,
    tenant: TenantEntry,
    form: dict[str, str],
    multi: dict[str, list[str]],
    *,
    proof: dpop.Proof | None,
    requester: ClientEntry | None = None,
    source: str = "",
) -> Exchanged:
    """The claims of the token ``form`` asks for, or the RFC 8693 §2.2.2 error. ``source``:
    the caller's address, which an API key's allowlist must hold."""
    if tenant.token_exchange_lifetime is None:
        raise TokenExchangeDisabledError("token exchange is not enabled for this realm")
    _check_types(form)
    if form["subject_token_type"] == API_KEY:
        return await _from_key(ctx, tenant, form, multi, proof=proof, requester=requester,
                               source=source)  # fmt: skip
    subject, client = await _active(ctx, tenant, form["subject_token"], "subject_token")
    if EXCHANGED_FROM in subject or API_KEY_CLAIM in subject:
        raise InvalidGrantError("an exchanged token cannot be exchanged again")
    if bound(subject) and (proof is None or proof.jkt != subject["cnf"]["jkt"]):
        raise InvalidGrantError("a DPoP-bound subject_token needs a DPoP proof of its key")
    actor = requester.client_id if requester is not None else subject["client_id"]
    if "actor_token" in form:
        actor = await _actor(ctx, tenant, form["actor_token"])
    now = int(time.time())
    lifetime = min(tenant.token_exchange_lifetime, int(subject["exp"]) - now)
    if lifetime <= 0:
        raise InvalidGrantError("the subject_token has expired")
    held = str(subject.get("scope", "")).split()
    scopes = grant_scopes(split_scope(form.get("scope")), held, tenant.available_scopes)
    # Only the subject's own audiences: a resource server holding a token sent to it must not
    # turn it into a token for another server, or for Gatepass's management API.
    resources = multi.get("resource", []) + ([form["audience"]] if "audience" in form else [])
    held_audiences = _audiences_of(subject)
    audience = choose_audience(resources, held_audiences[0], frozenset(held_audiences))
    grant = TokenGrant(scopes=scopes, audience=audience, lifetime=lifetime)
    return Exchanged(_claims(tenant, subject, actor, grant, now), lifetime, client)


async def _from_key(
    ctx: ProtocolContext,
    tenant: TenantEntry,
    form: dict[str, str],
    multi: dict[str, list[str]],
    *,
    proof: dpop.Proof | None,
    requester: ClientEntry | None,
    source: str,
) -> Exchanged:
    """An API key exchanged for a token: a use of the key (its allowlist, rate limit and last
    use, as at the verify endpoint), some of its scopes, one of the tenant's audiences (never
    Gatepass's own), ending with the key's secret (``api_key`` names both)."""
    if proof is not None:  # its jti would have no client to be remembered with
        raise InvalidRequestError("a token exchanged from an API key cannot be DPoP-bound")
    checked = await check_key(ctx, tenant, form["subject_token"], source or None)
    entry = checked.entry
    if not checked.valid or entry is None:
        raise InvalidGrantError("the subject_token is not a usable API key of this realm")
    actor = requester.client_id if requester is not None else entry.key_id
    if "actor_token" in form:
        actor = await _actor(ctx, tenant, form["actor_token"])
    now = int(time.time())
    ends = [e for e in (entry.expires_at, entry.secret_expires_at) if e is not None]
    lifetime = min([tenant.token_exchange_lifetime or 0, *(int(e) - now for e in ends)])
    if lifetime <= 0:
        raise InvalidGrantError("the subject_token has expired")
    scopes = grant_scopes(split_scope(form.get("scope")), entry.scopes, tenant.available_scopes)
    resources = multi.get("resource", []) + ([form["audience"]] if "audience" in form else [])
    audience = choose_audience(resources, tenant.audience, tenant.allowed_audiences)
    claims = {
        "iss": tenant.issuer,
        "sub": entry.key_id,
        "aud": audience,
        "exp": now + lifetime,
        "iat": now,
        "nbf": now,
        "jti": token_id(),
        "client_id": entry.key_id,
        "scope": " ".join(scopes),
        "groups": list(entry.groups),
        API_KEY_CLAIM: {"key_id": entry.key_id, "secret": entry.secret_id},
        "act": {"sub": actor},
    }
    return Exchanged(claims, lifetime, None)


async def _actor(ctx: ProtocolContext, tenant: TenantEntry, token: str) -> str:
    _, client = await _active(ctx, tenant, token, "actor_token")
    if client is None:
        raise InvalidGrantError("the actor_token must be a client's token")
    return client.client_id


def _check_types(form: dict[str, str]) -> None:
    if "subject_token" not in form:
        raise InvalidRequestError("subject_token is required")
    if form.get("subject_token_type") not in (*TOKEN_TYPES, API_KEY):
        raise InvalidRequestError(f"subject_token_type must be {ACCESS_TOKEN} or {API_KEY}")
    if "actor_token" in form and form.get("actor_token_type") not in TOKEN_TYPES:
        raise InvalidRequestError(f"actor_token_type must be {ACCESS_TOKEN}")
    if "actor_token_type" in form and "actor_token" not in form:
        raise InvalidRequestError("actor_token_type is given without actor_token")
    if form.get("requested_token_type", ACCESS_TOKEN) not in TOKEN_TYPES:
        raise InvalidRequestError(f"requested_token_type must be {ACCESS_TOKEN}")


async def _active(
    ctx: ProtocolContext, tenant: TenantEntry, token: str, name: str
) -> tuple[dict[str, Any], ClientEntry | None]:
    active = await active_token(ctx, tenant, token)
    if active is None:
        raise InvalidGrantError(f"the {name} is not an active token of this realm")
    return active


def _audiences_of(subject: dict[str, Any]) -> list[str]:
    audience = subject.get("aud")
    return [str(a) for a in audience] if isinstance(audience, list) else [str(audience)]


def _claims(
    tenant: TenantEntry,
    subject: dict[str, Any],
    actor: str,
    grant: TokenGrant,
    now: int,
) -> dict[str, Any]:
    claims: dict[str, Any] = {
        "iss": tenant.issuer,
        "sub": subject["sub"],
        "aud": grant.audience,
        "exp": now + grant.lifetime,
        "iat": now,
        "nbf": now,
        "jti": token_id(),
        "client_id": subject["client_id"],
        "scope": " ".join(grant.scopes),
        "groups": list(subject.get("groups", [])),
        CLIENT_UID: subject[CLIENT_UID],
        "act": {"sub": actor},
        EXCHANGED_FROM: subject["jti"],
    }
    if "cnf" in subject:
        claims["cnf"] = subject["cnf"]
    return claims
