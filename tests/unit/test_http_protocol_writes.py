"""The HTTP server sends an answer's head and body in one write; a streamed head goes out alone.

Driven with a transport that records each write, so what is checked is the number and content of
the writes, never a time.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from uvicorn.config import Config
from uvicorn.server import ServerState

from gatepass.ops.http_protocol import HeadLimits, LimitedHttpToolsProtocol, _encoded
from tests.transports import RecordingTransport

REQUEST = b"GET / HTTP/1.1\r\nHost: test\r\n\r\n"


async def serve(app: Any, transport: RecordingTransport | None = None) -> RecordingTransport:
    config = Config(app, log_config=None, access_log=False, lifespan="off")
    config.load()
    loop = asyncio.get_running_loop()
    protocol = LimitedHttpToolsProtocol(config, ServerState(), {}, loop, limits=HeadLimits())
    transport = transport or RecordingTransport()
    protocol.connection_made(transport)
    protocol.data_received(REQUEST)
    for _ in range(20):  # the app's task, then the held head's turn
        await asyncio.sleep(0)
    return transport


async def whole(scope: Any, receive: Any, send: Any) -> None:
    headers = [(b"content-type", b"application/json"), (b"content-length", b"11")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": b'{"ok":true}'})


def test_head_and_body_go_out_in_one_write() -> None:
    transport = asyncio.run(serve(whole))
    assert len(transport.writes) == 1
    head, _, body = transport.writes[0].partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK")
    assert body == b'{"ok":true}'


def test_a_streamed_head_goes_out_before_its_body_is_ready() -> None:
    transport = RecordingTransport()
    sent_before_body: list[bytes] = []

    async def streamed(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        for _ in range(3):  # the body takes a few turns of the event loop
            await asyncio.sleep(0)
        sent_before_body.extend(transport.writes)
        await send({"type": "http.response.body", "body": b"done"})

    asyncio.run(serve(streamed, transport))
    assert len(sent_before_body) == 1
    assert sent_before_body[0].startswith(b"HTTP/1.1 200 OK")
    assert transport.writes[-1] == b"4\r\ndone\r\n0\r\n\r\n"


def test_closing_sends_a_held_head_first() -> None:
    async def no_body_then_close(scope: Any, receive: Any, send: Any) -> None:
        headers = [(b"content-length", b"0"), (b"connection", b"close")]
        await send({"type": "http.response.start", "status": 204, "headers": headers})
        await send({"type": "http.response.body", "body": b""})

    transport = asyncio.run(serve(no_body_then_close))
    assert transport.closed
    assert b"".join(transport.writes).startswith(b"HTTP/1.1 204 No Content")


def test_a_direct_answer_header_with_a_control_character_is_refused_as_uvicorn_refuses_it() -> None:
    assert _encoded([(b"Cache-Control", b"no-store")]) == b"cache-control: no-store\r\n"
    for name, value in [(b"x-a", b"1\r\nset-cookie: a=b"), (b"x-a", b"\x00"), (b"x a", b"1")]:
        with pytest.raises(RuntimeError):
            _encoded([(name, value)])
