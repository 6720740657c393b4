"""Key sets published at a URL: a client's ``jwks_uri`` (RFC 7591 §2), a trusted issuer's keys
found through its discovery document (OpenID Connect Discovery §4, RFC 8414 §3).

Each process keeps what it fetched for ``TTL`` seconds. A token signed with a key the cached
set lacks (an unknown ``kid``: the signer rotated) makes one refetch, at most once per
``MIN_REFETCH`` seconds per URL, so a caller sending made-up key IDs costs one request a minute,
not one per token. Concurrent callers wait for the same fetch. When a fetch fails, the keys
fetched before keep working for ``STALE_FOR`` seconds: an issuer's outage of a few minutes does
not lock its workloads out.

The URL is the tenant's choice, so every fetch goes through ``gatepass.destinations``: https
only, a public address (unless the operator allows otherwise with ``GATEPASS_JWKS_ALLOW_*``),
connected to the address checked, no redirect followed, at most ``MAX_BYTES`` read within
``DEADLINE`` seconds in all.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import structlog
from jwt.exceptions import PyJWTError

from gatepass.destinations import RefusedDestination, Rules
from gatepass.errors import InvalidInputError
from gatepass.publickeys.jwk import PublicKey, parse_key

log = structlog.get_logger("gatepass.publickeys")

TTL = 300.0  # seconds a fetched set is used before it is fetched again
MIN_REFETCH = 60.0  # seconds between two fetches of one URL, whatever the tokens say
STALE_FOR = 86400.0  # seconds the last good set serves while its URL fails
DEADLINE = 5.0  # seconds for one fetch in all: resolve, connect, send, read
MAX_BYTES = 64 * 1024
MAX_KEYS = 20  # usable keys taken from one set; the rest are ignored
MAX_URLS = 1000  # sets kept per process, the least recently used forgotten first
DISCOVERY = "/.well-known/openid-configuration"


class FetchError(Exception):
    """The URL did not give a usable document; the message is for the log."""


@dataclass
class _Entry:
    value: Any = None  # a key set, or a discovered jwks_uri
    fetched_at: float = float("-inf")  # monotonic time of the last good fetch
    tried_at: float = float("-inf")  # monotonic time of the last attempt
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


@dataclass
class RemoteKeySets:
    """The key sets of URLs, fetched when needed and kept per process."""

    rules: Rules
    ttl: float = TTL
    min_refetch: float = MIN_REFETCH
    deadline: float = DEADLINE
    _entries: OrderedDict[str, _Entry] = field(default_factory=OrderedDict)
    fetches: int = 0  # fetches attempted, for the metrics and the tests

    async def keys(self, url: str, kid: str | None = None) -> tuple[PublicKey, ...]:
        """The keys published at ``url``: cached, or fetched if the cache is old or lacks
        ``kid``. Empty if the URL has never given a usable set (the caller refuses the token)."""

        def missing(keys: tuple[PublicKey, ...]) -> bool:
            return kid is not None and all(k.kid != kid for k in keys)

        found: tuple[PublicKey, ...] = await self._cached(
            "jwks:" + url, lambda: self._fetch_keys(url), missing
        )
        return found or ()

    async def issuer_keys(self, issuer: str, kid: str | None = None) -> tuple[PublicKey, ...]:
        """The keys of an OpenID Connect issuer, found through its discovery document."""
        jwks_uri: str | None = await self._cached(
            "issuer:" + issuer, lambda: self._discover(issuer), lambda _: False
        )
        return await self.keys(jwks_uri, kid) if jwks_uri else ()

    async def _cached(
        self,
        name: str,
        fetch: Callable[[], Awaitable[Any]],
        wants_refetch: Callable[[Any], bool],
    ) -> Any:
        entry = self._entry(name)
        if self._good(entry, wants_refetch):
            return entry.value
        async with entry.lock:
            if self._good(entry, wants_refetch):  # another caller fetched it meanwhile
                return entry.value
            now = time.monotonic()
            if now - entry.tried_at >= self.min_refetch:
                entry.tried_at = now
                await self._refresh(name, entry, fetch)
            if time.monotonic() - entry.fetched_at > STALE_FOR:
                return None
            return entry.value

    def _good(self, entry: _Entry, wants_refetch: Callable[[Any], bool]) -> bool:
        fresh = time.monotonic() - entry.fetched_at < self.ttl
        return fresh and entry.value is not None and not wants_refetch(entry.value)

    async def _refresh(self, name: str, entry: _Entry, fetch: Callable[[], Awaitable[Any]]) -> None:
        self.fetches += 1
        try:
            entry.value = await fetch()
            entry.fetched_at = time.monotonic()
        except FetchError as error:
            log.warning("public keys not fetched", source=name, reason=str(error))

    def _entry(self, name: str) -> _Entry:
        entry = self._entries.get(name)
        if entry is None:
            entry = self._entries[name] = _Entry()
            while len(self._entries) > MAX_URLS:
                self._entries.popitem(last=False)
        else:
            self._entries.move_to_end(name)
        return entry

    async def _fetch_keys(self, url: str) -> tuple[PublicKey, ...]:
        document = await self._get_json(url)
        listed = document.get("keys") if isinstance(document, dict) else None
        if not isinstance(listed, list):
            raise FetchError('not a JWKS: no "keys" list')
        keys = tuple(k for k in map(_usable, listed) if k is not None)[:MAX_KEYS]
        if not keys:
            raise FetchError("no usable public key in the set")
        return keys

    async def _discover(self, issuer: str) -> str:
        document = await self._get_json(issuer.rstrip("/") + DISCOVERY)
        if not isinstance(document, dict) or document.get("issuer") != issuer:
            raise FetchError("the discovery document names another issuer")  # Discovery §4.3
        jwks_uri = document.get("jwks_uri")
        if not isinstance(jwks_uri, str):
            raise FetchError("the discovery document has no jwks_uri")
        try:
            return self.rules.check_url(jwks_uri)
        except InvalidInputError as error:
            raise FetchError(f"jwks_uri refused: {error}") from None

    async def _get_json(self, url: str) -> Any:
        try:
            async with asyncio.timeout(self.deadline):
                body = await self._get(httpx.URL(url))
        except RefusedDestination as error:
            raise FetchError(str(error)) from None
        except (httpx.HTTPError, httpx.InvalidURL, TimeoutError) as error:
            raise FetchError(type(error).__name__) from None
        try:
            return json.loads(body)
        except (ValueError, UnicodeDecodeError):
            raise FetchError("not JSON") from None

    async def _get(self, url: httpx.URL) -> bytes:
        pinned, headers, sni = await asyncio.to_thread(self.rules.pinned, url)
        headers["Accept"] = "application/json"
        async with (
            httpx.AsyncClient(follow_redirects=False) as client,
            client.stream("GET", pinned, headers=headers, extensions=sni) as response,
        ):
            if response.status_code != 200:
                raise FetchError(f"HTTP {response.status_code}")
            chunks, read = [], 0
            async for chunk in response.aiter_raw():
                read += len(chunk)
                if read > MAX_BYTES:
                    raise FetchError(f"larger than {MAX_BYTES} bytes")
                chunks.append(chunk)
            return b"".join(chunks)


def _usable(jwk: object) -> PublicKey | None:
    """A key of the set Gatepass can verify with; an encryption key or a kind it does not
    verify with is passed over (sets often hold several kinds)."""
    if not isinstance(jwk, dict) or not isinstance(jwk.get("kty"), str):
        return None
    if jwk.get("use", "sig") != "sig" or not isinstance(jwk.get("kid", ""), str):
        return None
    try:
        return parse_key(jwk)
    except (PyJWTError, ValueError, TypeError, KeyError):
        return None
