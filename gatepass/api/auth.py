"""Who is calling the management API, and may they do this.

Two ways in:

- ``Authorization: Bearer <access token>`` from the tenant's own token endpoint, requested with
  ``resource`` = the tenant's issuer (a token for any other audience could have been replayed by
  the API it was meant for). The token must still be active (introspection's rules) and carry
  ``tenant:admin``, ``credentials:manage`` or ``credentials:read``; the strongest of these is the
  caller's role.
- The console session cookie. Requests that change anything must also send the session's CSRF
  token in ``X-CSRF-Token``.

Failed authentication with a token and every refusal for want of a role are audited, counted
in one row per tenant, source address, action, reason and minute.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, TypeVar

import anyio.to_thread
from fastapi import Depends, Path, Request
from fastapi.responses import Response
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from gatepass.api.problems import ProblemError
from gatepass.audit.service import Actor
from gatepass.cache.entries import TenantEntry
from gatepass.oauth.context import ProtocolContext
from gatepass.oauth.errors import RealmNotFoundError, ServiceUnavailableError
from gatepass.oauth.introspection import gatepass_token
from gatepass.sessions import service as sessions
from gatepass.users.roles import Capability, role_for_scopes, role_has

SESSION_COOKIE = "gatepass_session"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
T = TypeVar("T")

TenantSlug = Annotated[
    str, Path(description="The tenant (realm) slug.", pattern=r"^[a-z0-9-]{1,63}$")
]


@dataclass(frozen=True)
class Principal:
    """An authenticated caller within one tenant."""

    tenant_id: int
    tenant_slug: str
    role: str
    actor: Actor
    user_id: int | None = None  # set for a console user
    session_token: str | None = None  # set when signed in with the console cookie

    def can(self, capability: Capability) -> bool:
        return role_has(self.role, capability)


def set_session_cookie(response: Response, token: str, *, secure: bool) -> None:
    """The console session cookie, as both the API's and the console's sign-in set it."""
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(sessions.MAX_AGE.total_seconds()),
        path="/",
        secure=secure,
        httponly=True,
        samesite="lax",
    )


def source(request: Request) -> tuple[str, str]:
    """The caller's address and user agent, as recorded in audit events."""
    host = request.client.host if request.client else ""
    return host, request.headers.get("user-agent", "")[:400]


async def tenant_entry(request: Request, slug: str) -> TenantEntry:
    ctx: ProtocolContext = request.app.state.protocol
    try:
        return await ctx.tenant(slug)
    except RealmNotFoundError:
        raise ProblemError(404, "tenant_not_found", f"tenant '{slug}' does not exist") from None
    except ServiceUnavailableError:
        raise unavailable() from None


def unavailable() -> ProblemError:
    """503 with Retry-After: the database is down, or no pooled connection came free in time."""
    return ProblemError(
        503,
        "unavailable",
        "the database is unavailable; retry shortly",
        headers={"retry-after": "2"},
    )


async def authenticate(request: Request, tenant: TenantSlug) -> Principal:
    entry = await tenant_entry(request, tenant)
    authorization = request.headers.get("authorization")
    if authorization is not None:
        return await _bearer(request, entry, authorization)
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        return await _session(request, entry, token)
    raise _unauthenticated(entry.slug, "authentication required: send a Bearer access token")


async def _bearer(request: Request, entry: TenantEntry, authorization: str) -> Principal:
    ctx: ProtocolContext = request.app.state.protocol
    scheme, _, token = authorization.strip().partition(" ")
    ip, agent = source(request)
    if scheme.lower() != "bearer" or not token.strip():
        raise _unauthenticated(
            entry.slug, "use a Bearer access token from this tenant's token endpoint"
        )
    try:
        active = await gatepass_token(ctx, entry, token.strip())
    except ServiceUnavailableError:
        raise unavailable() from None
    if active is None:
        await _audit(
            request,
            entry.id,
            Actor(kind="client", id="(unknown)", source_ip=ip, user_agent=agent),
            "api.auth_failed",
            {"reason": "invalid_token"},
        )
        raise _unauthenticated(
            entry.slug,
            "the access token is not valid: use an active token requested with"
            f" resource={entry.issuer}",
            error="invalid_token",
        )
    claims, client = active
    scopes = tuple(str(claims.get("scope", "")).split())
    role = role_for_scopes([s for s in scopes if s in client.scopes])
    actor = Actor(
        kind="client",
        id=client.client_id,
        source_ip=ip,
        user_agent=agent,
        role=role,
        subject=f"client:{client.uid}",
    )
    if role is None:
        await _audit(request, entry.id, actor, "api.access_denied", {"reason": "no_api_scope"})
        raise ProblemError(
            403,
            "insufficient_scope",
            "the token needs scope credentials:read, credentials:manage or tenant:admin",
            headers={
                "www-authenticate": f'Bearer realm="{entry.slug}", error="insufficient_scope",'
                ' scope="credentials:manage"'
            },
        )
    return Principal(tenant_id=entry.id, tenant_slug=entry.slug, role=role, actor=actor)


async def _session(request: Request, entry: TenantEntry, token: str) -> Principal:
    services = request.app.state.services
    keys: sessions.SessionKeys = request.app.state.session_keys
    ip, agent = source(request)

    def load() -> Principal | None:
        with services.db.transaction() as db:
            row = sessions.resolve(db, entry.id, token, keys=keys)
            if row is None:
                return None
            user = row.user
            return Principal(
                tenant_id=entry.id,
                tenant_slug=entry.slug,
                role=user.role,
                actor=Actor(
                    kind="user",
                    id=user.email,
                    source_ip=ip,
                    user_agent=agent,
                    role=user.role,
                    subject=f"user:{user.id}",  # user rows are never deleted: ids never reused
                ),
                user_id=user.id,
                session_token=token,
            )

    principal = await threaded(load)
    if principal is None:
        raise _unauthenticated(entry.slug, "the session has ended: sign in again")
    if request.method not in SAFE_METHODS:
        presented = request.headers.get(CSRF_HEADER, "")
        if not keys.csrf_matches(token, presented):
            await _audit(
                request, entry.id, principal.actor, "api.access_denied", {"reason": "csrf"}
            )
            raise ProblemError(403, "csrf_failed", "missing or wrong X-CSRF-Token header")
    return principal


def allow(capability: Capability) -> Callable[..., Awaitable[Principal]]:
    """A dependency: the caller, who must hold ``capability`` (403 and an audit record if not)."""

    async def check(
        request: Request, principal: Annotated[Principal, Depends(authenticate)]
    ) -> Principal:
        if not principal.can(capability):
            await _audit(
                request,
                principal.tenant_id,
                principal.actor,
                "api.access_denied",
                {"reason": "role", "role": principal.role, "needs": capability.value},
            )
            raise ProblemError(
                403,
                "forbidden",
                f"a {principal.role} may not do this (needs the {capability.value} capability)",
            )
        return principal

    return check


Reader = Annotated[Principal, Depends(allow(Capability.READ))]
Manager = Annotated[Principal, Depends(allow(Capability.MANAGE))]
Admin = Annotated[Principal, Depends(allow(Capability.ADMINISTER))]


def _unauthenticated(realm: str, detail: str, *, error: str | None = None) -> ProblemError:
    challenge = f'Bearer realm="{realm}"' + (f', error="{error}"' if error else "")
    return ProblemError(401, "unauthenticated", detail, headers={"www-authenticate": challenge})


async def _audit(
    request: Request, tenant_id: int, actor: Actor, action: str, details: dict[str, str]
) -> None:
    services = request.app.state.services
    details = {"method": request.method, "path": request.url.path[:200], **details}
    reason = details.pop("reason")

    def write() -> None:
        services.failures.record(
            tenant_id=tenant_id, actor=actor, action=action, reason=reason, details=details
        )

    await threaded(write)


async def threaded(work: Callable[[], T]) -> T:
    """Run blocking database work off the event loop; a database outage answers 503, and so
    does a pool with no connection free in time (``TimeoutError`` is no ``OperationalError``)."""
    try:
        return await anyio.to_thread.run_sync(work)
    except (OperationalError, PoolTimeoutError):
        raise unavailable() from None
