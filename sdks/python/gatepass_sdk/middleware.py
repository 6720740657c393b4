"""``GatepassMiddleware``: authenticates every HTTP request that carries a credential.

A request without any credential passes through with no caller; ``requires`` answers it 401.
A credential that is not valid is answered here, at once, per RFC 6750 §3: 401 ``invalid_token``
with a ``WWW-Authenticate: Bearer`` challenge. An ``AuthError`` raised further in (by
``requires``) is rendered the same way, provided the middleware is installed inside the app's
error handling (``app.add_middleware``). The ``apikey`` query parameter is removed from the
request the application sees, so that its logs and error reports cannot repeat the key, and
the middleware adds an ``ApiKeyLogFilter`` to uvicorn's access logger (once per process, however
many middleware are built; ``redact_access_log=False`` leaves that logger alone), which logs the
request line as the client sent it.

The caller (a ``Caller``, or ``None``) is in ``request.scope["gatepass.caller"]`` for handlers
that do not use ``requires``. WebSocket and lifespan scopes pass through untouched.
"""

from __future__ import annotations

import logging

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gatepass_sdk import credentials, dpop
from gatepass_sdk.caller import Caller
from gatepass_sdk.errors import AuthError
from gatepass_sdk.redaction import install_log_filter
from gatepass_sdk.verifier import GatepassVerifier

log = logging.getLogger("gatepass_sdk")

CALLER_KEY = "gatepass.caller"


class GatepassMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        verifier: GatepassVerifier,
        realm: str | None = None,
        redact_access_log: bool = True,
    ) -> None:
        self.app = app
        self.verifier = verifier
        self.realm = realm or verifier.audience
        if redact_access_log:
            install_log_filter()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            caller, query = await self._authenticate(scope)
        except AuthError as error:
            await self._refuse(send, error)
            return
        inner = {**scope, "query_string": query, CALLER_KEY: caller}
        await self._call_app(inner, receive, send)

    async def _authenticate(self, scope: Scope) -> tuple[Caller | None, bytes]:
        keys, query = credentials.split_query(scope.get("query_string", b""))
        found = credentials.one([*credentials.from_headers(scope["headers"]), *keys])
        if found is None:
            return None, query
        if found.kind == "bearer":
            return await self.verifier.verify_token(found.value), query
        if found.kind == "dpop":
            return await self.verifier.verify_token(found.value, presentation(scope)), query
        client = scope.get("client")
        ip = str(client[0]) if client else None
        return await self.verifier.verify_api_key(found.value, ip=ip), query

    async def _call_app(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except AuthError as error:
            if started:
                raise
            await self._refuse(send, error)

    async def _refuse(self, send: Send, error: AuthError) -> None:
        log.info("request refused: %s %s", error.status, error.reason or error.error)
        status, headers, body = error.render(self.realm)
        headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def presentation(scope: Scope) -> dpop.Presentation:
    """The request's DPoP proofs, method and URL as the client addressed it (scheme and
    ``Host`` as the server received them: behind a proxy, run the server so that it reports
    the client's scheme, e.g. uvicorn's ``--proxy-headers``)."""
    headers = scope["headers"]
    host = next((v.decode("latin-1") for k, v in headers if k == b"host"), None)
    if host is None:
        server = scope.get("server") or ("localhost", None)
        host = f"{server[0]}:{server[1]}" if server[1] else str(server[0])
    path = scope.get("root_path", "") + scope["path"]
    url = f"{scope.get('scheme', 'http')}://{host}{path}"
    return dpop.Presentation(tuple(credentials.proofs(headers)), scope["method"], url)
