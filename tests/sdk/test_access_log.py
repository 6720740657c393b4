"""``GatepassMiddleware`` keeps ``?apikey=`` out of uvicorn's access log without any setup.

uvicorn logs the request line as the client sent it, before the middleware removes the key
from what the application sees; the middleware therefore adds an ``ApiKeyLogFilter`` to the
``uvicorn.access`` logger, once per process however many middleware are built.
"""

from __future__ import annotations

import logging
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from gatepass_sdk import ApiKeyLogFilter, GatepassMiddleware, GatepassVerifier
from gatepass_sdk.redaction import install_log_filter
from tests.e2e.conftest import free_port
from tests.sdk.realm import Realm

REPOSITORY = Path(__file__).resolve().parents[2]
READY_WITHIN = 30.0
ACCESS = logging.getLogger("uvicorn.access")


def key_filters() -> list[logging.Filter]:
    return [f for f in ACCESS.filters if isinstance(f, ApiKeyLogFilter)]


@pytest.fixture
def bare_access_logger() -> Iterator[None]:
    """``uvicorn.access`` without the filter that other tests' middleware may have added; its
    filters are put back afterwards."""
    saved = list(ACCESS.filters)
    for found in key_filters():
        ACCESS.removeFilter(found)
    try:
        yield
    finally:
        ACCESS.filters[:] = saved


async def noop(scope: object, receive: object, send: object) -> None:
    raise AssertionError("not called")


async def middleware(count: int, *, redact_access_log: bool = True) -> None:
    verifier = GatepassVerifier(issuer="http://127.0.0.1:9/realms/t", audience="api://t")
    async with verifier:
        for _ in range(count):
            GatepassMiddleware(noop, verifier=verifier, redact_access_log=redact_access_log)


@pytest.mark.usefixtures("bare_access_logger")
@pytest.mark.anyio
async def test_several_middleware_install_one_filter_on_the_access_logger() -> None:
    await middleware(2)
    assert len(key_filters()) == 1
    await middleware(1)
    assert len(key_filters()) == 1


@pytest.mark.usefixtures("bare_access_logger")
@pytest.mark.anyio
async def test_the_filter_can_be_left_out() -> None:
    await middleware(2, redact_access_log=False)
    assert key_filters() == []


@pytest.mark.usefixtures("bare_access_logger")
def test_installing_from_many_threads_at_once_adds_one_filter() -> None:
    start = threading.Barrier(8)

    def install() -> None:
        start.wait()
        install_log_filter()

    threads = [threading.Thread(target=install) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(key_filters()) == 1


def serve(realm: Realm, mode: str, output: Path) -> tuple[str, subprocess.Popen[bytes]]:
    port = free_port()
    env = {
        "PATH": "/usr/bin:/bin",
        "SDK_TEST_ISSUER": realm.issuer,
        "SDK_TEST_AUDIENCE": realm.audience,
        "SDK_TEST_CLIENT_ID": realm.verify_client.client_id,
        "SDK_TEST_CLIENT_SECRET": realm.verify_client.secret,
    }
    with output.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.sdk.access_log_app", str(port), mode],
            cwd=REPOSITORY,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + READY_WITHIN
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the API exited {process.returncode}:\n{output.read_text()}")
        try:
            if httpx.get(f"{base_url}/healthz", timeout=1).status_code == 200:
                return base_url, process
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    process.kill()
    process.wait(timeout=15)
    pytest.fail(f"the API is not ready within {READY_WITHIN} s:\n{output.read_text()}")


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=15)


def access_line(output: Path, path: str) -> str:
    """uvicorn's access log line for ``GET {path}...`` (it may lag the response a little)."""
    deadline = time.monotonic() + 5
    while True:
        lines = [line for line in output.read_text().splitlines() if f'"GET {path}' in line]
        if lines or time.monotonic() > deadline:
            assert len(lines) == 1, output.read_text()
            return lines[0]
        time.sleep(0.05)


@pytest.mark.e2e
@pytest.mark.parametrize("mode", ["eager", "lazy"])
def test_uvicorn_access_log_shows_no_query_key(realm: Realm, mode: str, tmp_path: Path) -> None:
    made = realm.api_key()
    output = tmp_path / "api.log"
    base_url, process = serve(realm, mode, output)
    try:
        response = httpx.get(f"{base_url}/?page=2&apikey={made.key}&sort=name", timeout=10)
        wrong = made.key[:-1] + ("y" if made.key.endswith("x") else "x")  # never the key itself
        refused = httpx.get(f"{base_url}/?apikey={wrong}", timeout=10)
        line = access_line(output, "/?page=2")
    finally:
        stop(process)

    assert response.status_code == 200, response.text
    assert response.json() == {"subject": made.key_id}
    assert refused.status_code == 401
    assert '"GET /?page=2&apikey=***&sort=name HTTP/1.1" 200' in line
    assert 'GET /?apikey=*** HTTP/1.1" 401' in output.read_text()
    assert made.key not in output.read_text()
    assert made.key[:-1] not in output.read_text()
