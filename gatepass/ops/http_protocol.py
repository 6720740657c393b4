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

It is kept light, with no import of the app: the ``serve --workers N`` supervisor loads it too.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import (
    STATUS_LINE,
    HttpToolsProtocol,
    RequestResponseCycle,
)
from uvicorn.server import ServerState

REFUSAL = b"the request line and headers are too large"
LINGER_SECONDS = 2.0


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

    def on_url(self, url: bytes) -> None:
        if not self.refused:
            super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self.header_count += 1
        if self.header_count > self.limits.max_headers:
            self.refuse()
        if not self.refused:
            super().on_header(name, value)

    def on_headers_complete(self) -> None:
        if self.refused:
            return
        self.head_bytes = None
        before = self.cycle
        super().on_headers_complete()
        if self.cycle is not before:  # a request to answer (not a protocol upgrade)
            self.cycle.transport = _CycleTransport(self, self.cycle)  # type: ignore[assignment]

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
