"""The token endpoint: client credentials grant (RFC 6749 §4.4) issuing RFC 9068 JWTs.

The response has Keycloak's shape, so scripts written for Keycloak work unchanged.
"""

from __future__ import annotations

import hashlib
import time
from datetime import UTC, datetime
from json.encoder import encode_basestring_ascii as json_string

from gatepass.cache.entries import ClientEntry, TenantEntry
from gatepass.clients.keys import remember_assertion
from gatepass.oauth import assertion, dpop, exchange
from gatepass.oauth.claims import TokenGrant, access_token_claims, choose_audience, grant_scopes
from gatepass.oauth.context import Caller, ProtocolContext
from gatepass.oauth.errors import (
    InvalidClientError,
    InvalidGrantError,
    InvalidRequestError,
    UnsupportedGrantTypeError,
)
from gatepass.oauth.requests import split_scope
from gatepass.tokens import jwt as tokens

GRANT_TYPE = "client_credentials"
# RFC 7523 §2.1: the assertion is the grant. Gatepass takes it as the client's authentication
# (its own key's, or a trusted issuer's token: ``oauth.assertion``) and issues what the client
# credentials grant would; ``client_id`` names the client.
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
GRANT_TYPES = (GRANT_TYPE, JWT_BEARER)
PATH = "/protocol/openid-connect/token"


async def token(
    ctx: ProtocolContext,
    tenant: TenantEntry,
    caller: Caller,
    form: dict[str, str],
    multi: dict[str, list[str]],
) -> bytes:
    grant_type = form.get("grant_type")
    if grant_type is None:
        raise InvalidRequestError("grant_type is required")
    # A DPoP proof is checked before the client (no database is read for a bad one), and its
    # jti is spent after (an anonymous caller cannot fill the store of used ones).
    proof = (
        None
        if caller.dpop is None
        else dpop.verify(caller.dpop, method="POST", url=tenant.issuer + PATH)
    )
    if proof is not None and tenant.require_dpop_nonce:
        ctx.nonces.check(proof, tenant.id)
    if grant_type == exchange.GRANT_TYPE:
        return await exchanged(ctx, tenant, caller, form, multi, proof=proof)
    if grant_type == JWT_BEARER:
        client = await jwt_bearer_client(ctx, tenant, caller, form)
    else:
        client = await ctx.authenticate(tenant, caller, form)
    if grant_type not in GRANT_TYPES:
        raise UnsupportedGrantTypeError(f"only {' and '.join(GRANT_TYPES)} are supported")
    grant = decide_grant(tenant, client, form, multi)
    claims = access_token_claims(
        issuer=tenant.issuer,
        client_id=client.client_id,
        client_uid=client.uid,
        grant=grant,
        groups=client.groups,
        now=int(time.time()),
    )
    if proof is None:
        return answer(tokens.sign(tenant, claims), grant.lifetime, claims["scope"])
    await spend_proof(ctx, client, proof)
    claims["cnf"] = {"jkt": proof.jkt}  # RFC 9449 §6.1
    return answer(tokens.sign(tenant, claims), grant.lifetime, claims["scope"], kind="DPoP")


async def exchanged(
    ctx: ProtocolContext,
    tenant: TenantEntry,
    caller: Caller,
    form: dict[str, str],
    multi: dict[str, list[str]],
    *,
    proof: dpop.Proof | None,
) -> bytes:
    """RFC 8693: the subject token is what authenticates; a client that also authenticates is
    checked (a wrong secret still fails) and named as the actor."""
    requester = None
    if caller.authorization is not None or "client_secret" in form or assertion.is_assertion(form):
        requester = await ctx.authenticate(tenant, caller, form)
    done = await exchange.exchange(ctx, tenant, form, multi, proof=proof, requester=requester)
    claims, kind = done.claims, "Bearer"
    if proof is not None:
        await spend_proof(ctx, done.client, proof)
        claims["cnf"], kind = {"jkt": proof.jkt}, "DPoP"
    body = answer(tokens.sign(tenant, claims), done.lifetime, claims["scope"], kind=kind)
    # RFC 8693 §2.2.1: the answer says what was issued
    return body[:-1] + b',"issued_token_type":"' + exchange.ACCESS_TOKEN.encode() + b'"}'


async def jwt_bearer_client(
    ctx: ProtocolContext, tenant: TenantEntry, caller: Caller, form: dict[str, str]
) -> ClientEntry:
    """The client the grant's ``assertion`` authenticates; a refused one is ``invalid_grant``
    (RFC 7523 §3.1), still counted by the throttle as a failed authentication."""
    if "assertion" not in form:
        raise InvalidRequestError("assertion is required")
    if assertion.is_assertion(form):
        raise InvalidRequestError("the jwt-bearer grant is authenticated by its assertion alone")
    as_client = {
        **form,
        "client_assertion_type": assertion.ASSERTION_TYPE,
        "client_assertion": form["assertion"],
    }
    try:
        return await ctx.authenticate(tenant, caller, as_client)
    except InvalidClientError as error:
        raise InvalidGrantError("the assertion was not accepted") from error


async def spend_proof(ctx: ProtocolContext, client: ClientEntry, proof: dpop.Proof) -> None:
    """Refuse a proof whose ``jti`` this client has used before, while it could be accepted."""
    until = proof.iat + dpop.MAX_AGE + dpop.AHEAD
    digest = hashlib.sha256(proof.jti.encode()).hexdigest()
    claimed = await ctx.limiter.claim(
        f"dpop:{client.uid}:{digest}", max(1, until - int(time.time()))
    )
    if claimed is None:
        expires_at = datetime.fromtimestamp(until, UTC)
        claimed = await ctx.in_thread(
            remember_assertion, ctx.cache.db, client.pk, "dpop:" + proof.jti, expires_at
        )
    if not claimed:
        raise dpop.InvalidDPoPProofError("the DPoP proof has been used before")


def answer(access_token: str, lifetime: int, scope: str, *, kind: str = "Bearer") -> bytes:
    """Keycloak's answer as compact JSON, written out rather than encoded (the encoder's dict
    walk was ~3 % of the endpoint's own work): the token is base64url and dots and the
    lifetime an int, and the scope is escaped as ``json.dumps`` escapes any string. ``kind``:
    ``Bearer``, or ``DPoP`` for a token bound to a key (RFC 9449 §5)."""
    return (
        f'{{"access_token":"{access_token}","expires_in":{lifetime:d},"refresh_expires_in":0,'
        f'"token_type":"{kind}","not-before-policy":0,"scope":{json_string(scope)}}}'
    ).encode()


def decide_grant(
    tenant: TenantEntry, client: ClientEntry, form: dict[str, str], multi: dict[str, list[str]]
) -> TokenGrant:
    scopes = grant_scopes(split_scope(form.get("scope")), client.scopes, tenant.available_scopes)
    audience = choose_audience(
        multi.get("resource", []), tenant.audience, tenant.allowed_audiences, own=tenant.issuer
    )
    return TokenGrant(
        scopes=scopes,
        audience=audience,
        lifetime=client.token_lifetime or tenant.token_lifetime,
    )
