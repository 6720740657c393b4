"""The protocol endpoints as a bare ASGI application.

These routes carry the hot path (one token per API call burst, per integration), so they sit
below the web framework: a request is parsed once, handled by a plain coroutine, and answered
with prebuilt headers. Paths follow Keycloak's layout so existing clients work unchanged.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable

import structlog
from starlette.types import ASGIApp, Receive, Scope, Send

from gatepass.oauth import discovery, gateway, introspection
from gatepass.oauth import token as token_endpoint
from gatepass.oauth import verify as verify_endpoint
from gatepass.oauth.context import Caller, ProtocolContext
from gatepass.oauth.errors import (
    JSON_HEADERS,
    InvalidRequestError,
    MethodNotAllowedError,
    OAuthError,
    RealmNotFoundError,
    ServerError,
)
from gatepass.oauth.requests import check_content_type, parse_form
from gatepass.tenants.service import SLUG

log = structlog.get_logger("gatepass.oauth")


OIDC = "protocol/openid-connect/"
POST_ENDPOINTS = {
    OIDC + "token": "token",
    OIDC + "token/introspect": "introspect",
    OIDC + "revoke": "revoke",
    "api-keys/verify": "verify",
}
GET_ENDPOINTS = {OIDC + "certs": "jwks", ".well-known/openid-configuration": "discovery"}
RFC8414_PREFIX = "/.well-known/oauth-authorization-server/realms/"
NO_STORE = ((b"cache-control", b"no-store"),)
READ_HEADERS = {
    name.encode(): name for name in ("authorization", "content-type", "content-length", "dpop")
}
PUBLIC_CACHE = ((b"content-type", b"application/json"), (b"cache-control", b"public, max-age=60"))
# Taken by the server without ASGI when their whole body has come (``ProtocolApp.answer``).
DIRECT_ENDPOINTS = frozenset(POST_ENDPOINTS.values())

Headers = list[tuple[bytes, bytes]] | tuple[tuple[bytes, bytes], ...]
Answer = tuple[int, Headers, bytes]  # status, headers (without Content-Length), body


class ProtocolApp:
    """Serves ``/realms/{tenant}/...`` and RFC 8414 metadata; passes anything else on."""

    def __init__(self, ctx: ProtocolContext, fallback: ASGIApp, *, body_limit: int) -> None:
        self.ctx = ctx
        self.fallback = fallback
        self.body_limit = body_limit  # bodies over it are refused (``gatepass.body_limit``)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        found = route(scope["path"]) if scope["type"] == "http" else None
        if found is None:
            await self.fallback(scope, receive, send)
            return
        slug, endpoint = found
        try:
            answer = await self._answered(endpoint, self._dispatch(scope, receive, slug, endpoint))
        except ClientDisconnectedError:
            return  # before sending its whole request: nothing to answer, nothing counted
        await _respond(send, *answer)

    def direct_route(self, path: str) -> tuple[str, str] | None:
        """The realm and endpoint of a path the server may answer without ASGI (``answer``): the
        endpoints that take a POST whose body is a small form or JSON document."""
        found = route(path)
        return found if found is not None and found[1] in DIRECT_ENDPOINTS else None

    async def answer(
        self, slug: str, endpoint: str, headers: list[tuple[bytes, bytes]], raw: bytes, source: str
    ) -> Answer:
        """A POST to ``endpoint`` (from ``direct_route``) whose whole body, within the body limit,
        has arrived; the same answer, metrics and logs as through ``__call__``."""
        return await self._answered(endpoint, self._direct(slug, endpoint, headers, raw, source))

    async def _answered(self, endpoint: str, work: Awaitable[Answer]) -> Answer:
        """What ``work`` answers (an OAuth error's document, if it raises one), counted in the
        metrics."""
        started = time.perf_counter()
        outcome = "ok"
        try:
            answer = await work
        except ClientDisconnectedError:
            raise
        except OAuthError as error:
            outcome = error.outcome or error.error
            answer = error.render()
        except Exception:
            log.exception("protocol endpoint failed", endpoint=endpoint)
            outcome = "server_error"
            answer = ServerError().render()
        self.ctx.metrics.observe(endpoint, outcome, time.perf_counter() - started)
        return answer

    async def _dispatch(self, scope: Scope, receive: Receive, slug: str, endpoint: str) -> Answer:
        if not SLUG.match(slug):  # a control character, a NUL: no realm has such a name
            raise RealmNotFoundError("realm does not exist")
        method = scope["method"]
        if endpoint == "gateway":  # any method: the original request's; its body is not read
            return await self._gateway(scope, slug)
        if endpoint in ("jwks", "discovery"):
            if method not in ("GET", "HEAD"):
                raise MethodNotAllowedError("GET")
            tenant = await self.ctx.tenant(slug)
            body = tenant.jwks_json if endpoint == "jwks" else discovery.metadata(tenant)
            return 200, PUBLIC_CACHE, body
        if method != "POST":
            raise MethodNotAllowedError("POST")
        headers = _post_headers(scope["headers"], endpoint)
        raw = await _read_body(receive, headers)
        return await self._post(slug, endpoint, headers, raw, _source(scope))

    async def _direct(
        self,
        slug: str,
        endpoint: str,
        raw_headers: list[tuple[bytes, bytes]],
        raw: bytes,
        source: str,
    ) -> Answer:
        if not SLUG.match(slug):
            raise RealmNotFoundError("realm does not exist")
        headers = _post_headers(raw_headers, endpoint)
        return await self._post(slug, endpoint, headers, raw, source)

    async def _post(
        self, slug: str, endpoint: str, headers: dict[str, str], raw: bytes, source: str
    ) -> Answer:
        tenant = await self.ctx.tenant(slug)
        caller = Caller(headers.get("authorization"), source, headers.get("dpop"))
        if endpoint == "verify":
            return 200, JSON_HEADERS, await verify_endpoint.verify(self.ctx, tenant, caller, raw)
        form, multi = parse_form(raw)
        if endpoint == "token":
            body = await token_endpoint.token(self.ctx, tenant, caller, form, multi)
        elif endpoint == "introspect":
            body = await introspection.introspect(self.ctx, tenant, caller, form)
        else:
            await introspection.revoke(self.ctx, tenant, caller, form)
            return 200, NO_STORE, b""
        return 200, JSON_HEADERS, body

    async def _gateway(self, scope: Scope, slug: str) -> Answer:
        tenant = await self.ctx.tenant(slug)
        prefix = f"/realms/{slug}/{gateway.PATH}"
        appended = scope["path"][len(prefix) :]
        request = gateway.parse(scope["headers"], appended, scope.get("query_string", b""))
        identity = await gateway.check(self.ctx, tenant, request, source=_source(scope))
        return 200, identity.headers(), b""


class ClientDisconnectedError(Exception):
    """The client went away before sending its whole request: nothing to answer."""


def route(path: str) -> tuple[str, str] | None:
    if path.startswith("/realms/"):
        slug, _, rest = path[8:].partition("/")
        endpoint = POST_ENDPOINTS.get(rest) or GET_ENDPOINTS.get(rest)
        if endpoint is None and rest.startswith(gateway.PATH):
            appended = rest[len(gateway.PATH) :]
            endpoint = "gateway" if not appended or appended.startswith("/") else None
        return (slug, endpoint) if endpoint else None
    if path.startswith(RFC8414_PREFIX):
        slug = path[len(RFC8414_PREFIX) :]
        return (slug, "discovery") if slug and "/" not in slug else None
    return None


def _source(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else ""


def _post_headers(raw: list[tuple[bytes, bytes]], endpoint: str) -> dict[str, str]:
    """The headers the POST endpoints read, each at most once; the others are not even decoded.
    The verify endpoint takes JSON, the OAuth endpoints forms."""
    headers: dict[str, str] = {}
    for name, value in raw:
        key = READ_HEADERS.get(name)
        if key is None:
            continue
        if key in headers:
            raise InvalidRequestError(f"header '{key}' is repeated")
        headers[key] = value.decode("latin-1")
    if endpoint != "verify":
        check_content_type(headers.get("content-type"))
    return headers


async def _read_body(receive: Receive, headers: dict[str, str]) -> bytes:
    """The whole body. Its size is limited around the whole app (``gatepass.body_limit``): past
    the limit ``receive`` raises ``PayloadTooLargeError``, answered like any OAuth error."""
    declared = headers.get("content-length")
    if declared is not None and not (declared.isascii() and declared.isdigit()):
        raise InvalidRequestError("Content-Length is not a number")
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnectedError
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


async def _respond(send: Send, status: int, headers: Headers, body: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [*headers, (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})
