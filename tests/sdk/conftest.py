"""Fixtures of the SDK tests: one ``gatepass serve`` per database backend for the package.

The server runs on its own database (a copy of the migrated SQLite template, or the run's
PostgreSQL database) with the secret key of ``gatepass_settings``, so that ``Factory`` can make
tenants, clients and keys directly; each test makes its own tenant (``realm``).
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from gatepass.settings import Settings
from tests.conftest import BACKENDS
from tests.e2e.conftest import GATEPASS, Server, free_port
from tests.factories import Factory
from tests.password_cost import CHEAP, CHEAP_ENV
from tests.sdk.realm import Realm


@pytest.fixture(scope="package")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="package", params=BACKENDS)
def gatepass_settings(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Settings:
    data_dir = tmp_path_factory.mktemp(f"sdk-{request.param}")
    if request.param == "sqlite":
        shutil.copy(request.getfixturevalue("sqlite_template"), data_dir / "gatepass.db")
        url = f"sqlite:///{data_dir / 'gatepass.db'}"
    else:
        url = request.getfixturevalue("pg_database")
    return Settings(
        database_url=url,
        data_dir=data_dir,
        secret_key=secrets.token_hex(32),
        public_url="http://testserver",
        _env_file=None,
        **CHEAP,
    )


@pytest.fixture(scope="package")
def gatepass_factory(gatepass_settings: Settings) -> Iterator[Factory]:
    made = Factory(gatepass_settings)
    yield made
    made.close()


def gatepass_env(settings: Settings) -> dict[str, str]:
    assert settings.secret_key is not None
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GATEPASS_", "PROMETHEUS_"))}
    env.update(
        GATEPASS_DATABASE_URL=settings.effective_database_url,
        GATEPASS_SECRET_KEY=settings.secret_key.get_secret_value(),
        GATEPASS_DATA_DIR=str(settings.data_dir),
        GATEPASS_CACHE_POLL_INTERVAL="0.05",
        **CHEAP_ENV,
    )
    return env


@pytest.fixture(scope="package")
def gatepass(gatepass_settings: Settings) -> Iterator[Server]:
    """``gatepass serve`` on the package's database; its output goes to files for log checks."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    out, err = (
        gatepass_settings.data_dir / "serve.stdout",
        gatepass_settings.data_dir / "serve.stderr",
    )
    with out.open("wb") as stdout, err.open("wb") as stderr:
        process = subprocess.Popen(
            [GATEPASS, "serve", "--host", "127.0.0.1", "--port", str(port)],
            env={**gatepass_env(gatepass_settings), "GATEPASS_PUBLIC_URL": base_url},
            stdout=stdout,
            stderr=stderr,
            start_new_session=True,
        )
    server = Server(base_url, base_url, process, Path(out), Path(err))
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


@pytest.fixture
def realm(gatepass: Server, gatepass_factory: Factory) -> Realm:
    """A fresh tenant with seed 000's catalog, groups ``emea`` and ``americas`` and a client
    holding ``api_keys:verify`` (the verifier's)."""
    return Realm.create(gatepass, gatepass_factory)


@pytest.fixture
def other_realm(gatepass: Server, gatepass_factory: Factory) -> Realm:
    """A second tenant on the same server: nothing of it must be accepted for ``realm``."""
    return Realm.create(gatepass, gatepass_factory)
