"""What every protocol endpoint shares: cache, hasher, metrics, and client authentication."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import NoReturn, TypeVar

import anyio.to_thread
import structlog
from sqlalchemy.exc import SQLAlchemyError

from gatepass import credential_secrets as cs
from gatepass.cache.entries import ClientEntry, TenantEntry
from gatepass.cache.store import CredentialCache
from gatepass.credentials import rules
from gatepass.oauth import assertion
from gatepass.oauth.dpop import Nonces
from gatepass.oauth.errors import (
    InvalidClientError,
    RealmNotFoundError,
    ServiceUnavailableError,
    ThrottledClientError,
)
from gatepass.oauth.requests import client_credentials
from gatepass.oauth.throttle import ClientThrottle
from gatepass.ops.logging import redact
from gatepass.ops.metrics import Metrics
from gatepass.ops.ratelimit import RateLimiter
from gatepass.publickeys.remote import RemoteKeySets

log = structlog.get_logger("gatepass.oauth")
T = TypeVar("T")

# One fixed description for every way client authentication can fail (no oracle for callers).
AUTH_FAILED = "client authentication failed"
MAX_CLIENT_ID = 100


# Not frozen: one is made per request, and a frozen dataclass takes three times as long to make.
@dataclass(slots=True)
class Caller:
    """What a protocol request says about its caller: its Authorization header and address."""

    authorization: str | None
    source: str = ""
    dpop: str | None = None  # its DPoP proof (RFC 9449), if it sent one


@dataclass(frozen=True)
class ProtocolContext:
    cache: CredentialCache
    hasher: cs.SecretHasher
    metrics: Metrics
    limiter: RateLimiter
    throttle: ClientThrottle
    remote_keys: RemoteKeySets  # JWKS URLs of clients and trusted issuers, fetched on demand
    nonces: Nonces  # DPoP server nonces, for tenants that require them

    async def tenant(self, slug: str) -> TenantEntry:
        hit, entry = self.cache.cached_tenant(slug)
        if not hit:
            entry = await from_db(self.cache.load_tenant, slug)
        if entry is None:
            raise RealmNotFoundError("realm does not exist")
        return entry

    async def client(self, tenant_id: int, client_id: str) -> ClientEntry | None:
        hit, entry = self.cache.cached_client(tenant_id, client_id)
        if hit:
            return entry
        return await from_db(self.cache.load_client, tenant_id, client_id)

    async def authenticate(
        self, tenant: TenantEntry, caller: Caller, form: dict[str, str]
    ) -> ClientEntry:
        """The client named by the request's credentials, or ``invalid_client``.

        A wrong secret is counted (``oauth.throttle``); past the limit the answer is 429. A
        right secret from an address off the client's IP allowlist is ``invalid_client`` too,
        counted as no failure (the secret was right) and as no use. A client assertion
        (``private_key_jwt``) goes through ``oauth.assertion``, then the same checks.
        """
        if assertion.is_assertion(form):
            return await assertion.authenticate(self, tenant, caller, form)
        creds = client_credentials(caller.authorization, form, realm=tenant.slug)
        client = None
        if len(creds.client_id) <= MAX_CLIENT_ID:
            # A client in memory is taken without checking the secret's checksum: a secret
            # that fails it matches none of the client's secrets, and the refusal below says
            # why. Only a lookup in the database must wait for a plausible secret.
            hit, client = self.cache.cached_client(tenant.id, creds.client_id)
            if not hit and plausible(creds.client_id, creds.secret):
                client = await from_db(self.cache.load_client, tenant.id, creds.client_id)
        now = time.time()
        usable = client is not None and client.usable(now)
        live = client.live_secrets(now) if client is not None and usable else ()
        index = self.hasher.matches(creds.secret, tuple(s.digest for s in live))
        if client is None or index is None:
            reason = _reason(client, usable, creds.secret)
            await self.refuse(tenant, caller, creds.client_id, creds.method.value, reason)
        self.check_network(tenant, caller, client, creds.method.value)
        self.cache.note_use(client.pk, live[index].id, now)
        return client

    async def refuse(
        self, tenant: TenantEntry, caller: Caller, client_id: str, method: str, reason: str
    ) -> NoReturn:
        """Count a failed authentication and answer it: ``invalid_client``, or 429 past the
        throttle's limit."""
        verdict = await self.throttle.failed(tenant.id, client_id, caller.source)
        if not verdict.repeated:  # a flood of throttled attempts is logged once per window
            log.info(
                "client authentication failed",
                tenant=tenant.slug,
                client_id=redact(client_id),
                method=method,
                reason=reason,
                throttled=bool(verdict.wait),
            )
        if verdict.wait:
            raise ThrottledClientError(verdict.wait)
        raise InvalidClientError(AUTH_FAILED, realm=tenant.slug)

    def check_network(
        self, tenant: TenantEntry, caller: Caller, client: ClientEntry, method: str
    ) -> None:
        """``invalid_client`` for a client authenticated from off its IP allowlist."""
        if not rules.allows(client.networks, caller.source):
            log.info(
                "client authentication failed",
                tenant=tenant.slug,
                client_id=redact(client.client_id),
                method=method,
                reason="ip_not_allowed",
                source=caller.source,
            )
            raise InvalidClientError(AUTH_FAILED, realm=tenant.slug)

    async def in_thread(self, load: Callable[..., T], *args: object) -> T:
        """``load(*args)`` on a worker thread; a database error is ``temporarily_unavailable``."""
        return await from_db(load, *args)


def plausible(client_id: str, secret: str) -> bool:
    """Worth a lookup: a client ID of sane length and a secret with a valid checksum."""
    return len(client_id) <= MAX_CLIENT_ID and cs.is_well_formed(
        cs.SecretKind.CLIENT_SECRET, secret
    )


def _reason(client: ClientEntry | None, usable: bool, secret: str) -> str:
    if not cs.is_well_formed(cs.SecretKind.CLIENT_SECRET, secret):
        return "malformed_secret"
    if client is None:
        return "unknown_client"
    if not client.active:
        return "suspended" if client.suspended else "revoked"
    return "secret_mismatch" if usable else "expired"


async def from_db(load: Callable[..., T], *args: object) -> T:
    try:
        return await anyio.to_thread.run_sync(load, *args)
    except SQLAlchemyError:
        log.warning("database unavailable", operation=getattr(load, "__name__", "load"))
        raise ServiceUnavailableError() from None
