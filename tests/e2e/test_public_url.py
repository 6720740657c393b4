"""The issuer base follows the server as started unless GATEPASS_PUBLIC_URL is set.

``gatepass serve --host H --port P`` publishes ``http://H:P/realms/{tenant}`` as issuer (and the
endpoints of its discovery documents) when GATEPASS_PUBLIC_URL is unset, ``localhost`` standing
for a wildcard ``--host``; ``gatepass demo --host H --port P`` prints the same URLs, and so does
``make run PORT=P``, which runs both.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import jwt
import pytest
import requests

from gatepass.settings import Settings
from tests.cli.harness import Cli
from tests.e2e.conftest import GATEPASS, Server, free_port, gatepass
from tests.factories import Factory

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
Start = Callable[..., Server]


@pytest.fixture
def start(gatepass_env: dict[str, str], tmp_path: Path) -> Iterator[Start]:
    """``gatepass serve`` on a free port with GATEPASS_PUBLIC_URL as given (unset by default);
    ``command`` replaces the command line, ``{port}`` standing for the port."""
    started: list[Server] = []

    def run(
        *,
        host: str = "127.0.0.1",
        port: int | None = None,
        public_url: str | None = None,
        command: list[str] | None = None,
    ) -> Server:
        port = port or free_port()
        argv = command or [str(GATEPASS), "serve", "--host", host, "--port", "{port}"]
        env = dict(gatepass_env)
        assert not any(k.upper() == "GATEPASS_PUBLIC_URL" for k in env)
        if public_url is not None:
            env["GATEPASS_PUBLIC_URL"] = public_url
        name = f"server-{len(started) + 1}"
        stdout, stderr = tmp_path / f"{name}.stdout", tmp_path / f"{name}.stderr"
        with stdout.open("wb") as out, stderr.open("wb") as err:
            process = subprocess.Popen(
                [part.replace("{port}", str(port)) for part in argv],
                env=env,
                stdout=out,
                stderr=err,
                start_new_session=True,
                cwd=REPO,
            )
        base_url = f"http://127.0.0.1:{port}"
        server = Server(base_url, public_url or base_url, process, stdout, stderr)
        started.append(server)
        server.wait_ready()
        return server

    yield run
    for server in started:
        server.stop()


def discovery(server: Server, tenant: str) -> dict[str, str]:
    url = f"{server.base_url}/realms/{tenant}/.well-known/openid-configuration"
    response = requests.get(url, timeout=5)
    assert response.status_code == 200, response.text
    document: dict[str, str] = response.json()
    return document


def rfc8414(server: Server, tenant: str) -> dict[str, str]:
    url = f"{server.base_url}/.well-known/oauth-authorization-server/realms/{tenant}"
    response = requests.get(url, timeout=5)
    assert response.status_code == 200, response.text
    document: dict[str, str] = response.json()
    return document


def token_issuer(server: Server, tenant: str, client_id: str, secret: str) -> str:
    response = requests.post(
        server.token_url(tenant),
        data={"grant_type": "client_credentials"},
        auth=(client_id, secret),
        timeout=5,
    )
    assert response.status_code == 200, response.text
    claims = jwt.decode(response.json()["access_token"], options={"verify_signature": False})
    issuer: str = claims["iss"]
    return issuer


def assert_published(server: Server, tenant: str, base: str, client_id: str, secret: str) -> None:
    issuer = f"{base}/realms/{tenant}"
    oidc = discovery(server, tenant)
    assert oidc["issuer"] == issuer
    assert oidc["token_endpoint"] == f"{issuer}/protocol/openid-connect/token"
    assert oidc["jwks_uri"] == f"{issuer}/protocol/openid-connect/certs"
    metadata = rfc8414(server, tenant)
    assert metadata["issuer"] == issuer
    assert metadata["token_endpoint"] == oidc["token_endpoint"]
    assert token_issuer(server, tenant, client_id, secret) == issuer


def test_without_a_public_url_the_issuer_is_the_served_host_and_port(
    start: Start, factory: Factory
) -> None:
    factory.tenant("acme")
    caller = factory.client("acme")

    server = start()

    assert server.base_url != "http://127.0.0.1:8080"
    assert_published(server, "acme", server.base_url, caller.client_id, caller.secret)


def test_a_wildcard_host_is_published_as_localhost(start: Start, factory: Factory) -> None:
    factory.tenant("acme")
    caller = factory.client("acme")

    server = start(host="0.0.0.0")  # noqa: S104 - the bind under test

    port = server.base_url.rsplit(":", 1)[1]
    assert_published(server, "acme", f"http://localhost:{port}", caller.client_id, caller.secret)


def test_gatepass_public_url_wins_over_host_and_port(start: Start, factory: Factory) -> None:
    factory.tenant("acme")
    caller = factory.client("acme")

    server = start(public_url="https://id.example.com")

    assert_published(server, "acme", "https://id.example.com", caller.client_id, caller.secret)


def demo_field(out: str, label: str) -> str:
    match = re.search(rf"^\s*{label}\s+(\S+)\s*$", out, re.MULTILINE)
    assert match, f"no {label!r} line in:\n{out}"
    return match.group(1)


def printed_token_endpoint(out: str) -> str:
    match = re.search(r"curl -s -X POST (\S+)", out)
    assert match, f"no token request in:\n{out}"
    return match.group(1)


def test_demo_prints_the_urls_of_the_port_it_is_given(settings: Settings) -> None:
    cli = Cli({**Cli.on(settings).env, "GATEPASS_PUBLIC_URL": None})

    out = cli.ok("demo", "--host", "127.0.0.1", "--port", "9000")

    assert "8080" not in out
    endpoint = "http://127.0.0.1:9000/realms/demo/protocol/openid-connect/token"
    assert printed_token_endpoint(out) == endpoint
    assert "http://127.0.0.1:9000/console" in out
    assert "http://127.0.0.1:9000/docs" in out


def test_demo_prints_localhost_for_a_wildcard_host(settings: Settings) -> None:
    cli = Cli({**Cli.on(settings).env, "GATEPASS_PUBLIC_URL": None})

    out = cli.ok("demo", "--host", "::", "--port", "9000")

    assert printed_token_endpoint(out).startswith("http://localhost:9000/realms/demo/")


def test_demo_prints_gatepass_public_url_when_it_is_set(settings: Settings) -> None:
    cli = Cli.on(settings, public_url="https://id.example.com")

    out = cli.ok("demo", "--host", "127.0.0.1", "--port", "9000")

    endpoint = "https://id.example.com/realms/demo/protocol/openid-connect/token"
    assert printed_token_endpoint(out) == endpoint
    assert ":9000" not in out


def test_demo_then_serve_on_the_same_port_agree(start: Start, gatepass_env: dict[str, str]) -> None:
    """What ``make run`` does: the URLs demo prints are those the server publishes."""
    port = free_port()
    out = gatepass(gatepass_env, "demo", "--host", "127.0.0.1", "--port", str(port)).stdout
    endpoint = printed_token_endpoint(out)
    assert endpoint == f"http://127.0.0.1:{port}/realms/demo/protocol/openid-connect/token"

    server = start(port=port)

    assert server.base_url == f"http://127.0.0.1:{port}"
    assert discovery(server, "demo")["token_endpoint"] == endpoint
    client_id, secret = demo_field(out, "client ID"), demo_field(out, "client secret")
    assert token_issuer(server, "demo", client_id, secret) == f"http://127.0.0.1:{port}/realms/demo"


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_run_publishes_the_port_it_is_given(
    start: Start, gatepass_env: dict[str, str]
) -> None:
    """``make run PORT=P``: the demo's printed URLs and the server's issuer carry ``P``."""
    server = start(
        command=[
            "make",
            "--no-print-directory",
            "-o",
            ".venv/.stamp-run",  # the test's own virtualenv is used, never rebuilt
            f"BIN={Path(sys.executable).parent}",
            "run",
            "PORT={port}",
        ],
    )
    port = server.base_url.rsplit(":", 1)[1]
    assert port != "8080"
    out = server.stdout.read_text()
    endpoint = printed_token_endpoint(out)
    assert endpoint == f"http://127.0.0.1:{port}/realms/demo/protocol/openid-connect/token"
    assert discovery(server, "demo")["token_endpoint"] == endpoint
    client_id, secret = demo_field(out, "client ID"), demo_field(out, "client secret")
    assert token_issuer(server, "demo", client_id, secret) == f"http://127.0.0.1:{port}/realms/demo"
