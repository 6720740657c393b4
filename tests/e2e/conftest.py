"""Fixtures of the end-to-end tests: ``gatepass serve`` as real processes on the test database.

Data is made with the ``factory`` fixture or the CLI, on the database and with the secret key of
the ``settings`` fixture; each server gets the same through its environment.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
import pytest
import requests

from gatepass.settings import Settings
from tests.cli.harness import Cli
from tests.conftest import BACKENDS, fresh_database, make_settings
from tests.password_cost import CHEAP_ENV

GATEPASS = Path(sys.executable).with_name("gatepass")
READY_WITHIN = 30.0
TOKEN_LIFETIME = 600


@dataclass
class Server:
    """One ``gatepass serve`` process: where it listens, its issuer base, and its output."""

    base_url: str
    public_url: str
    process: subprocess.Popen[bytes]
    stdout: Path
    stderr: Path

    def issuer(self, tenant: str) -> str:
        return f"{self.public_url}/realms/{tenant}"

    def oidc(self, tenant: str, endpoint: str) -> str:
        return f"{self.base_url}/realms/{tenant}/protocol/openid-connect/{endpoint}"

    def token_url(self, tenant: str) -> str:
        return self.oidc(tenant, "token")

    def certs_url(self, tenant: str) -> str:
        return self.oidc(tenant, "certs")

    def introspect_url(self, tenant: str) -> str:
        return self.oidc(tenant, "token/introspect")

    def output(self) -> str:
        return self.stdout.read_text() + self.stderr.read_text()

    def wait_ready(self) -> None:
        deadline = time.monotonic() + READY_WITHIN
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"gatepass serve exited {self.process.returncode}:\n{self.output()}")
            try:
                if requests.get(f"{self.base_url}/readyz", timeout=1).status_code == 200:
                    return
            except (
                requests.RequestException
            ):  # not listening yet, or slow to answer on a busy machine
                pass
            time.sleep(0.05)
        pytest.fail(f"gatepass serve not ready within {READY_WITHIN} s:\n{self.output()}")

    def stop(self) -> None:
        """Terminate the process group this test started (uvicorn and any workers)."""
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=15)


Serve = Callable[..., Server]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def gatepass_env(settings: Settings, tmp_path: Path) -> dict[str, str]:
    return base_env(settings, tmp_path)


def base_env(settings: Settings, tmp_path: Path) -> dict[str, str]:
    """What a Gatepass process needs to share the test's database and secret key."""
    assert settings.secret_key is not None
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GATEPASS_", "PROMETHEUS_"))}
    env.update(
        GATEPASS_DATABASE_URL=settings.effective_database_url,
        GATEPASS_SECRET_KEY=settings.secret_key.get_secret_value(),
        GATEPASS_DATA_DIR=str(tmp_path),
        # The reminder job would mail a test's mailbox on its own schedule: tests run it on purpose.
        GATEPASS_JOBS_ENABLED="false",
        # Client keys published by the test's own key server, on loopback over plain http, with
        # a fetch deadline generous enough for a loaded test machine.
        GATEPASS_JWKS_ALLOW_HTTP="true",
        GATEPASS_JWKS_ALLOW_PRIVATE="true",
        GATEPASS_JWKS_TIMEOUT="30",
        **CHEAP_ENV,
    )
    return env


class Servers:
    """``gatepass serve`` processes started with ``env``, their output kept in ``directory``."""

    def __init__(self, env: dict[str, str], directory: Path) -> None:
        self.env = env
        self.directory = directory
        self.started: list[Server] = []

    def start(
        self, *, public_url: str | None = None, workers: int = 1, cwd: Path | None = None
    ) -> Server:
        port = free_port()
        base_url = f"http://127.0.0.1:{port}"
        name = f"server-{len(self.started) + 1}"
        stdout, stderr = self.directory / f"{name}.stdout", self.directory / f"{name}.stderr"
        command = ["serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
        with stdout.open("wb") as out, stderr.open("wb") as err:
            process = subprocess.Popen(
                [GATEPASS, *command],
                env={**self.env, "GATEPASS_PUBLIC_URL": public_url or base_url},
                stdout=out,
                stderr=err,
                start_new_session=True,
                cwd=cwd,
            )
        server = Server(base_url, public_url or base_url, process, stdout, stderr)
        self.started.append(server)
        server.wait_ready()
        return server

    def stop(self) -> None:
        for server in self.started:
            server.stop()


@pytest.fixture
def serve(gatepass_env: dict[str, str], tmp_path: Path) -> Iterator[Serve]:
    """Start ``gatepass serve`` processes; every one is terminated when the test ends."""
    servers = Servers(gatepass_env, tmp_path)
    yield servers.start
    servers.stop()


@pytest.fixture(scope="module", params=BACKENDS)
def module_settings(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Settings:
    """One database and secret key for all the tests of a module, per backend.

    For a module whose tests share one server (``module_server``): it overrides ``settings``
    with these, and its tests keep apart by their own tenant, client or data."""
    directory = tmp_path_factory.mktemp(f"module-{request.param}")
    return make_settings(fresh_database(request, directory), directory)


@pytest.fixture(scope="module")
def module_server(module_settings: Settings) -> Iterator[Server]:
    """One ``gatepass serve`` on ``module_settings``, for all the tests of a module."""
    servers = Servers(base_env(module_settings, module_settings.data_dir), module_settings.data_dir)
    yield servers.start()
    servers.stop()


@pytest.fixture
def server(serve: Serve) -> Server:
    return serve()


@pytest.fixture
def cli(settings: Settings, server: Server) -> Cli:
    """The CLI, in process, configured like ``server``."""
    return Cli.on(settings, public_url=server.public_url)


def gatepass(env: dict[str, str], *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    """The installed console script as its own process; it must succeed."""
    done = subprocess.run(
        [GATEPASS, *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, f"gatepass {' '.join(args)}: {done.stderr}"
    return done


def verify(
    server: Server,
    tenant: str,
    token: str,
    *,
    jwks: jwt.PyJWKClient | None = None,
    audience: str | None = None,
) -> dict[str, Any]:
    """Claims of an RFC 9068 access token, checked the way a resource server would."""
    header = jwt.get_unverified_header(token)
    assert header["typ"] == "at+jwt"
    assert header["kid"]
    key = (jwks or jwt.PyJWKClient(server.certs_url(tenant))).get_signing_key_from_jwt(token)
    assert key.key_id == header["kid"]
    assert key.algorithm_name == header["alg"]
    claims: dict[str, Any] = jwt.decode(
        token,
        key.key,
        algorithms=[key.algorithm_name],  # the JWKS's, never the token's own say
        audience=audience or f"api://{tenant}",
        issuer=server.issuer(tenant),
        options={"require": ["iss", "sub", "aud", "exp", "iat", "jti", "client_id", "scope"]},
    )
    return claims


def assert_claims(
    claims: dict[str, Any], client_id: str, scope: str, groups: tuple[str, ...] = ()
) -> None:
    assert claims["sub"] == claims["client_id"] == client_id
    assert sorted(claims["scope"].split()) == sorted(scope.split())
    assert claims["groups"] == list(groups)
    assert claims["exp"] - claims["iat"] == TOKEN_LIFETIME
    assert abs(claims["iat"] - time.time()) < 60
    assert isinstance(claims["jti"], str)
    assert len(claims["jti"]) >= 16
