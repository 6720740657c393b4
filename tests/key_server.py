"""A real HTTP server, started in the test, that publishes key sets and discovery documents:
what a client's ``jwks_uri`` or a trusted issuer (GitHub Actions, a Kubernetes cluster) serves.

``serve(path, document)`` publishes JSON; ``answer(path, status, body, ...)`` anything else (a
failure, a redirect, an oversized or trickled body). ``hits[path]`` counts the requests.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Answer:
    status: int = 200
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = (("Content-Type", "application/json"),)
    trickle: float = 0.0  # seconds between bytes: a receiver that answers very slowly


@dataclass
class KeyServer:
    base: str = ""
    answers: dict[str, Answer] = field(default_factory=dict)
    hits: Counter[str] = field(default_factory=Counter)

    def url(self, path: str) -> str:
        return self.base + path

    def serve(self, path: str, document: Any) -> None:
        self.answers[path] = Answer(body=json.dumps(document).encode())

    def answer(self, path: str, status: int, body: bytes = b"", **options: Any) -> None:
        self.answers[path] = Answer(status=status, body=body, **options)

    def issuer(self, path: str, jwks: dict[str, Any]) -> str:
        """Publish an OpenID Connect issuer at ``path``: its discovery document and its keys."""
        issuer = self.url(path)
        self.serve(
            f"{path}/.well-known/openid-configuration",
            {
                "issuer": issuer,
                "jwks_uri": f"{issuer}/jwks",
            },
        )
        self.serve(f"{path}/jwks", jwks)
        return issuer


@contextmanager
def key_server() -> Iterator[KeyServer]:
    server_state = KeyServer()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            server_state.hits[path] += 1
            answer = server_state.answers.get(path, Answer(status=404))
            self.send_response(answer.status)
            for name, value in answer.headers:
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(answer.body)))
            self.end_headers()
            if not answer.trickle:
                self.wfile.write(answer.body)
                return
            for byte in answer.body:
                try:
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
                except OSError:
                    return
                time.sleep(answer.trickle)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    server_state.base = f"http://127.0.0.1:{httpd.server_address[1]}"
    # shutdown() waits for serve_forever's next poll: 0.5 s a test at the default interval
    thread = threading.Thread(
        target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
    )
    thread.start()
    try:
        yield server_state
    finally:
        httpd.shutdown()
        httpd.server_close()
