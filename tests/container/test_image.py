"""The image, built without Docker from the Dockerfile's own steps, serves tokens read-only.

No Docker daemon is at hand, so ``build.Build`` carries out each stage's instructions in a
temporary image root (``rootfs``): the same ``RUN`` commands in the same order, with the same
environment and ``--mount`` flags, ``COPY`` from the build context less ``.dockerignore``. The
Dockerfile keeps its absolute paths; the commands run chrooted into that root, in a mount
namespace of their own, so nothing needs a prefix. The container is then run as Docker runs it:
the root read-only, a tmpfs on /tmp, a volume on the data directory, the image's numeric user.

What this cannot cover, and Docker would: the base layers are this machine's Debian 12 and its
Python 3.11 standing in for ``python:3.11-slim-bookworm`` (so "no compiler in the image" is
checked on the image's own layers only); BuildKit's cache and layer boundaries; capabilities,
seccomp and the network namespace (the container shares this machine's network, so it listens
on a free port of 127.0.0.1 given by ``GATEPASS_PORT`` instead of 0.0.0.0:8080); the health
check's scheduling (its command is run, not its intervals); ``compose.yaml`` as Compose runs it.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.conftest import BACKENDS, IN_CI, PG_URL, REDIS_URL
from tests.container.build import Build
from tests.container.conftest import REPOSITORY
from tests.container.container import Container, Image
from tests.container.dockerfile import Dockerfile
from tests.e2e.conftest import free_port

# Building downloads every dependency's wheel: far more than the default timeout.
pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.timeout(900)]

PUBLIC_URL = "https://gatepass.test"
HEALTHY_WITHIN = 60.0
SQLITE_FILES = {"gatepass.db", "gatepass.db-journal", "gatepass.db-wal", "gatepass.db-shm"}


def require_root() -> None:
    """The mounts and the chroot need root: CI has it; elsewhere the test is skipped."""
    if os.geteuid() == 0:
        return
    if IN_CI:
        pytest.fail("the image is emulated with mounts and a chroot: run as root")
    pytest.skip("the image is emulated with mounts and a chroot: run as root")


@pytest.fixture(scope="module")
def image(dockerfile: Dockerfile, tmp_path_factory: pytest.TempPathFactory) -> Image:
    require_root()
    workdir = tmp_path_factory.mktemp("image")
    build = Build(dockerfile, REPOSITORY, workdir, workdir / "build.log")
    try:
        root = build.run()
    except (RuntimeError, subprocess.TimeoutExpired) as exc:
        pytest.fail(f"{exc}\n{build.log.read_text()[-4000:]}")
    return Image(root, dockerfile.final)


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest) -> Iterator[str | None]:
    """None: the image's default, SQLite in its data volume; or an empty PostgreSQL database
    of its own, which only the image's ``gatepass migrate`` prepares."""
    if request.param == "sqlite":
        yield None
        return
    assert PG_URL is not None
    name = f"gatepass_image_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_the_image_holds_the_server_alone(image: Image) -> None:
    site = image.root / "opt/gatepass/lib/python3.11/site-packages"
    installed = {p.name.split("-")[0].lower() for p in site.glob("*.dist-info")}
    assert {"gatepass", "uvicorn", "psycopg_binary"} <= installed
    assert not installed & {"gatepass_sdk", "pip", "pytest"}
    # Compiled at install: nothing needs writing at run time, where the root is read-only.
    assert (site / "gatepass/__pycache__/server.cpython-311.pyc").is_file()
    # The wheels were mounted, not copied; the sources stayed in the builder.
    assert not (image.root / "wheels").exists()
    assert not (image.root / "src").exists()
    compilers = {"cc", "gcc", "g++", "c++", "clang", "ld"}
    assert not [p for p in image.root.rglob("*") if p.name in compilers]
    data = (image.root / "var/lib/gatepass").stat()
    assert (data.st_uid, data.st_gid, data.st_mode & 0o777) == (10001, 10001, 0o700)


def test_the_image_migrates_then_serves_tokens_from_a_read_only_root(
    image: Image, database_url: str | None, compose: dict[str, Any], tmp_path: Path
) -> None:
    port = free_port()
    overrides = {
        "GATEPASS_SECRET_KEY": secrets.token_hex(32),
        "GATEPASS_PUBLIC_URL": PUBLIC_URL,
        "GATEPASS_HOST": "127.0.0.1",
        "GATEPASS_PORT": str(port),
    }
    if database_url is not None:
        overrides["GATEPASS_DATABASE_URL"] = database_url
        if REDIS_URL is not None:
            overrides["GATEPASS_REDIS_URL"] = REDIS_URL
    volume = image.new_volume(tmp_path / "volume")
    container = Container(image, volume, image.environment(overrides), tmp_path / "logs")
    before = tree(image.root)

    refused = container.run(None)  # the image's CMD, before any migration
    assert refused.returncode == 1
    assert "run 'gatepass migrate'" in refused.stderr

    migrated = container.run(["migrate"])
    assert migrated.returncode == 0, migrated.stderr
    client = one_off_client(container)

    # SQLite: the image's own CMD; PostgreSQL: compose.yaml's, two workers.
    args = None if database_url is None else compose["services"]["gatepass"]["command"]
    container.start(args)
    try:
        wait_healthy(container)
        token = issued_token(port, client)
        written = container.exec(["python", "-c", "open('/opt/gatepass/probe', 'w')"])
        in_tmp = container.exec(["python", "-c", "import os; print(os.listdir('/tmp'))"])
    finally:
        status = container.stop()

    # A graceful stop on STOPSIGNAL: uvicorn finishes, then a single process re-raises the
    # signal (docker shows 143); a supervisor of workers exits 0.
    assert status in {0, -image.stop_signal}, container.output()[-3000:]
    assert '"event": "Application shutdown complete."' in container.output()
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["iss"] == f"{PUBLIC_URL}/realms/acme"
    assert claims["sub"] == client[0]
    assert "Read-only file system" in written.stderr
    if args is not None:  # --workers: the metrics of the workers are kept in /tmp
        assert "gatepass-metrics-" in in_tmp.stdout
    assert tree(image.root) == before
    kept = {p.name for p in volume.iterdir()}
    if database_url is None:
        assert "gatepass.db" in kept
        assert kept <= SQLITE_FILES
        assert (volume / "gatepass.db").stat().st_uid == image.user.uid
    else:
        assert kept == set(), "with PostgreSQL and a secret key, nothing is kept in the volume"


def one_off_client(container: Container) -> tuple[str, str]:
    """A tenant and a client made by one-off containers of the image (``docker run --rm``)."""
    tenant = container.run(["tenant", "create", "acme"])
    assert tenant.returncode == 0, tenant.stderr
    made = container.run(["client", "create", "-t", "acme", "--name", "ci", "--json"])
    assert made.returncode == 0, made.stderr
    created = json.loads(made.stdout)
    return created["client_id"], created["client_secret"]


def wait_healthy(container: Container) -> None:
    """Run the image's HEALTHCHECK command in the container until it succeeds."""
    deadline = time.monotonic() + HEALTHY_WITHIN
    while time.monotonic() < deadline:
        assert container.process is not None
        if container.process.poll() is not None:
            pytest.fail(f"the container exited:\n{container.output()[-3000:]}")
        check = container.exec(container.image.healthcheck)
        if check.returncode == 0:
            return
        time.sleep(0.5)
    pytest.fail(f"not healthy within {HEALTHY_WITHIN} s:\n{check.stderr[-1000:]}")


def issued_token(port: int, client: tuple[str, str]) -> str:
    response = httpx.post(
        f"http://127.0.0.1:{port}/realms/acme/protocol/openid-connect/token",
        data={"grant_type": "client_credentials"},
        auth=client,
        timeout=10,
    )
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


def tree(root: Path) -> dict[str, tuple[int, int, int]]:
    """Every path of the image's own layers with its size, mode and modification time."""
    state = {}
    for path in root.rglob("*"):
        stat = path.lstat()
        state[str(path.relative_to(root))] = (stat.st_size, stat.st_mode, stat.st_mtime_ns)
    return state
