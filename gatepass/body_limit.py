"""One limit on the size of request bodies, for every route (RFC 9110 §15.5.14, 413).

The protocol endpoints take small forms (``max_body_bytes``); the management API and the console
take bigger ones (``max_management_body_bytes``). A declared Content-Length over the limit is
answered at once, before a byte of the body is read; a body without one (chunked) is counted as it
streams in, and answered as soon as it passes the limit. The answer is in the format of the surface
asked, an OAuth error under ``/realms/``, a page under ``/console``, a problem document elsewhere,
and closes the connection, so that the rest of the body is never read.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gatepass.api.problems import PageMaker, problem_response
from gatepass.leaks import reports
from gatepass.oauth.asgi import RFC8414_PREFIX
from gatepass.oauth.errors import PayloadTooLargeError

# Past 18 digits a Content-Length is over any limit; int() of thousands of digits is costly.
MAX_DIGITS = 18


class BodyTooLargeError(HTTPException):
    """Raised into the app by ``receive`` once a body passes the limit, so that it stops reading
    (the framework's handlers answer it quietly); the middleware then answers in its place."""

    def __init__(self, detail: str) -> None:
        super().__init__(413, detail)


@dataclass(frozen=True)
class Surface:
    """Where a request goes: its body limit, what stops the app reading, and the 413 answer."""

    limit: int
    stop: Callable[[str], Exception]
    answer: Callable[[Scope, int], Response]

    def detail(self) -> str:
        return detail(self.limit)


class BodyLimit:
    """ASGI middleware around the whole app: every request body is limited, on every route."""

    def __init__(
        self, app: ASGIApp, *, protocol_limit: int, management_limit: int, pages: PageMaker
    ) -> None:
        self.app = app
        self.protocol = Surface(protocol_limit, PayloadTooLargeError, _oauth_error)
        self.api = Surface(management_limit, BodyTooLargeError, _problem)
        # Anyone may post a report of leaked secrets (its signature is checked after): less.
        self.leaks = Surface(reports.MAX_BODY_BYTES, BodyTooLargeError, _problem)
        self.console = Surface(
            management_limit, BodyTooLargeError, lambda scope, limit: _page(pages, scope, limit)
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        surface = self.surface(scope["path"])
        if declared_length(scope) > surface.limit:
            await _refuse(surface, scope, receive, send)
            return
        guard = Guard(surface, receive, send)
        try:
            await self.app(scope, guard.receive, guard.send)
        except Exception as error:
            if error is not guard.stopped:
                raise
        if guard.stopped is not None and not guard.started:
            await _refuse(surface, scope, receive, send)

    def surface(self, path: str) -> Surface:
        if path.startswith(("/realms/", RFC8414_PREFIX)):
            return self.protocol
        if path == "/console" or path.startswith("/console/"):
            return self.console
        if path.startswith(reports.PATH_PREFIX + "/"):
            return self.leaks
        return self.api


class Guard:
    """The app's ``receive`` and ``send`` for one request: counts the body as it comes in; once
    it is over the limit, raises into the app and drops what the app answers."""

    def __init__(self, surface: Surface, receive: Receive, send: Send) -> None:
        self.surface = surface
        self._receive = receive
        self._send = send
        self.received = 0
        self.started = False
        self.stopped: Exception | None = None

    async def receive(self) -> Message:
        if self.stopped is not None:
            raise self.stopped
        message = await self._receive()
        if message["type"] == "http.request":
            self.received += len(message.get("body", b""))
            if self.received > self.surface.limit:
                self.stopped = self.surface.stop(self.surface.detail())
                raise self.stopped
        return message

    async def send(self, message: Message) -> None:
        if self.stopped is not None:
            return
        if message["type"] == "http.response.start":
            self.started = True
        await self._send(message)


def declared_length(scope: Scope) -> int:
    """The largest Content-Length the request declares (0 without one; a malformed one is left
    to the server and the endpoint, and the body is counted all the same)."""
    declared = 0
    for name, value in scope["headers"]:
        if name == b"content-length" and value.isdigit():
            declared = max(declared, int(value) if len(value) <= MAX_DIGITS else 10**MAX_DIGITS)
    return declared


async def _refuse(surface: Surface, scope: Scope, receive: Receive, send: Send) -> None:
    response = surface.answer(scope, surface.limit)
    # The rest of the body is not wanted: the connection closes after the answer.
    response.headers["connection"] = "close"
    await response(scope, receive, send)


def detail(limit: int) -> str:
    return f"the request body must be at most {limit} bytes"


def _oauth_error(scope: Scope, limit: int) -> Response:
    status, headers, body = PayloadTooLargeError(detail(limit)).render()
    response = Response(body, status_code=status)
    for name, value in headers:
        response.headers[name.decode()] = value.decode()
    return response


def _problem(scope: Scope, limit: int) -> Response:
    return problem_response(413, "payload_too_large", detail(limit))


def _page(pages: PageMaker, scope: Scope, limit: int) -> Response:
    message = (
        f"The form was too large to send (at most {limit // 1024} KiB). Go back and shorten it."
    )
    return pages(Request(scope), 413, message)
