"""The tenant's signing keys, fetched from its JWKS (RFC 7517 §5) and cached by ``kid``.

An unknown ``kid`` triggers one refetch (the tenant may have rotated its key), but never more
often than ``min_refetch_interval``: a flood of made-up key IDs costs Gatepass at most one
request per interval. The set is also refreshed when older than ``max_age``, so a key that was
withdrawn stops being trusted. If Gatepass cannot be reached, the keys already held stay in use.

``KeyState`` holds the keys and decides when to fetch; ``KeySet`` (asyncio) and ``SyncKeySet``
(threads, for WSGI servers) only do the fetching, each under its own kind of lock.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx

from gatepass_sdk.errors import UnavailableError
from gatepass_sdk.verification_keys import VerificationKey, from_jwk

log = logging.getLogger("gatepass_sdk")

ACCEPT_JSON = {"accept": "application/json"}
# What a failed fetch may raise: the keys already held then stay in use.
FETCH_ERRORS = (httpx.HTTPError, ValueError, RecursionError)


class KeyState:
    """The keys held, when they were fetched, and whether the last fetch failed."""

    def __init__(
        self,
        url: str,
        *,
        min_refetch_interval: float,
        max_age: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.url = url
        self._min_interval = min_refetch_interval
        self._max_age = max_age
        self._clock = clock
        self._keys: dict[str, VerificationKey] = {}
        self._fetched_at = -float("inf")
        self._attempted_at = -float("inf")
        self._failing = False

    def cached(self, kid: str) -> VerificationKey | None:
        """The key, when held and the set is fresh: the hot path, no I/O."""
        if self._clock() - self._fetched_at >= self._max_age:
            return None
        return self._keys.get(kid)

    def needs_fetch(self, kid: str) -> bool:
        """Whether to fetch the set now for ``kid`` (asked under the fetch lock)."""
        if self.cached(kid) is not None:
            return False
        if self._clock() - self._attempted_at < self._min_interval:
            return False
        self._attempted_at = self._clock()
        return True

    def fetched(self, response: httpx.Response) -> None:
        """Take the keys of a JWKS response (raises what ``FETCH_ERRORS`` names)."""
        response.raise_for_status()
        self._keys = parse(response.json())
        log.info("gatepass JWKS fetched: %d key(s)", len(self._keys))
        self._failing = False
        self._fetched_at = self._attempted_at

    def failed(self, error: Exception) -> None:
        log.warning("gatepass JWKS fetch failed: %s", type(error).__name__)
        self._failing = True

    def held(self, kid: str) -> VerificationKey | None:
        """After a fetch (or none): the key, ``None`` if unknown, ``UnavailableError`` if
        Gatepass could not be asked (not knowing is no verdict on the token)."""
        key = self._keys.get(kid)
        if key is None and self._failing:
            raise UnavailableError("jwks unreachable")
        return key


def parse(document: Any) -> dict[str, VerificationKey]:
    """The usable signing keys of a JWKS document, by ``kid``."""
    entries = document.get("keys") if isinstance(document, dict) else None
    if not isinstance(entries, list):
        raise ValueError("not a JWKS")
    keys = {}
    for entry in entries:
        key = from_jwk(entry)
        if key is not None:
            keys[key.kid] = key
    return keys


class KeySet(KeyState):
    """The key set for asyncio code: concurrent requests for one new kid share one fetch."""

    def __init__(self, url: str, http: httpx.AsyncClient, **options: Any) -> None:
        super().__init__(url, **options)
        self._http = http
        self._lock = asyncio.Lock()

    async def get(self, kid: str) -> VerificationKey | None:
        """The key for ``kid``, fetching the set again if it is unknown or stale (rate-bounded)."""
        key = self.cached(kid)
        if key is not None:
            return key
        async with self._lock:
            if self.needs_fetch(kid):
                try:
                    self.fetched(await self._http.get(self.url, headers=ACCEPT_JSON))
                except FETCH_ERRORS as exc:
                    self.failed(exc)
        return self.held(kid)


class SyncKeySet(KeyState):
    """The key set for threaded code (WSGI servers): one thread fetches, the others wait."""

    def __init__(self, url: str, http: httpx.Client, **options: Any) -> None:
        super().__init__(url, **options)
        self._http = http
        self._lock = threading.Lock()

    def get(self, kid: str) -> VerificationKey | None:
        """The key for ``kid``, fetching the set again if it is unknown or stale (rate-bounded)."""
        key = self.cached(kid)
        if key is not None:
            return key
        with self._lock:
            if self.needs_fetch(kid):
                try:
                    self.fetched(self._http.get(self.url, headers=ACCEPT_JSON))
                except FETCH_ERRORS as exc:
                    self.failed(exc)
        return self.held(kid)
