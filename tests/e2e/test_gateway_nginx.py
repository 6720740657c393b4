"""Debian's nginx, configured by ``docs/gateways/nginx.conf`` as written, protects an upstream API
that knows nothing of Gatepass: nginx's ``auth_request`` asks ``gatepass serve``'s gateway check.

The upstream is a plain HTTP server that answers every request with what it received, so the
tests see exactly what reached the API (and whether anything did).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests

from gatepass.apikeys import service as apikeys
from gatepass.settings import Settings
from tests.apikeys.support import Key, create_key
from tests.apikeys.support import revoke as revoke_key
from tests.cluster.harness import nginx_binary
from tests.e2e.conftest import Server, free_port
from tests.factories import Factory
from tests.windows import wait_for_a_fresh_window

pytestmark = pytest.mark.e2e

DOCUMENTED = Path(__file__).resolve().parents[2] / "docs" / "gateways" / "nginx.conf"
CONF = """\
{user}worker_processes 1;
error_log {root}/error.log warn;
pid {root}/nginx.pid;
events {{ worker_connections 64; }}
http {{
    access_log {root}/access.log;
    client_body_temp_path {root}/body;
    proxy_temp_path {root}/proxy;
    fastcgi_temp_path {root}/fastcgi;
    uwsgi_temp_path {root}/uwsgi;
    scgi_temp_path {root}/scgi;
    upstream gatepass {{ server 127.0.0.1:{gatepass}; }}
    upstream api {{ server 127.0.0.1:{api}; }}
{server}
}}
"""


class Upstream:
    """An API that answers each request with its method, path and headers, and counts them."""

    def __init__(self) -> None:
        self.seen: list[dict[str, Any]] = []
        upstream = self

        class Echo(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                request = {
                    "path": self.path,
                    "headers": {k.lower(): v for k, v in self.headers.items()},
                }
                upstream.seen.append(request)
                body = json.dumps(request).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Echo)
        self.port = self.http.server_address[1]
        threading.Thread(
            target=self.http.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        ).start()

    def close(self) -> None:
        self.http.shutdown()
        self.http.server_close()


@pytest.fixture(scope="module")
def upstream() -> Iterator[Upstream]:
    made = Upstream()
    yield made
    made.close()


@pytest.fixture(scope="module")
def nginx(
    module_server: Server, upstream: Upstream, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    binary = nginx_binary()
    if binary is None:
        pytest.fail("nginx is not installed (make nginx)")
    root = tmp_path_factory.mktemp("nginx-gateway")
    port = free_port()
    server_block = DOCUMENTED.read_text().replace("listen 8000;", f"listen 127.0.0.1:{port};")
    gatepass_port = module_server.base_url.rsplit(":", 1)[1]
    user = "user root;\n" if os.geteuid() == 0 else ""  # else its workers cannot read root
    conf = root / "nginx.conf"
    conf.write_text(
        CONF.format(
            user=user, root=root, gatepass=gatepass_port, api=upstream.port, server=server_block
        )
    )
    process = subprocess.Popen(
        [
            str(binary),
            "-p",
            str(root),
            "-c",
            str(conf),
            "-e",
            str(root / "error.log"),
            "-g",
            "daemon off;",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    _wait_listening(process, url, root)
    yield url
    process.send_signal(signal.SIGQUIT)
    process.wait(timeout=15)


def _wait_listening(process: subprocess.Popen[bytes], url: str, root: Path) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"nginx exited:\n{(root / 'error.log').read_text()}")
        try:
            requests.get(url, timeout=1)
            return
        except requests.RequestException:
            time.sleep(0.05)
    pytest.fail("nginx did not listen")


@pytest.fixture(scope="module")
def acme(module_settings: Settings) -> Iterator[None]:
    made = Factory(module_settings)
    made.tenant()
    yield
    made.close()


@pytest.fixture
def settings(module_settings: Settings, acme: None) -> Settings:
    return module_settings


def through(
    nginx: str, upstream: Upstream, path: str, **headers: str
) -> tuple[requests.Response, int]:
    """nginx's answer, and how many requests reached the upstream meanwhile."""
    before = len(upstream.seen)
    response = requests.get(nginx + path, headers=headers, timeout=10)
    return response, len(upstream.seen) - before


def assert_reached_as(response: requests.Response, subject: str, kind: str) -> dict[str, str]:
    assert response.status_code == 200, response.text
    headers: dict[str, str] = response.json()["headers"]
    assert headers["x-gatepass-subject"] == subject
    assert headers["x-gatepass-kind"] == kind
    return headers


def nql_key(factory: Factory, **options: Any) -> Key:
    return create_key(factory, scopes=("nql",), groups=("emea",), **options)


@pytest.mark.parametrize("where", ["X-API-Key", "Authorization-PSK", "query"])
def test_a_key_reaches_the_api_with_its_identity(
    factory: Factory, nginx: str, upstream: Upstream, where: str
) -> None:
    key = nql_key(factory)
    if where == "query":
        response, reached = through(nginx, upstream, f"/runs/7?apikey={key.secret}")
    else:
        response, reached = through(nginx, upstream, "/runs/7", **{where: key.secret})

    headers = assert_reached_as(response, key.key_id, "api_key")
    assert reached == 1
    assert headers["x-gatepass-scopes"] == "nql"
    assert headers["x-gatepass-groups"] == "emea"
    assert response.json()["path"].startswith("/runs/7")


def test_a_token_reaches_the_api_with_its_client(
    factory: Factory, nginx: str, upstream: Upstream, module_server: Server
) -> None:
    cred = factory.client(scopes=("nql", "workflows"))
    token = requests.post(
        module_server.token_url("acme"),
        data={"grant_type": "client_credentials"},
        auth=(cred.client_id, cred.secret),
        timeout=10,
    ).json()["access_token"]

    response, _ = through(nginx, upstream, "/reports/q1", Authorization=f"Bearer {token}")

    headers = assert_reached_as(response, cred.client_id, "oauth_client")
    assert headers["x-gatepass-scopes"] == "nql workflows"


def test_no_credential_is_401_with_the_challenge(nginx: str, upstream: Upstream) -> None:
    response, reached = through(nginx, upstream, "/runs/7")
    assert (response.status_code, reached) == (401, 0)
    assert response.headers["www-authenticate"] == 'Bearer realm="acme"'


def test_a_revoked_key_is_401_invalid_token(
    factory: Factory, nginx: str, upstream: Upstream
) -> None:
    key = nql_key(factory)
    revoke_key(factory, key)
    deadline = time.monotonic() + 8  # the server learns of the revocation from the change feed
    response, reached = through(nginx, upstream, "/runs/7", **{"X-API-Key": key.secret})
    while response.status_code == 200 and time.monotonic() < deadline:
        response, reached = through(nginx, upstream, "/runs/7", **{"X-API-Key": key.secret})
    assert (response.status_code, reached) == (401, 0)
    assert 'error="invalid_token"' in response.headers["www-authenticate"]


def test_a_missing_permission_is_403_with_the_scope(
    factory: Factory, nginx: str, upstream: Upstream
) -> None:
    key = nql_key(factory)
    response, reached = through(nginx, upstream, "/reports/q1", **{"X-API-Key": key.secret})
    assert (response.status_code, reached) == (403, 0)
    challenge = response.headers["www-authenticate"]
    assert re.search(r'error="insufficient_scope", scope="workflows"', challenge), challenge


def test_a_caller_cannot_send_its_own_identity(
    factory: Factory, nginx: str, upstream: Upstream
) -> None:
    key = nql_key(factory)
    forged = {
        "X-Gatepass-Subject": "admin",
        "X-Gatepass-Scopes": "tenant:admin",
        "X-Gatepass-Groups": "",
    }

    response, reached = through(nginx, upstream, "/runs/7", **forged)
    assert (response.status_code, reached) == (401, 0)

    response, _ = through(nginx, upstream, "/runs/7", **forged, **{"X-API-Key": key.secret})
    headers = assert_reached_as(response, key.key_id, "api_key")
    assert headers["x-gatepass-scopes"] == "nql"
    assert headers["x-gatepass-groups"] == "emea"


def test_two_credentials_are_400(factory: Factory, nginx: str, upstream: Upstream) -> None:
    key = nql_key(factory)
    response, reached = through(
        nginx, upstream, f"/runs/7?apikey={key.secret}", **{"X-API-Key": key.secret}
    )
    assert (response.status_code, reached) == (400, 0)


def test_a_spent_rate_limit_is_429_with_retry_after(
    factory: Factory, nginx: str, upstream: Upstream
) -> None:
    key = nql_key(factory, rate_limit=apikeys.RateLimit(1, 3600))
    wait_for_a_fresh_window(3600)
    first, _ = through(nginx, upstream, "/runs/7", **{"X-API-Key": key.secret})
    second, reached = through(nginx, upstream, "/runs/7", **{"X-API-Key": key.secret})
    assert first.status_code == 200
    assert (second.status_code, reached) == (429, 0)
    assert 1 <= int(second.headers["retry-after"]) <= 3600
