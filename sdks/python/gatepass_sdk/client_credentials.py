"""``ClientCredentialsAuth``: an ``httpx.Auth`` for integrations calling a Gatepass-protected API.

It gets an access token with the client credentials grant (RFC 6749 §4.4, ``client_secret_basic``
per §2.3.1), keeps it until shortly before ``expires_in`` runs out, and gets a new one then, or
once when the API answers 401 (RFC 6750 §3.1: the token was revoked or the key rotated). The
token request goes through the same ``httpx`` client, so its proxies and TLS settings apply.
"""

from __future__ import annotations

import asyncio
import base64
import threading
import time
from collections.abc import AsyncGenerator, Callable, Generator
from dataclasses import dataclass
from urllib.parse import quote_plus

import httpx


@dataclass(frozen=True, slots=True)
class _Token:
    value: str
    renew_at: float


class ClientCredentialsAuth(httpx.Auth):
    """``httpx.Client(auth=ClientCredentialsAuth(token_url, client_id, client_secret))``.

    ``resource`` (RFC 8707) names the API the tokens are for; Gatepass's own management API and
    verify endpoint take only tokens asked for its issuer. ``margin`` is how long before its
    expiry a token is renewed (at most half its lifetime).
    """

    def __init__(
        self,
        token_url: str,
        client_id: str,
        client_secret: str,
        *,
        scope: str | None = None,
        resource: str | None = None,
        margin: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.token_url = token_url
        self.client_id = client_id
        self._basic = basic_authorization(client_id, client_secret)
        self._form = {"grant_type": "client_credentials", **({"scope": scope} if scope else {})}
        if resource:
            self._form["resource"] = resource
        self._margin = margin
        self._clock = clock
        self._token: _Token | None = None
        self._thread_lock = threading.Lock()
        self._async_lock = asyncio.Lock()

    def __repr__(self) -> str:
        return f"ClientCredentialsAuth({self.token_url!r}, {self.client_id!r})"

    def sync_auth_flow(
        self, request: httpx.Request
    ) -> Generator[httpx.Request, httpx.Response, None]:
        with self._thread_lock:
            token = self._current()
            if token is None:
                token = self._store((yield self._token_request()), read=True)
        response = yield _authorized(request, token)
        if response.status_code == 401:
            with self._thread_lock:
                token = self._renewed(token)
                if token is None:
                    token = self._store((yield self._token_request()), read=True)
            yield _authorized(request, token)

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        async with self._async_lock:
            token = self._current()
            if token is None:
                response = yield self._token_request()
                await response.aread()
                token = self._store(response, read=False)
        response = yield _authorized(request, token)
        if response.status_code == 401:
            async with self._async_lock:
                token = self._renewed(token)
                if token is None:
                    response = yield self._token_request()
                    await response.aread()
                    token = self._store(response, read=False)
            yield _authorized(request, token)

    def _current(self) -> str | None:
        token = self._token
        return token.value if token is not None and self._clock() < token.renew_at else None

    def _renewed(self, refused: str) -> str | None:
        """A token newer than the refused one, if another request already got it."""
        token = self._current()
        return token if token is not None and token != refused else None

    def _token_request(self) -> httpx.Request:
        return httpx.Request(
            "POST",
            self.token_url,
            data=self._form,
            headers={"authorization": self._basic, "accept": "application/json"},
        )

    def _store(self, response: httpx.Response, *, read: bool) -> str:
        if read:
            response.read()
        response.raise_for_status()
        document = response.json()
        value, lifetime = document.get("access_token"), document.get("expires_in", 60)
        if not isinstance(value, str) or not isinstance(lifetime, int | float):
            raise httpx.DecodingError("the token endpoint answered no access_token")
        margin = min(self._margin, float(lifetime) / 2)
        self._token = _Token(value, self._clock() + float(lifetime) - margin)
        return value


def _authorized(request: httpx.Request, token: str) -> httpx.Request:
    request.headers["authorization"] = f"Bearer {token}"
    return request


def basic_authorization(client_id: str, client_secret: str) -> str:
    """``client_secret_basic`` (RFC 6749 §2.3.1): each part form-urlencoded, then Basic."""
    raw = f"{quote_plus(client_id)}:{quote_plus(client_secret)}".encode()
    return "Basic " + base64.b64encode(raw).decode("ascii")
