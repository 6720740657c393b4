"""The server answers the plain POSTs to the protocol endpoints without ASGI, and as ASGI would.

The real app (lifespan, cache, database) behind the server's own HTTP protocol, fed raw request
bytes through a transport that records what is written. A request is taken the direct way when
its answer cycle is a ``DirectCycle``; the same request with an empty query (``?``) takes the ASGI
path, and both answers are compared, headers and body.
"""

from __future__ import annotations

import asyncio
import base64
import gc
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from uvicorn.config import Config
from uvicorn.server import ServerState

from gatepass.app import create_app
from gatepass.ops.http_protocol import DirectCycle, HeadLimits, LimitedHttpToolsProtocol
from gatepass.settings import Settings
from tests.apikeys.support import create_key, verifier
from tests.factories import Credential, Factory
from tests.transports import RecordingTransport

TOKEN = "/realms/acme/protocol/openid-connect/token"
INTROSPECT = "/realms/acme/protocol/openid-connect/token/introspect"
REVOKE = "/realms/acme/protocol/openid-connect/revoke"
VERIFY = "/realms/acme/api-keys/verify"
FORM = "application/x-www-form-urlencoded"
WAIT = 10.0  # seconds an answer may take (a first request loads the realm from the database)


@dataclass
class Answer:
    status: int
    headers: list[tuple[str, str]]  # in order, without Date
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def answers(data: bytes) -> list[Answer]:
    """The HTTP answers in ``data``, one after the other (each with a Content-Length)."""
    found = []
    while data:
        head, _, rest = data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ")[1])
        if status < 200:  # "100 Continue": an interim answer, with no body
            data = rest
            continue
        headers = [(name, value) for name, _, value in (line.partition(": ") for line in lines[1:])]
        length = int(dict(headers)["content-length"])
        found.append(Answer(status, [h for h in headers if h[0] != "date"], rest[:length]))
        data = rest[length:]
    return found


def request(
    path: str,
    body: bytes,
    *,
    authorization: str | None = None,
    content_type: str | None = FORM,
    extra: tuple[str, ...] = (),
    length: bool = True,
    version: str = "1.1",
) -> bytes:
    lines = [f"POST {path} HTTP/{version}", "Host: testserver"]
    if authorization is not None:
        lines.append(f"Authorization: {authorization}")
    if content_type is not None:
        lines.append(f"Content-Type: {content_type}")
    if length:
        lines.append(f"Content-Length: {len(body)}")
    lines.extend(extra)
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


class Recording(LimitedHttpToolsProtocol):
    """The server's protocol, noting the answer cycle of each request whose head it read."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.cycles: list[object] = []

    def on_headers_complete(self) -> None:
        super().on_headers_complete()
        self.cycles.append(self.cycle)


@dataclass
class Connection:
    protocol: Recording
    transport: RecordingTransport

    def send(self, data: bytes) -> None:
        self.protocol.data_received(data)

    @property
    def direct(self) -> list[bool]:
        """For each request read: whether it is answered the direct way."""
        return [isinstance(cycle, DirectCycle) for cycle in self.protocol.cycles]

    async def answers(self, count: int) -> list[Answer]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + WAIT
        while loop.time() < deadline:
            try:
                found = answers(self.transport.data)
            except (ValueError, KeyError, IndexError):  # an answer still being written
                found = []
            if len(found) >= count:
                return found
            await asyncio.sleep(0.005)
        raise AssertionError(f"{count} answers expected; written: {self.transport.data!r}")


@dataclass
class Server:
    app: Any
    settings: Settings
    proxies: str | None = None
    state: ServerState = field(default_factory=ServerState)

    def connect(self, peer: str = "127.0.0.1") -> Connection:
        config = Config(
            self.app,
            log_config=None,
            access_log=False,
            lifespan="off",
            proxy_headers=self.proxies is not None,
            forwarded_allow_ips=self.proxies or "",
        )
        config.load()
        loop = asyncio.get_running_loop()
        protocol = Recording(config, self.state, {}, loop, limits=HeadLimits())
        transport = RecordingTransport(peer)
        protocol.connection_made(transport)
        return Connection(protocol, transport)

    async def one(self, data: bytes, peer: str = "127.0.0.1") -> tuple[bool, Answer]:
        """Send one request on a new connection: whether it was direct, and its answer."""
        connection = self.connect(peer)
        connection.send(data)
        (answer,) = await connection.answers(1)
        return connection.direct == [True], answer


@asynccontextmanager
async def serving(settings: Settings, proxies: str | None = None) -> AsyncIterator[Server]:
    """The app with its lifespan running (cache, failure log), as a ``serve`` worker runs it."""
    app = create_app(settings)
    started, stop = asyncio.Event(), asyncio.Event()
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "lifespan.startup"}
        await stop.wait()
        return {"type": "lifespan.shutdown"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"].endswith(("complete", "failed")) and "startup" in message["type"]:
            started.set()

    task = asyncio.create_task(app({"type": "lifespan", "asgi": {"version": "3.0"}}, receive, send))
    await started.wait()
    try:
        yield Server(app, settings, proxies)
    finally:
        stop.set()
        await task


def run(settings: Settings, test: Callable[[Server], Any], proxies: str | None = None) -> None:
    async def main() -> None:
        async with serving(settings, proxies) as server:
            await test(server)

    asyncio.run(main())


def same(direct: Answer, asgi: Answer) -> None:
    assert direct.status == asgi.status
    assert direct.headers == asgi.headers
    if direct.status == 200 and direct.body.startswith(b'{"access_token"'):
        a, b = direct.json(), asgi.json()
        assert a.keys() == b.keys()
        assert {k: v for k, v in a.items() if k != "access_token"} == {
            k: v for k, v in b.items() if k != "access_token"
        }
    else:
        assert direct.body == asgi.body


@pytest.fixture
def caller(acme: Factory) -> Credential:
    return acme.client(scopes=("nql", "workflows"))


def cases(caller: Credential, resource_server: Credential, key: str) -> dict[str, bytes]:
    """Requests the direct way takes, each with the answer it must get from both ways."""
    good = caller.basic
    wrong = "Basic " + base64.b64encode(f"{caller.client_id}:gpcs_wrong".encode()).decode()
    token = b"grant_type=client_credentials&scope=nql"
    return {
        "a token": request(TOKEN, token, authorization=good),
        "a token for a scope not granted": request(
            TOKEN, b"grant_type=client_credentials&scope=campaigns", authorization=good
        ),
        "a wrong secret": request(TOKEN, token, authorization=wrong),
        "no client authentication": request(TOKEN, token),
        "a form as JSON": request(TOKEN, b"{}", authorization=good, content_type="text/json"),
        "authorization twice": request(
            TOKEN, token, authorization=good, extra=(f"Authorization: {good}",)
        ),
        "an unknown grant type": request(TOKEN, b"grant_type=password", authorization=good),
        "a realm that does not exist": request(
            TOKEN.replace("acme", "nowhere"), token, authorization=good
        ),
        "a realm name no realm can have": request(
            TOKEN.replace("acme", "a:b"), token, authorization=good
        ),
        "an introspection": request(INTROSPECT, b"token=abc", authorization=good),
        "a revocation": request(REVOKE, b"token=abc", authorization=good),
        "a key check": request(
            VERIFY,
            json.dumps({"key": key}).encode(),
            authorization=resource_server.basic,
            content_type="application/json",
        ),
        "a key check of a key that is not one": request(
            VERIFY,
            b'{"key": "gpk_nothing"}',
            authorization=resource_server.basic,
            content_type="application/json",
        ),
        "a key check that is not JSON": request(
            VERIFY, b"key=1", authorization=resource_server.basic, content_type="application/json"
        ),
    }


def test_each_plain_request_is_answered_directly_as_asgi_answers_it(
    settings: Settings, acme: Factory, caller: Credential
) -> None:
    resource_server = verifier(acme)
    key = create_key(acme).secret
    requests = cases(caller, resource_server, key)

    async def test(server: Server) -> None:
        for name, data in requests.items():
            direct, answer = await server.one(data)
            assert direct, name
            head, _, body = data.partition(b" HTTP/")
            through_asgi, expected = await server.one(head + b"? HTTP/" + body)
            assert not through_asgi, name
            same(answer, expected)

        _, token = await server.one(requests["a token"])
        assert token.status == 200
        assert token.json()["scope"] == "nql"
        assert ("cache-control", "no-store") in token.headers
        _, refused = await server.one(requests["a wrong secret"])
        assert refused.status == 401
        assert refused.json()["error"] == "invalid_client"
        assert any(name == "www-authenticate" for name, _ in refused.headers)
        _, checked = await server.one(requests["a key check"])
        assert checked.json()["valid"] is True

    run(settings, test)


@pytest.mark.parametrize(
    ("name", "data", "status"),
    [
        (
            "a query",
            request(TOKEN + "?x=1", b"grant_type=client_credentials"),
            401,
        ),
        (
            "a percent-encoded path",
            request(TOKEN.replace("token", "%74oken"), b"grant_type=client_credentials"),
            401,
        ),
        (
            "a chunked body",
            request(
                TOKEN,
                b"1d\r\ngrant_type=client_credentials\r\n0\r\n\r\n",
                length=False,
                extra=("Transfer-Encoding: chunked",),
            ),
            401,
        ),
        (
            "Expect: 100-continue",
            request(TOKEN, b"grant_type=client_credentials", extra=("Expect: 100-continue",)),
            401,
        ),
        ("no Content-Length", request(TOKEN, b"", length=False), 400),
        (
            "a body over the limit",
            request(TOKEN, b"scope=" + b"x" * 20_000),
            413,
        ),
        (
            "a GET",
            b"GET " + TOKEN.encode() + b" HTTP/1.1\r\nHost: testserver\r\n\r\n",
            405,
        ),
        (
            "the realm's keys",
            b"POST /realms/acme/protocol/openid-connect/certs HTTP/1.1\r\n"
            b"Host: testserver\r\nContent-Length: 0\r\n\r\n",
            405,
        ),
    ],
)
def test_what_the_direct_way_leaves_to_asgi(
    settings: Settings, acme: Factory, name: str, data: bytes, status: int
) -> None:
    async def test(server: Server) -> None:
        connection = server.connect()
        connection.send(data)
        (answer,) = await connection.answers(1)
        assert connection.direct == [False], name
        assert answer.status == status, answer.body

    run(settings, test)


def test_a_body_that_comes_later_is_waited_for(
    settings: Settings, acme: Factory, caller: Credential
) -> None:
    data = request(TOKEN, b"grant_type=client_credentials&scope=nql", authorization=caller.basic)
    head, _, body = data.partition(b"\r\n\r\n")

    async def test(server: Server) -> None:
        connection = server.connect()
        connection.send(head + b"\r\n\r\n" + body[:10])
        for _ in range(20):
            await asyncio.sleep(0)
        assert connection.transport.data == b""  # nothing to answer yet
        connection.send(body[10:])
        (answer,) = await connection.answers(1)
        assert connection.direct == [True]
        assert answer.status == 200
        assert answer.json()["scope"] == "nql"

    run(settings, test)


def test_pipelined_requests_are_answered_in_order(
    settings: Settings, acme: Factory, caller: Credential
) -> None:
    token = b"grant_type=client_credentials&scope=nql"
    first = request(TOKEN, token, authorization=caller.basic)
    second = request(TOKEN + "?", token, content_type="text/plain")  # through ASGI
    third = request(TOKEN, b"grant_type=password", authorization=caller.basic)
    fourth = request(TOKEN, token, authorization=caller.basic)

    async def test(server: Server) -> None:
        connection = server.connect()
        connection.send(first + second + third + fourth)
        found = await connection.answers(4)
        assert [a.status for a in found] == [200, 400, 400, 200]
        assert found[1].json()["error"] == "invalid_request"
        assert found[2].json()["error"] == "unsupported_grant_type"
        assert connection.direct == [True, False, True, True]
        assert not connection.transport.closed

    run(settings, test)


@pytest.mark.parametrize(
    ("version", "extra"),
    [("1.0", ()), ("1.1", ("Connection: close",))],
)
def test_a_connection_not_kept_alive_is_closed_after_the_answer(
    settings: Settings, acme: Factory, caller: Credential, version: str, extra: tuple[str, ...]
) -> None:
    data = request(
        TOKEN,
        b"grant_type=client_credentials",
        authorization=caller.basic,
        version=version,
        extra=extra,
    )

    async def test(server: Server) -> None:
        connection = server.connect()
        connection.send(data)
        (answer,) = await connection.answers(1)
        assert connection.direct == [True]
        assert answer.status == 200
        assert ("connection", "close") in answer.headers
        assert connection.transport.closed

    run(settings, test)


def test_a_client_gone_before_its_body_gets_no_answer(
    settings: Settings, acme: Factory, caller: Credential
) -> None:
    data = request(TOKEN, b"grant_type=client_credentials", authorization=caller.basic)

    async def test(server: Server) -> None:
        connection = server.connect()
        connection.send(data[:-5])
        connection.protocol.connection_lost(None)
        for _ in range(50):
            await asyncio.sleep(0)
        assert connection.direct == [True]
        assert connection.transport.data == b""

    run(settings, test)


def test_shutting_down_closes_a_connection_after_its_answer(
    settings: Settings, acme: Factory, caller: Credential
) -> None:
    data = request(TOKEN, b"grant_type=client_credentials", authorization=caller.basic)

    async def test(server: Server) -> None:
        connection = server.connect()
        connection.send(data)
        connection.protocol.shutdown()  # before the answer: it is sent, then the connection closes
        assert not connection.transport.closed
        (answer,) = await connection.answers(1)
        assert answer.status == 200
        assert ("connection", "close") in answer.headers
        assert connection.transport.closed

    run(settings, test)


@pytest.mark.parametrize(
    ("peer", "forwarded", "allowed"),
    [
        ("127.0.0.1", "203.0.113.7", True),  # a trusted proxy, for an allowed address
        ("127.0.0.1", "198.51.100.1", False),  # a trusted proxy, for another address
        ("10.1.2.3", "203.0.113.7", False),  # anyone else: the header is not believed
        ("203.0.113.7", None, True),  # the allowed address itself, no proxy
    ],
)
def test_an_ip_allowlist_sees_the_address_a_trusted_proxy_forwards(
    settings: Settings, acme: Factory, peer: str, forwarded: str | None, allowed: bool
) -> None:
    caller = acme.client(scopes=("nql",), allowed_ips=("203.0.113.7",))
    extra = (f"X-Forwarded-For: {forwarded}",) if forwarded else ()
    data = request(TOKEN, b"grant_type=client_credentials", authorization=caller.basic, extra=extra)

    async def test(server: Server) -> None:
        direct, answer = await server.one(data, peer=peer)
        assert direct
        assert answer.status == (200 if allowed else 401), answer.body
        head, _, body = data.partition(b" HTTP/")
        _, expected = await server.one(head + b"? HTTP/" + body, peer=peer)
        same(answer, expected)

    run(settings, test, proxies="127.0.0.1")


def test_an_answer_carries_the_servers_date_as_it_is_renewed(
    settings: Settings, acme: Factory
) -> None:
    data = request(TOKEN, b"grant_type=client_credentials")

    async def test(server: Server) -> None:
        for date in (b"Sat, 05 Dec 2026 21:00:00 GMT", b"Sat, 05 Dec 2026 21:00:01 GMT"):
            server.state.default_headers = [(b"date", date)]  # as uvicorn renews it each second
            connection = server.connect()
            connection.send(data)
            await connection.answers(1)
            assert connection.direct == [True]
            assert connection.transport.data.startswith(
                b"HTTP/1.1 401 Unauthorized\r\ndate: " + date + b"\r\ncontent-type: "
            )

    run(settings, test)


def test_a_direct_answer_leaves_nothing_for_the_garbage_collector(
    settings: Settings, acme: Factory, caller: Credential
) -> None:
    """A request's cycle and headers are freed with it, not by a later collection (a cycle that
    referred to itself made a worker collect ten times as often as the floor)."""
    data = request(TOKEN, b"grant_type=client_credentials&scope=nql", authorization=caller.basic)

    async def test(server: Server) -> None:
        connection = server.connect()
        for sent in range(1, 26):
            if sent == 6:  # after a few, as a warm worker
                gc.collect()
                gc.set_debug(gc.DEBUG_SAVEALL)
            connection.send(data)
            await connection.answers(sent)
        try:
            gc.collect()
            left = [found for found in gc.garbage if isinstance(found, DirectCycle)]
        finally:
            gc.set_debug(0)
            gc.garbage.clear()
        assert connection.direct == [True] * 25
        assert left == []

    run(settings, test)
