"""``{base}/realms/{tenant}/gateway/check``: the credential check an API gateway asks before
it forwards a request, so that an API is protected with no change to its code.

Shaped for nginx ``auth_request``, Traefik ``ForwardAuth`` and Envoy's HTTP ``ext_authz``:
any method, no body read, the original request's headers. The credential is found where the
SDK finds it (RFC 6750 §2; seeds 002 and 003): ``Authorization: Bearer`` (a Gatepass access
token), ``Authorization-PSK`` or ``X-API-Key`` (an API key), or ``apikey`` in the original
request's query string. That query string is the check's own when the gateway appends the
original path to the check URL (Envoy: ``.../gateway/check/v1/things?apikey=...``); otherwise
it is in ``X-Original-URI`` (the nginx convention) or ``X-Forwarded-Uri`` (Traefik).

What the route needs is configured by the gateway: ``permission`` and ``audience`` query
parameters on the check URL (only when nothing follows ``/check``: after it, the query is the
caller's) and the ``X-Gatepass-Permission`` / ``X-Gatepass-Audience`` headers (Envoy's
``headers_to_add``, nginx's ``proxy_set_header``). Requirements from every source add up:
a caller who forges one of these headers can only make its own request harder to pass.

Answers: 200 with ``X-Gatepass-Subject``, ``-Kind``, ``-Scopes`` (space-separated, as OAuth
writes scopes) and ``-Groups`` (comma-separated), for the gateway to pass upstream; 401 with a
bare ``Bearer`` challenge when there is no credential, 401 ``invalid_token`` when it is not
good, 403 ``insufficient_scope``, 400 ``invalid_request`` for two credentials, 429 with
``Retry-After`` when an API key's rate limit is spent. Failures say nothing of why a credential
is not good; the metric's outcome label does.

A token bound to a key (DPoP, RFC 9449) is refused here, sent as ``Bearer`` (§7.1: a stolen
token must not work without its key) and sent as ``DPoP`` alike: checking its proof needs the
original request's exact method and URL, which the gateways above do not all pass reliably.
Protect routes taking bound tokens with an SDK, which checks the proof in the API itself.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import parse_qsl, quote, urlsplit

from gatepass.cache.entries import TenantEntry
from gatepass.oauth.claims import for_gatepass
from gatepass.oauth.context import ProtocolContext
from gatepass.oauth.errors import (
    AuthenticationRequiredError,
    InsufficientScopeError,
    InvalidBearerTokenError,
    InvalidRequestError,
    OAuthError,
)
from gatepass.oauth.introspection import active_token, bound
from gatepass.oauth.verify import check_key

PATH = "gateway/check"
KEY_HEADERS = frozenset({"authorization-psk", "x-api-key"})
URI_HEADERS = ("x-original-uri", "x-forwarded-uri")
PERMISSION_HEADER = "x-gatepass-permission"
AUDIENCE_HEADER = "x-gatepass-audience"
QUERY_KEY = "apikey"
MAX_NEEDS = 32  # permissions or audiences one check may name
INVALID = "the credential is not valid"
# Group names may hold spaces and any letter: the header lists them comma-separated (no name
# has a comma), each percent-encoded past ASCII, so a plain name reads as itself.
GROUP_SAFE = " .:/-_"


@dataclass(frozen=True, slots=True)
class Needs:
    """What the gateway's route requires of a caller: every permission, every audience."""

    permissions: tuple[str, ...] = ()
    audiences: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Identity:
    subject: str
    kind: str  # "oauth_client" or "api_key", as the SDK's Caller says
    scopes: tuple[str, ...]
    groups: tuple[str, ...]

    def headers(self) -> list[tuple[bytes, bytes]]:
        return [
            (b"cache-control", b"no-store"),
            (b"x-gatepass-subject", self.subject.encode()),
            (b"x-gatepass-kind", self.kind.encode()),
            (b"x-gatepass-scopes", " ".join(self.scopes).encode()),
            (
                b"x-gatepass-groups",
                ",".join(quote(g, safe=GROUP_SAFE) for g in self.groups).encode(),
            ),
        ]


@dataclass(frozen=True, slots=True)
class Credential:
    kind: str  # "bearer", "dpop" or "api_key"
    value: str


@dataclass(frozen=True, slots=True)
class CheckRequest:
    """A gateway's question, parsed: the caller's credential (if any) and the route's needs."""

    credential: Credential | None
    needs: Needs


class RateLimitedError(OAuthError):
    """The API key's rate limit is spent for this window (RFC 6585 §4)."""

    error = "rate_limited"
    status = 429

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            "the API key's rate limit is reached",
            headers=((b"retry-after", str(retry_after).encode()),),
        )


def parse(headers: list[tuple[bytes, bytes]], appended: str, query: bytes) -> CheckRequest:
    """``appended``: what follows ``/check`` in the path (the original path, from Envoy)."""
    text = [(name.decode("latin-1"), value.decode("latin-1")) for name, value in headers]
    own_query = parse_qsl(query.decode("latin-1"), keep_blank_values=True)
    original = own_query if appended else _original_query(text)
    config = [] if appended else own_query
    found = [
        *_from_headers(text),
        *(Credential("api_key", v) for k, v in original if k == QUERY_KEY),
    ]
    if len(found) > 1:
        raise InvalidRequestError(f"{len(found)} credentials: send one")
    needs = Needs(
        _listed(config, text, "permission", PERMISSION_HEADER),
        _listed(config, text, "audience", AUDIENCE_HEADER),
    )
    return CheckRequest(found[0] if found else None, needs)


def _from_headers(headers: Iterable[tuple[str, str]]) -> list[Credential]:
    found = []
    for name, value in headers:
        if name == "authorization":
            scheme, _, token = value.strip().partition(" ")
            if scheme.lower() in ("bearer", "dpop"):
                found.append(Credential(scheme.lower(), token.strip()))
        elif name in KEY_HEADERS:
            found.append(Credential("api_key", value.strip()))
    return found


def _original_query(headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    for name, value in headers:
        if name in URI_HEADERS:
            try:
                return parse_qsl(urlsplit(value).query, keep_blank_values=True)
            except ValueError:
                raise InvalidRequestError(f"{name} is not a URI") from None
    return []


def _listed(
    query: list[tuple[str, str]], headers: list[tuple[str, str]], parameter: str, header: str
) -> tuple[str, ...]:
    values = [v for k, v in query if k == parameter] + [v for k, v in headers if k == header]
    names = dict.fromkeys(n for v in values for n in v.replace(",", " ").split())
    if len(names) > MAX_NEEDS:
        raise InvalidRequestError(f"more than {MAX_NEEDS} values of {parameter}")
    return tuple(names)


async def check(
    ctx: ProtocolContext, tenant: TenantEntry, request: CheckRequest, *, source: str
) -> Identity:
    """The caller's identity if its credential is good and meets the route's needs."""
    credential = request.credential
    if credential is None:
        raise AuthenticationRequiredError("send a Bearer token or an API key", realm=tenant.slug)
    if credential.kind == "api_key":
        identity = await _api_key(ctx, tenant, credential.value, request.needs, source)
    elif credential.kind == "bearer":
        identity = await _token(ctx, tenant, credential.value, request.needs)
    else:  # the original request's proof is not checked here: see the module's docstring
        raise _invalid(tenant, "dpop")
    missing = [p for p in request.needs.permissions if p not in identity.scopes]
    if missing:
        raise InsufficientScopeError(" ".join(missing), realm=tenant.slug)
    return identity


async def _api_key(
    ctx: ProtocolContext, tenant: TenantEntry, key: str, needs: Needs, source: str
) -> Identity:
    if needs.audiences:  # an API key has no audience: a route that names one takes tokens only
        raise _invalid(tenant, "key_for_audience")
    checked = await check_key(ctx, tenant, key, source)
    if checked.rate is not None and not checked.rate.allowed:
        raise RateLimitedError(max(1, checked.rate.reset - int(time.time())))
    if not checked.valid or checked.entry is None:
        raise _invalid(tenant, checked.code.value.lower())
    entry = checked.entry
    return Identity(entry.key_id, "api_key", entry.scopes, entry.groups)


async def _token(ctx: ProtocolContext, tenant: TenantEntry, token: str, needs: Needs) -> Identity:
    active = await active_token(ctx, tenant, token)
    if active is None:
        raise _invalid(tenant, "token_inactive")
    claims, client = active
    if bound(claims):  # a DPoP-bound token sent as a bearer token (RFC 9449 §7.1)
        raise _invalid(tenant, "token_bound")
    audience = claims.get("aud")
    audiences = audience if isinstance(audience, list) else [audience]
    # A token made for Gatepass itself (its management API) is never good for an API.
    if for_gatepass(claims, tenant.issuer) or any(a not in audiences for a in needs.audiences):
        raise _invalid(tenant, "token_audience")
    scopes = tuple(str(claims.get("scope", "")).split())
    groups = tuple(str(g) for g in claims.get("groups", ()))
    if client is None:  # a token got by exchanging an API key: it acts as that key
        return Identity(str(claims["client_id"]), "api_key", scopes, groups)
    return Identity(client.client_id, "oauth_client", scopes, groups)


def _invalid(tenant: TenantEntry, outcome: str) -> InvalidBearerTokenError:
    error = InvalidBearerTokenError(INVALID, realm=tenant.slug)
    error.outcome = outcome
    return error
