"""Request limits of ``gatepass serve``, spoken to over raw sockets as a hostile client would.

Bodies are limited on every route (413 before more than the limit is read), request heads by the
HTTP server (431); a request within the limits is served as before.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest
import requests

from tests.e2e.conftest import Server

pytestmark = pytest.mark.e2e

CLIENTS = "/api/v1/realms/acme/clients"
MANAGEMENT_LIMIT = 256 * 1024  # the default of GATEPASS_MAX_MANAGEMENT_BODY_BYTES


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes


def exchange(server: Server, head: bytes, body: Iterable[bytes] = ()) -> Answer:
    """Send ``head`` and then ``body`` (as far as the server lets it), and read the answer."""
    address = urlsplit(server.base_url)
    with socket.create_connection((address.hostname, address.port), timeout=10) as sock:
        sock.sendall(head)
        try:
            for piece in body:
                sock.sendall(piece)
        except OSError:  # the server may stop reading once it has answered
            pass
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    return parse(received)


def parse(raw: bytes) -> Answer:
    head, _, body = raw.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return Answer(int(status_line.split()[1]), headers, body)


def request_head(method: str, path: str, *headers: str) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", *headers, "", ""]
    return "\r\n".join(lines).encode()


@pytest.fixture
def server(module_server: Server) -> Server:
    """One server for the module: each test speaks to it on its own connections."""
    return module_server


def assert_problem(answer: Answer, status: int, code: str) -> None:
    assert answer.status == status, answer
    assert answer.headers["content-type"] == "application/problem+json"
    assert json.loads(answer.body)["code"] == code


def assert_still_serving(server: Server) -> None:
    assert requests.get(f"{server.base_url}/readyz", timeout=5).status_code == 200


def test_a_declared_length_over_the_limit_is_refused_without_reading_the_body(
    server: Server,
) -> None:
    head = request_head(
        "POST", CLIENTS, "Content-Type: application/json", "Content-Length: 104857600"
    )
    answer = exchange(server, head)  # not a byte of the 100 MB is sent
    assert_problem(answer, 413, "payload_too_large")
    assert answer.headers["connection"] == "close"
    assert_still_serving(server)


def test_a_chunked_body_is_refused_once_it_streams_past_the_limit(server: Server) -> None:
    piece = b"a" * 16 * 1024
    chunks = [b"%x\r\n%s\r\n" % (len(piece), piece)] * (MANAGEMENT_LIMIT // len(piece) + 4)
    head = request_head(
        "POST", CLIENTS, "Content-Type: application/json", "Transfer-Encoding: chunked"
    )
    answer = exchange(server, head, chunks)  # no last chunk: the body never ends
    assert_problem(answer, 413, "payload_too_large")
    assert_still_serving(server)


def test_a_protocol_endpoint_refuses_a_large_body_as_an_oauth_error(server: Server) -> None:
    head = request_head(
        "POST",
        "/realms/acme/protocol/openid-connect/token",
        "Content-Type: application/x-www-form-urlencoded",
        "Content-Length: 1048576",
    )
    answer = exchange(server, head, [b"a" * 1024 * 1024])
    assert answer.status == 413
    assert json.loads(answer.body)["error"] == "invalid_request"


def test_a_one_megabyte_header_is_refused_with_431(server: Server) -> None:
    head = request_head("GET", "/readyz", "X-Padding: " + "a" * 1024 * 1024)
    answer = exchange(server, head)
    assert answer.status == 431
    assert answer.headers["connection"] == "close"
    assert_still_serving(server)


def test_too_many_headers_are_refused_with_431(server: Server) -> None:
    head = request_head("GET", "/readyz", *(f"X-Header-{i}: 1" for i in range(150)))
    assert exchange(server, head).status == 431
    assert_still_serving(server)


def test_requests_within_the_limits_are_served(server: Server) -> None:
    headers = {f"X-Header-{i}": "a" * 100 for i in range(60)}  # about 7 KiB of head
    assert requests.get(f"{server.base_url}/readyz", headers=headers, timeout=5).ok
    body = {"name": "x", "description": "d" * 100_000}  # over the protocol limit, under this one
    answer = requests.post(f"{server.base_url}{CLIENTS}", json=body, timeout=5)
    # Read whole and routed: the API answers that there is no such tenant, not 413.
    assert answer.status_code == 404, answer.text
    assert answer.json()["code"] == "tenant_not_found"
    assert answer.headers["content-type"] == "application/problem+json"
