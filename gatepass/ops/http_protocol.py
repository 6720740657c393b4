"""The HTTP server's own limits: on request heads, and how a refused request is closed.

uvicorn's httptools protocol sets no limit on the request head (``h11_max_incomplete_event_size``
is for h11 only), and httptools appends to a header until its end arrives, so a 50 MB header would
be held whole. This protocol counts the bytes of each request head before httptools sees them, and
the headers as they are parsed; past either limit it answers 431 (RFC 6585 §5).

uvicorn writes an answer's status line and headers, then its body, each with a send of its own:
two syscalls and two packets for every small answer, which the client then reads apart. The head
is held here until the body's first write, and both go out in one send; when no body follows in
the same turn of the event loop (a streamed answer), the head goes out alone at the next turn.

A refused request (431 here, or 413 from ``gatepass.body_limit``) is closed with a "lingering
close": the answer is sent, the sending side shut, and what the client still sends is dropped for
a short while. Closed at once, with unread data, the connection would be reset, and a client still
sending would see the reset instead of the answer.

The hot protocol endpoints (a token, a key check) are answered without ASGI when the app offers
it (``DirectApp``, ``gatepass.oauth.asgi.ProtocolApp``) and the request is the plain case: a POST
to one of their paths, with no query, a Content-Length within the body limit, no chunked body, no
``Expect: 100-continue``. Its parsed headers and whole body go straight to the endpoint, whose
answer is written in one send. Uvicorn's ASGI cycle (the scope, the receive and send messages, the
checks of each answer header) cost a worker about as much CPU as the whole of Python's least token
endpoint outside its signature (``bench/results``). Anything else takes the ASGI path, through
``gatepass.body_limit`` and the app, as before; both give the same answer to the same request.

It is kept light, with no import of the app: the ``serve --workers N`` supervisor loads it too.
"""

from __future__ import annotations

import asyncio
import logging
import re
import weakref
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any, Protocol

from uvicorn.config import Config
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware
from uvicorn.protocols.http.httptools_impl import (
    HEADER_RE,
    HEADER_VALUE_RE,
    STATUS_LINE,
    HttpToolsProtocol,
    RequestResponseCycle,
)
from uvicorn.server import ServerState

REFUSAL = b"the request line and headers are too large"
LINGER_SECONDS = 2.0
# A path the direct way takes as it is: no query, no fragment, no percent-encoding to undo.
PLAIN_PATH = re.compile(rb"/realms/[A-Za-z0-9\-._~!$&'()*+,;=:@/]*")
MAX_DIGITS = 18  # a longer Content-Length is over any body limit
INTERNAL_ERROR = (  # what uvicorn answers when an app fails before its answer
    b"HTTP/1.1 500 Internal Server Error\r\ncontent-type: text/plain; charset=utf-8\r\n"
    b"content-length: 21\r\nconnection: close\r\n\r\nInternal Server Error"
)

Headers = list[tuple[bytes, bytes]] | tuple[tuple[bytes, bytes], ...]


class DirectApp(Protocol):
    """What an app offers the server to answer some requests without ASGI."""

    body_limit: int  # the largest Content-Length it takes this way

    def direct_route(self, path: str) -> tuple[str, str] | None:
        """Which endpoint (and of which realm) takes a POST to ``path`` this way, if any."""

    def answer(
        self, slug: str, endpoint: str, headers: list[tuple[bytes, bytes]], raw: bytes, source: str
    ) -> Awaitable[tuple[int, Headers, bytes]]:
        """Status, headers (without Content-Length) and body for the whole request."""


@dataclass(frozen=True)
class HeadLimits:
    max_bytes: int = 16 * 1024
    max_headers: int = 100


class LimitedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, with limits on every request head and lingering closes."""

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
        *,
        limits: HeadLimits,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.limits = limits
        self.head_bytes: int | None = 0  # of the head being read; None while a body is
        self.header_count = 0
        self.refused = False
        self.lingering = False
        self.direct, self.proxy = _direct_of(config)

    def data_received(self, data: bytes) -> None:
        # Feed the parser no more of a head than the limit allows; past it, refuse.
        while data and not (self.refused or self.lingering):
            if self.head_bytes is None:
                super().data_received(data)
                return
            room = self.limits.max_bytes - self.head_bytes
            if room <= 0:
                self.refuse()
                return
            piece, data = data[:room], data[room:]
            self.head_bytes += len(piece)
            super().data_received(piece)

    def on_message_begin(self) -> None:
        self.header_count = 0
        super().on_message_begin()

    # uvicorn's on_url and on_header, written out here: they are called for every request line
    # and header, where a call to them costs as much as what they do.
    def on_url(self, url: bytes) -> None:
        if not self.refused:
            self.url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        self.header_count += 1
        if self.header_count > self.limits.max_headers:
            self.refuse()
        if not self.refused:
            name = name.lower()
            if name == b"expect" and value.lower() == b"100-continue":
                self.expect_100_continue = True
            self.headers.append((name, value))

    def on_headers_complete(self) -> None:
        if self.refused:
            return
        self.head_bytes = None
        if self.direct is not None and self.take_direct(self.direct):
            return
        before = self.cycle
        super().on_headers_complete()
        if self.cycle is not before:  # a request to answer (not a protocol upgrade)
            self.cycle.transport = _CycleTransport(self, self.cycle)  # type: ignore[assignment]

    def take_direct(self, direct: DirectApp) -> bool:
        """Answer this request without ASGI, if it is the plain case (see the module)."""
        parser = self.parser
        url = self.url
        if (
            parser.get_method() != b"POST"
            or self.expect_100_continue
            or parser.should_upgrade()
            or not PLAIN_PATH.fullmatch(url)
        ):
            return False
        found = direct.direct_route(url.decode("ascii"))
        if found is None:
            return False
        length = None
        for name, value in self.headers:
            if name == b"content-length":
                if length is not None or not value.isdigit() or len(value) > MAX_DIGITS:
                    return False
                length = int(value)
            elif name == b"transfer-encoding":
                return False
        if length is None or length > direct.body_limit:
            return False
        keep_alive = parser.get_http_version() != "1.0" and parser.should_keep_alive()
        cycle = DirectCycle(self, direct, found, keep_alive)
        existing, self.cycle = self.cycle, cycle  # type: ignore[assignment]
        if existing is None or existing.response_complete:
            self._start_asgi_task(cycle, None)  # type: ignore[arg-type]
        else:  # pipelined: answered in turn, as uvicorn does
            self.flow.pause_reading()
            self.pipeline.appendleft((cycle, None))  # type: ignore[arg-type]
        return True

    async def source(self) -> str:
        """The caller's address: the peer's, or the one a trusted proxy forwarded (as uvicorn's
        ``ProxyHeadersMiddleware`` gives the app in ``scope["client"]``)."""
        client = self.client
        if self.proxy is not None:
            scope: dict[str, Any] = {"type": "http", "client": client, "headers": self.headers}
            await self.proxy(scope, _nothing, _nothing)  # type: ignore[arg-type]
            client = scope["client"]
        return str(client[0]) if client else ""

    def on_body(self, body: bytes) -> None:
        if not self.refused:
            super().on_body(body)

    def on_message_complete(self) -> None:
        if not self.refused:
            self.head_bytes = 0  # what follows is the next request's head
            super().on_message_complete()

    def send_400_response(self, msg: str) -> None:
        if not self.refused:  # the rest of a refused head may not parse: it is not answered
            self.flush_held()
            super().send_400_response(msg)

    def flush_held(self) -> None:
        """Send the head the current answer holds, before writing to the transport directly."""
        if self.cycle is not None and isinstance(self.cycle.transport, _CycleTransport):
            self.cycle.transport.flush()

    def refuse(self) -> None:
        """Answer 431, unless an earlier request's answer is still being written, and close."""
        if self.refused:
            return
        self.refused = True
        self.logger.warning("Request head over the limits: refused with 431.")
        self.flush_held()
        if self.cycle is not None and not self.cycle.response_complete:
            self.transport.close()
            return
        head = [STATUS_LINE[431]]
        for name, value in self.server_state.default_headers:
            head += [name, b": ", value, b"\r\n"]
        head.append(
            b"content-type: text/plain; charset=utf-8\r\ncontent-length: %d\r\n"
            b"connection: close\r\n\r\n" % len(REFUSAL)
        )
        self.transport.write(b"".join(head) + REFUSAL)
        self.linger()

    def linger(self) -> None:
        """Shut the sending side, drop what still comes in, and close after a while (or when the
        client closes first)."""
        if self.lingering or self.transport.is_closing():
            return
        if not self.transport.can_write_eof():
            self.transport.close()
            return
        self.lingering = True
        self.pipeline.clear()
        self.transport.write_eof()
        self.loop.call_later(LINGER_SECONDS, self.transport.close)


class _CycleTransport:
    """The transport as one request's answer sees it: the answer's head is held until its body's
    first write (or the next turn of the event loop) and sent with it; closing it while the
    request body is still coming in lingers (the body was refused); otherwise it closes."""

    def __init__(self, protocol: LimitedHttpToolsProtocol, cycle: RequestResponseCycle) -> None:
        self.protocol = protocol
        self.cycle = cycle
        self.transport = protocol.transport
        self.head_written = False
        self.held: bytes | None = None

    def write(self, data: bytes) -> None:
        if not self.head_written and self.cycle.response_started:
            # uvicorn marks the answer started, then writes its head (a "100 Continue" written
            # before that is not held: the client waits for it to send the body)
            self.head_written = True
            self.held = data
            self.protocol.loop.call_soon(self.flush)
            return
        if self.held is not None:
            data, self.held = self.held + data, None
        self.transport.write(data)

    def flush(self) -> None:
        held, self.held = self.held, None
        if held is not None and not self.transport.is_closing():
            self.transport.write(held)

    def is_closing(self) -> bool:
        return self.protocol.lingering or self.transport.is_closing()

    def close(self) -> None:
        self.flush()
        if self.cycle.more_body and not self.cycle.disconnected:
            self.protocol.linger()
        else:
            self.transport.close()


class Wakeup:
    """A direct cycle's ``message_event``: set when more of the body came, all of it, or the
    client went away. An object of its own, so that the cycle holds no reference to itself: a
    cycle in references outlives its request until the garbage collector finds it, with the
    request's headers, and made a worker collect ten times as often as the floor."""

    __slots__ = ("waiter",)

    def __init__(self) -> None:
        self.waiter: asyncio.Future[None] | None = None

    def set(self) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(None)


class DirectCycle:
    """One request answered without ASGI. The protocol and uvicorn's parser callbacks treat it as
    the request's ``RequestResponseCycle``: they add its body, mark it complete or its client
    gone, start it (or queue it behind a pipelined request) and stop its keep-alive."""

    __slots__ = (
        "app",
        "body",
        "disconnected",
        "headers",
        "keep_alive",
        "message_event",
        "more_body",
        "protocol",
        "response_complete",
        "route",
        "transport",
    )

    def __init__(
        self,
        protocol: LimitedHttpToolsProtocol,
        app: DirectApp,
        route: tuple[str, str],
        keep_alive: bool,
    ) -> None:
        self.protocol = protocol
        self.app = app
        self.route = route
        self.headers = protocol.headers
        self.transport = protocol.transport
        self.keep_alive = keep_alive
        self.body = bytearray()
        self.more_body = True
        self.disconnected = False
        self.response_complete = False
        self.message_event = Wakeup()  # the parser's callbacks ``set()`` it

    async def run_asgi(self, _: object) -> None:
        protocol = self.protocol
        try:
            while self.more_body and not self.disconnected:  # a body still on its way
                waiter = self.message_event.waiter = protocol.loop.create_future()
                await waiter
            if self.disconnected:
                return
            slug, endpoint = self.route
            source = await protocol.source()
            status, headers, body = await self.app.answer(
                slug, endpoint, self.headers, bytes(self.body), source
            )
            if protocol.flow.write_paused and not self.disconnected:
                await protocol.flow.drain()
            if self.disconnected:
                return
            self.transport.write(self.head(status, headers, len(body)) + body)
            self.response_complete = True
            if not self.keep_alive:
                self.transport.close()
            protocol.on_response_complete()
        except BaseException:  # as uvicorn's cycle does: logged, a 500 if nothing was sent
            logging.getLogger("uvicorn.error").exception("Exception in direct answer")
            if not self.response_complete and not self.transport.is_closing():
                self.transport.write(INTERNAL_ERROR)
                self.transport.close()

    def head(self, status: int, headers: Headers, length: int) -> bytes:
        """The status line and headers, as uvicorn writes them for the same ASGI answer."""
        global _defaults  # noqa: PLW0603 - one encoding for the whole process
        defaults = self.protocol.server_state.default_headers
        encoded = _defaults
        if encoded[0] is not defaults:  # the server renews its Date header every second
            encoded = _defaults = (defaults, b"".join(b"%s: %s\r\n" % pair for pair in defaults))
        fixed = _FIXED.get(headers) if isinstance(headers, tuple) else None
        if fixed is None:
            fixed = _encoded(headers)
            if isinstance(headers, tuple) and len(_FIXED) < 64:
                _FIXED[headers] = fixed
        close = b"" if self.keep_alive else b"connection: close\r\n"
        return b"%s%s%scontent-length: %d\r\n%s\r\n" % (
            STATUS_LINE[status],
            encoded[1],
            fixed,
            length,
            close,
        )


# The server's default headers and their encoding; answer headers that are constants, encoded.
_defaults: tuple[object, bytes] = (None, b"")
_FIXED: dict[tuple[tuple[bytes, bytes], ...], bytes] = {}
_PROXIES: weakref.WeakKeyDictionary[Config, ProxyHeadersMiddleware] = weakref.WeakKeyDictionary()


def _encoded(headers: Headers) -> bytes:
    """Names and values checked as uvicorn checks an ASGI answer's (no control characters)."""
    lines = []
    for name, value in headers:
        if HEADER_RE.search(name) or HEADER_VALUE_RE.search(value):
            raise RuntimeError("Invalid HTTP header name or value.")
        lines.append(b"%s: %s\r\n" % (name.lower(), value))
    return b"".join(lines)


def _direct_of(config: Config) -> tuple[DirectApp | None, ProxyHeadersMiddleware | None]:
    """The app's direct answers, unless the server is set up to see every request as ASGI (a
    root path, a concurrency limit; trace logging wraps the app in uvicorn's message logger, which
    offers none); and the trusted proxies' reading of the caller's address, if the server has
    one."""
    app = config.loaded_app
    proxied = isinstance(app, ProxyHeadersMiddleware)
    if proxied:
        app = app.app
    direct = getattr(app, "direct", None)
    if direct is None or config.root_path or config.limit_concurrency is not None:
        return None, None
    if not proxied:
        return direct, None
    proxy = _PROXIES.get(config)
    if proxy is None:
        proxy = _PROXIES[config] = ProxyHeadersMiddleware(
            _nothing,
            trusted_hosts=config.forwarded_allow_ips,
        )
    return direct, proxy


async def _nothing(*_: object) -> None:
    return None
