"""``POST {base}/realms/{tenant}/api-keys/verify``: any API, in any language, checks a key here.

The caller authenticates as a client of the tenant holding ``api_keys:verify``, with HTTP Basic
client credentials or a Bearer access token from the tenant's token endpoint requested with
``resource`` = the tenant's issuer (Gatepass's own audience). The answer is
always 200 with a verify code once the caller is authenticated; only a bad request is an error.

The body is ``{"key": "...", "ip": "203.0.113.9"}``: ``ip``, the address the key came from, is
needed for a key with an IP allowlist (without it such a key answers ``IP_NOT_ALLOWED``).
"""

from __future__ import annotations

import ipaddress
import json
import time
from dataclasses import dataclass

from gatepass import credential_secrets as cs
from gatepass.apikeys.verification import ApiKeyEntry, VerifyCode, evaluate
from gatepass.cache.entries import ClientEntry, TenantEntry
from gatepass.credentials import rules
from gatepass.oauth.context import Caller, ProtocolContext, from_db
from gatepass.oauth.errors import (
    AuthenticationRequiredError,
    InsufficientScopeError,
    InvalidBearerTokenError,
    InvalidRequestError,
)
from gatepass.oauth.introspection import gatepass_token
from gatepass.ops.ratelimit import RateState
from gatepass.tokens.signer import compact_json

VERIFY_SCOPE = "api_keys:verify"
MAX_KEY = 256


# The answer without the key's description, one per code: {"valid":false,"code":"REVOKED"}
BARE_ANSWERS = {
    code: compact_json({"valid": code is VerifyCode.VALID, "code": code.value}).encode()
    for code in VerifyCode
}
DESCRIBED = (VerifyCode.VALID, VerifyCode.RATE_LIMITED)


async def verify(ctx: ProtocolContext, tenant: TenantEntry, caller: Caller, body: bytes) -> bytes:
    await authorize_caller(ctx, tenant, caller)
    key, address = parse_request(body)
    return answer(await check_key(ctx, tenant, key, address))


def answer(checked: KeyCheck) -> bytes:
    """The answer's JSON: ``{"valid": ..., "code": ...}``, then for a valid or rate-limited key
    its description (``describe``, encoded once per snapshot) and its rate-limit window (null
    for a key without a rate limit)."""
    entry = checked.entry
    if entry is None or checked.code not in DESCRIBED:
        return BARE_ANSWERS[checked.code]
    window = checked.rate.json() if checked.rate is not None else b"null"
    return b'%s,%s,"rate_limit":%s}' % (BARE_ANSWERS[checked.code][:-1], entry.described, window)


# Not frozen: one is made per request, and a frozen dataclass takes three times as long to make.
@dataclass(slots=True)
class KeyCheck:
    """One use of an API key: its code, its snapshot when known, and its rate-limit window."""

    code: VerifyCode
    entry: ApiKeyEntry | None = None
    rate: RateState | None = None

    @property
    def valid(self) -> bool:
        return self.code is VerifyCode.VALID


async def check_key(
    ctx: ProtocolContext, tenant: TenantEntry, key: str, address: str | None
) -> KeyCheck:
    """Looks the key up and, if it is good and ``address`` is on its allowlist (if it has one),
    counts the use against its rate limit (if it has one: a refused address spends none) and
    notes it for the batched last-use write. The verify endpoint and the gateway check both
    spend a key this way."""
    entry = await lookup(ctx, tenant, key)
    now = time.time()
    code = evaluate(entry, now)
    if code is not VerifyCode.VALID or entry is None:
        return KeyCheck(code, entry)
    if not rules.allows(entry.networks, address):
        return KeyCheck(VerifyCode.IP_NOT_ALLOWED, entry)
    rate = None
    if entry.rate_limit is not None and entry.rate_period is not None:
        bucket = f"{entry.tenant_id}:{entry.key_id}"  # key ids are random, never reused
        rate = await ctx.limiter.hit(bucket, entry.rate_limit, entry.rate_period)
        if not rate.allowed:
            return KeyCheck(VerifyCode.RATE_LIMITED, entry, rate)
    ctx.cache.note_key_use(entry.pk, entry.secret_id, now)
    return KeyCheck(code, entry, rate)


async def authorize_caller(
    ctx: ProtocolContext, tenant: TenantEntry, caller: Caller
) -> ClientEntry:
    """The calling client, which must hold ``api_keys:verify``; 401 or 403 otherwise."""
    authorization = caller.authorization
    if authorization is None:
        raise AuthenticationRequiredError(
            "authenticate with client credentials or a Bearer token", realm=tenant.slug
        )
    scheme, _, credentials = authorization.strip().partition(" ")
    if scheme.lower() == "bearer":
        client, scopes = await _bearer(ctx, tenant, credentials.strip())
    else:
        client = await ctx.authenticate(tenant, caller, {})
        scopes = client.scopes
    if VERIFY_SCOPE not in scopes or VERIFY_SCOPE not in client.scopes:
        raise InsufficientScopeError(VERIFY_SCOPE, realm=tenant.slug)
    return client


async def _bearer(
    ctx: ProtocolContext, tenant: TenantEntry, token: str
) -> tuple[ClientEntry, tuple[str, ...]]:
    active = await gatepass_token(ctx, tenant, token)
    if active is None:
        raise InvalidBearerTokenError(
            f"the access token is not valid: use an active token requested with"
            f" resource={tenant.issuer}",
            realm=tenant.slug,
        )
    claims, client = active
    return client, tuple(str(claims.get("scope", "")).split())


def parse_request(body: bytes) -> tuple[str, str | None]:
    """The key, and the address it came from (if the caller says)."""
    try:
        # json.loads(body), without its guess of the encoding for the usual body: one that
        # starts with "{" and no NUL is UTF-8 by the same rule (RFC 8259 §8.1)
        plain = body[:1] == b"{" and body[1:2] != b"\x00"
        document = json.loads(body.decode("utf-8", "surrogatepass") if plain else body)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise InvalidRequestError('the body must be JSON: {"key": "..."}') from None
    if not isinstance(document, dict) or not isinstance(document.get("key"), str):
        raise InvalidRequestError('the body must be JSON: {"key": "..."}')
    address = document.get("ip")
    if address is not None and not _is_ip(address):
        raise InvalidRequestError('"ip" must be an IPv4 or IPv6 address')
    return str(document["key"]), address


def _is_ip(value: object) -> bool:
    try:
        ipaddress.ip_address(value if isinstance(value, str) and len(value) <= 45 else "")
    except ValueError:
        return False
    return True


async def lookup(ctx: ProtocolContext, tenant: TenantEntry, key: str) -> ApiKeyEntry | None:
    """The key's snapshot; a malformed key is NOT_FOUND without touching the database. A key
    found in memory needs no checksum check: only a well-formed key was ever stored."""
    if len(key) > MAX_KEY:
        return None
    digest = ctx.hasher.digest(key)
    hit, entry = ctx.cache.cached_api_key(tenant.id, digest)
    if entry is not None or not cs.is_well_formed(cs.SecretKind.API_KEY, key):
        return entry
    if hit:
        return None
    if await ctx.cache.surely_absent(digest):
        return None
    return await from_db(ctx.cache.load_api_key, tenant.id, digest)
