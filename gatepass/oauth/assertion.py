"""Client authentication with a signed JWT: ``private_key_jwt`` (RFC 7523 §2.2 and §3,
OpenID Connect Core §9), at every endpoint that authenticates a client.

The client sends ``client_assertion_type`` (the JWT bearer URN) and ``client_assertion``: a JWT
it signed with a private key whose public half it registered (``clients.keys``), or publishes at
its ``jwks_uri`` (fetched and cached by ``publickeys.remote``). The JWT names
the client in ``iss`` and ``sub``, the authorization server in ``aud`` (the issuer or one of its
endpoint URLs), expires soon (``exp`` at most ``MAX_AHEAD`` seconds ahead), and is used once
(``jti``, remembered until it expires: in Redis when there is one, else in the database).
Once the client is identified, what follows (status, IP allowlist, throttle) is what a secret
goes through. Every failure is the one ``invalid_client`` with a fixed description.

Workload identity federation (``clients.federation``) uses the same parameters: the assertion
is then a token another issuer made for the workload (its ``iss`` is not the client ID), and
the request must name the client with ``client_id``. The issuer must be one the tenant trusts
and the token must satisfy one of the client's rules; its keys come from the issuer (cached as
a ``jwks_uri`` is). Such a token is reused by its workload until it expires (a Kubernetes
service-account token for up to an hour, say), so its ``jti`` is not spent; its lifetime must
be at most ``FEDERATED_MAX_AHEAD`` (a token without ``exp``, like Kubernetes' legacy ones, is
refused).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import jwt

from gatepass.cache.entries import ClientEntry, TenantEntry
from gatepass.clients.keys import remember_assertion
from gatepass.clients.service import CLIENT_ID
from gatepass.oauth.errors import InvalidRequestError
from gatepass.publickeys.jwk import PublicKey
from gatepass.text import is_plain

if TYPE_CHECKING:
    from gatepass.oauth.context import Caller, ProtocolContext

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
METHOD = "private_key_jwt"
FEDERATED = "federated_jwt"  # how the log and the throttle name a trusted issuer's token
FEDERATED_MAX_AHEAD = 86400  # seconds: a trusted issuer's token may live at most a day
# seconds: a longer-lived assertion is refused. One hour, as Okta bounds it: Authlib's
# ``PrivateKeyJWT`` signs assertions valid for one hour, and should work as it comes.
MAX_AHEAD = 3600
LEEWAY = 30  # seconds of clock skew allowed on exp, nbf and iat
MAX_JTI = 200
OIDC = "/protocol/openid-connect"
# ``aud`` may name the issuer or any endpoint a client authenticates at
ENDPOINTS = ("", f"{OIDC}/token", f"{OIDC}/token/introspect", f"{OIDC}/revoke")


class AssertionRejectedError(Exception):
    """The assertion does not authenticate its client; ``reason`` is for the log only."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Verified:
    jti: str
    expires_at: int


def is_assertion(form: dict[str, str]) -> bool:
    return "client_assertion" in form or "client_assertion_type" in form


@dataclass(frozen=True, slots=True)
class Unverified:
    """An assertion read once, before its signature is checked: its header and claims say
    which client it claims to be and which key to check it with, nothing more."""

    token: str
    header: dict[str, Any]
    claims: dict[str, Any]

    @classmethod
    def read(cls, token: str) -> Unverified | None:
        try:
            complete = jwt.decode_complete(token, options={"verify_signature": False})
        except jwt.PyJWTError:
            return None
        return cls(token, complete["header"], complete["payload"])

    def text(self, claim: str) -> str | None:
        value = self.claims.get(claim)
        return value if isinstance(value, str) else None


def claimed_client(
    authorization: str | None, form: dict[str, str]
) -> tuple[str, Unverified | None]:
    """``(client_id, assertion)`` as the request claims them, not yet verified: the client ID
    of the body if given (the assertion must then name it), else the assertion's subject."""
    if authorization is not None or "client_secret" in form:
        raise InvalidRequestError("use only one client authentication method")
    read = Unverified.read(form.get("client_assertion", ""))
    if "client_id" in form:
        return form["client_id"], read
    return (read.text("sub") if read is not None else None) or "", read


def verify(
    token: str | Unverified,
    keys: tuple[PublicKey, ...],
    *,
    client_id: str,
    audiences: Collection[str],
) -> Verified:
    """The assertion's ``jti`` and expiry if ``keys`` signed it for ``client_id``."""
    read = Unverified.read(token) if isinstance(token, str) else token
    if read is None:
        raise AssertionRejectedError("malformed_assertion")
    header, token = read.header, read.token
    key = _key_for(header, keys)
    try:
        claims = jwt.decode(
            token,
            key.key,
            algorithms=[str(header.get("alg"))],
            audience=list(audiences),
            issuer=client_id,
            leeway=LEEWAY,
            options={"require": ["iss", "sub", "aud", "exp", "jti"]},
        )
    except jwt.PyJWTError as error:
        raise AssertionRejectedError(f"assertion_{type(error).__name__}") from None
    return _checked(claims, client_id)


def _key_for(header: dict[str, Any], keys: tuple[PublicKey, ...]) -> PublicKey:
    kid = header.get("kid")
    found = [k for k in keys if k.kid == kid] if kid is not None else list(keys[:1])
    if kid is None and len(keys) != 1:
        raise AssertionRejectedError("kid_required")
    if not found:
        raise AssertionRejectedError("unknown_kid")
    if header.get("alg") not in found[0].algorithms:  # never none, never HS*
        raise AssertionRejectedError("algorithm_not_allowed")
    return found[0]


def _checked(claims: dict[str, Any], client_id: str) -> Verified:
    if claims["sub"] != client_id:
        raise AssertionRejectedError("subject_mismatch")
    exp = claims["exp"]  # PyJWT takes a string of digits too: a NumericDate is a number
    if isinstance(exp, bool) or not isinstance(exp, int | float):
        raise AssertionRejectedError("bad_exp")
    if exp > time.time() + MAX_AHEAD + LEEWAY:
        raise AssertionRejectedError("exp_too_far")
    jti = claims["jti"]
    if not isinstance(jti, str) or not 0 < len(jti) <= MAX_JTI or not is_plain(jti):
        raise AssertionRejectedError("bad_jti")
    return Verified(jti, int(exp))


async def authenticate(
    ctx: ProtocolContext, tenant: TenantEntry, caller: Caller, form: dict[str, str]
) -> ClientEntry:
    """The client the request's assertion authenticates, or ``invalid_client``."""
    if form.get("client_assertion_type") != ASSERTION_TYPE or "client_assertion" not in form:
        raise InvalidRequestError(f"client_assertion_type must be {ASSERTION_TYPE}")
    client_id, read = claimed_client(caller.authorization, form)
    method = METHOD
    verified: Verified | None = None
    try:
        if read is None:
            raise AssertionRejectedError("malformed_assertion")
        client = await _keyed_client(ctx, tenant, client_id)
        issuer = read.text("iss")
        if client.federation and issuer != client_id:
            method = FEDERATED
            await verify_federated(ctx, tenant, client, read)
        else:
            keys = await _keys_of(ctx, client, read.header.get("kid"))
            audiences = [tenant.issuer + path for path in ENDPOINTS]
            verified = verify(read, keys, client_id=client_id, audiences=audiences)
    except AssertionRejectedError as rejected:
        await ctx.refuse(tenant, caller, client_id, method, rejected.reason)
    ctx.check_network(tenant, caller, client, method)
    if verified is not None and not await first_use(ctx, client, verified):
        await ctx.refuse(tenant, caller, client_id, method, "replayed_jti")
    ctx.cache.note_use(client.pk, None, time.time())  # dormancy reads it as for a secret
    return client


async def verify_federated(
    ctx: ProtocolContext,
    tenant: TenantEntry,
    client: ClientEntry,
    read: Unverified,
) -> None:
    """Accept a trusted issuer's token that one of the client's rules matches, or refuse it.

    Nothing is fetched for an issuer the tenant does not trust or no rule of the client names,
    so an anonymous caller cannot make Gatepass call a URL of its choosing.
    """
    issuer, header = read.text("iss"), read.header
    trusted = tenant.trusted_issuers.get(issuer) if issuer is not None else None
    if trusted is None or all(rule.issuer != issuer for rule in client.federation):
        raise AssertionRejectedError("untrusted_issuer")
    kid = header.get("kid")
    kid = kid if isinstance(kid, str) else None
    if trusted.keys:
        keys = trusted.keys
    elif trusted.jwks_uri is not None:
        keys = await ctx.remote_keys.keys(trusted.jwks_uri, kid)
    else:
        keys = await ctx.remote_keys.issuer_keys(trusted.issuer, kid)
    if not keys:
        raise AssertionRejectedError("issuer_keys_unavailable")
    key = _key_for(header, keys)
    try:
        claims = jwt.decode(
            read.token,
            key.key,
            algorithms=[str(header.get("alg"))],
            issuer=trusted.issuer,
            leeway=LEEWAY,
            options={"require": ["iss", "sub", "aud", "exp"], "verify_aud": False},
        )
    except jwt.PyJWTError as error:
        raise AssertionRejectedError(f"federated_{type(error).__name__}") from None
    exp = claims["exp"]
    if isinstance(exp, bool) or not isinstance(exp, int | float):
        raise AssertionRejectedError("bad_exp")
    if exp > time.time() + FEDERATED_MAX_AHEAD + LEEWAY:
        raise AssertionRejectedError("exp_too_far")
    audiences = frozenset(tenant.issuer + path for path in ENDPOINTS)
    if not any(rule.matches(claims, audiences) for rule in client.federation):
        raise AssertionRejectedError("no_rule_matches")


async def _keyed_client(ctx: ProtocolContext, tenant: TenantEntry, client_id: str) -> ClientEntry:
    if not CLIENT_ID.match(client_id):
        raise AssertionRejectedError("malformed_assertion")
    client = await ctx.client(tenant.id, client_id)
    if client is None:
        raise AssertionRejectedError("unknown_client")
    if not client.keys and client.jwks_uri is None and not client.federation:
        raise AssertionRejectedError("client_has_no_keys")  # a secret client: its secret only
    if not client.usable(time.time()):
        raise AssertionRejectedError("not_usable")
    return client


async def _keys_of(ctx: ProtocolContext, client: ClientEntry, kid: object) -> tuple[PublicKey, ...]:
    """The client's keys: stored, or fetched from its JWKS URL (cached; an unknown ``kid``
    refetches at most once a minute, see ``publickeys.remote``)."""
    if client.jwks_uri is None:
        if not client.keys:  # a client with federation rules alone
            raise AssertionRejectedError("client_has_no_keys")
        return client.keys
    keys = await ctx.remote_keys.keys(client.jwks_uri, kid if isinstance(kid, str) else None)
    if not keys:
        raise AssertionRejectedError("jwks_uri_unavailable")
    return keys


async def first_use(ctx: ProtocolContext, client: ClientEntry, verified: Verified) -> bool:
    """Whether no process has accepted this ``jti`` from the client before (until it expires)."""
    until = verified.expires_at + LEEWAY
    digest = hashlib.sha256(verified.jti.encode()).hexdigest()
    claimed = await ctx.limiter.claim(f"jti:{client.uid}:{digest}", until - int(time.time()))
    if claimed is not None:
        return claimed
    expires_at = datetime.fromtimestamp(until, UTC)
    return await ctx.in_thread(
        remember_assertion, ctx.cache.db, client.pk, verified.jti, expires_at
    )
