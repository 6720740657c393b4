"""Token introspection (RFC 7662) and revocation (RFC 7009) of Gatepass access tokens.

Introspection answers ``active: false`` as soon as the token, or the client it was issued to,
is revoked, deleted or expired, even though the JWT itself would still verify, and a client
created later under a deleted client's ID does not inherit its tokens.
"""

from __future__ import annotations

import json
import time
from typing import Any

from gatepass.cache.entries import ClientEntry, TenantEntry
from gatepass.oauth.claims import CLIENT_UID, EXCHANGED_FROM, for_gatepass
from gatepass.oauth.context import Caller, ProtocolContext, from_db
from gatepass.oauth.errors import InvalidRequestError
from gatepass.tokens import jwt as tokens
from gatepass.tokens import revocation

INACTIVE = b'{"active":false}'


async def introspect(
    ctx: ProtocolContext, tenant: TenantEntry, caller: Caller, form: dict[str, str]
) -> bytes:
    await ctx.authenticate(tenant, caller, form)
    token = form.get("token")
    if token is None:
        raise InvalidRequestError("token is required")
    active = await active_token(ctx, tenant, token)
    if active is None:
        return INACTIVE
    claims, _ = active
    kind = "DPoP" if bound(claims) else "Bearer"  # cnf, among the claims, names the key
    return json.dumps(
        {"active": True, "token_type": kind, **claims}, separators=(",", ":")
    ).encode()


def bound(claims: dict[str, Any]) -> bool:
    """Whether the token is bound to a key (RFC 9449 §6): only a DPoP proof presents it."""
    cnf = claims.get("cnf")
    return isinstance(cnf, dict) and "jkt" in cnf


async def active_token(
    ctx: ProtocolContext, tenant: TenantEntry, token: str
) -> tuple[dict[str, Any], ClientEntry] | None:
    """The claims of a token of ours that is still good, and the client it was issued to.

    That client must be the very one the token was issued to (its uid), not a later client
    created under the same client ID.
    """
    try:
        claims = tokens.verify(tenant, token)
    except tokens.InvalidTokenError:
        return None
    if ctx.cache.is_revoked(str(claims["jti"])):
        return None
    origin = claims.get(EXCHANGED_FROM)  # a token got by token exchange ends with its origin
    if origin is not None and ctx.cache.is_revoked(str(origin)):
        return None
    client = await ctx.client(tenant.id, str(claims["client_id"]))
    if client is None or not client.usable(time.time()) or not issued_to(claims, client):
        return None
    return claims, client


async def gatepass_token(
    ctx: ProtocolContext, tenant: TenantEntry, token: str
) -> tuple[dict[str, Any], ClientEntry] | None:
    """An active token minted for Gatepass itself (``resource`` = the issuer), as the management
    API and the verify endpoint require. A token for any other audience is refused there, even
    the tenant's default one: the resource server it was sent to could replay it to Gatepass.
    """
    active = await active_token(ctx, tenant, token)
    if active is None or not for_gatepass(active[0], tenant.issuer):
        return None
    return active


def issued_to(claims: dict[str, Any], client: ClientEntry) -> bool:
    return claims.get("client_id") == client.client_id and claims.get(CLIENT_UID) == client.uid


async def revoke(
    ctx: ProtocolContext, tenant: TenantEntry, caller: Caller, form: dict[str, str]
) -> bytes:
    client = await ctx.authenticate(tenant, caller, form)
    token = form.get("token")
    if token is None:
        raise InvalidRequestError("token is required")
    try:
        claims = tokens.verify(tenant, token)
    except tokens.InvalidTokenError:
        return b""  # RFC 7009 §2.2: invalid tokens do not cause an error
    if not issued_to(claims, client):
        raise InvalidRequestError("the token was not issued to this client")
    jti, expires = str(claims["jti"]), float(claims["exp"])
    await from_db(revocation.revoke_token, ctx.cache.db, tenant.id, client.client_id, jti, expires)
    ctx.cache.mark_revoked(jti, expires)
    return b""
