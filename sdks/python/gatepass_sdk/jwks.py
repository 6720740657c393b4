"""The tenant's signing keys, fetched from its JWKS (RFC 7517 §5) and cached by ``kid``.

An unknown ``kid`` triggers one refetch (the tenant may have rotated its key), but never more
often than ``min_refetch_interval``: a flood of made-up key IDs costs Gatepass at most one
request per interval. The set is also refreshed when older than ``max_age``, so a key that was
withdrawn stops being trusted. If Gatepass cannot be reached, the keys already held stay in use.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

import httpx

from gatepass_sdk.errors import UnavailableError
from gatepass_sdk.verification_keys import VerificationKey, from_jwk

log = logging.getLogger("gatepass_sdk")


class KeySet:
    def __init__(
        self,
        url: str,
        http: httpx.AsyncClient,
        *,
        min_refetch_interval: float,
        max_age: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.url = url
        self._http = http
        self._min_interval = min_refetch_interval
        self._max_age = max_age
        self._clock = clock
        self._keys: dict[str, VerificationKey] = {}
        self._fetched_at = -float("inf")
        self._attempted_at = -float("inf")
        self._failing = False
        self._lock = asyncio.Lock()

    def cached(self, kid: str) -> VerificationKey | None:
        """The key, when held and the set is fresh: the hot path, no I/O."""
        if self._clock() - self._fetched_at >= self._max_age:
            return None
        return self._keys.get(kid)

    async def get(self, kid: str) -> VerificationKey | None:
        """The key for ``kid``, fetching the set again if it is unknown or stale (rate-bounded).

        While Gatepass cannot be reached, keys already held stay trusted, and an unknown ``kid``
        is ``UnavailableError``: not knowing is no verdict on the token.
        """
        key = self.cached(kid)
        if key is not None:
            return key
        async with self._lock:  # concurrent requests for one new kid share one fetch
            if self.cached(kid) is None and self._may_fetch():
                await self._refresh()
        key = self._keys.get(kid)
        if key is None and self._failing:
            raise UnavailableError("jwks unreachable")
        return key

    def _may_fetch(self) -> bool:
        return self._clock() - self._attempted_at >= self._min_interval

    async def _refresh(self) -> None:
        self._attempted_at = self._clock()
        try:
            self._keys = await self._fetch()
        except (httpx.HTTPError, ValueError, RecursionError) as exc:
            log.warning("gatepass JWKS fetch failed: %s", type(exc).__name__)
            self._failing = True
            return
        self._failing = False
        self._fetched_at = self._attempted_at

    async def _fetch(self) -> dict[str, VerificationKey]:
        response = await self._http.get(self.url, headers={"accept": "application/json"})
        response.raise_for_status()
        document = response.json()
        entries = document.get("keys") if isinstance(document, dict) else None
        if not isinstance(entries, list):
            raise ValueError("not a JWKS")
        keys = {}
        for entry in entries:
            key = from_jwk(entry)
            if key is not None:
                keys[key.kid] = key
        log.info("gatepass JWKS fetched: %d key(s)", len(keys))
        return keys
