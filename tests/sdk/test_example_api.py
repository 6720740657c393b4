"""The example platform API (``examples/``) as a real uvicorn process against a real Gatepass:
the README's curl tour, one endpoint per permission, data by client group, and logs that never
hold a key sent as ``?apikey=``."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import Server, free_port
from tests.factories import Factory
from tests.sdk.realm import CATALOG, Realm

pytestmark = pytest.mark.e2e

REPOSITORY = Path(__file__).resolve().parents[2]
READY_WITHIN = 30.0
ALL_DEVICES = {"lon-ws-001", "par-lt-014", "ber-ws-102", "nyc-ws-203", "sao-lt-077"}
EMEA = {"lon-ws-001", "par-lt-014", "ber-ws-102"}
# One endpoint per permission of seed 000: (permission, method, path, JSON body).
ENDPOINTS = [
    ("remote_actions", "POST", "/remote-actions/restart_agent/trigger", None),
    ("enrichment", "PUT", "/enrichment/devices/lon-ws-001/fields/cost_center", {"value": "C1"}),
    ("data_management", "GET", "/devices", None),
    ("workflows", "POST", "/workflows/onboard_device/trigger", None),
    ("campaigns", "POST", "/campaigns/satisfaction_survey/trigger", None),
    ("nql", "GET", "/nql/queries/device_inventory/results", None),
    ("spark", "POST", "/spark/conversations", None),
]


@dataclass
class PlatformApi:
    base_url: str
    process: subprocess.Popen[bytes]
    output: Path

    def log(self) -> str:
        return self.output.read_text()

    def wait_ready(self) -> None:
        deadline = time.monotonic() + READY_WITHIN
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"the example API exited {self.process.returncode}:\n{self.log()}")
            try:
                if httpx.get(f"{self.base_url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        pytest.fail(f"the example API is not ready within {READY_WITHIN} s:\n{self.log()}")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=15)


@pytest.fixture(scope="module")
def platform(gatepass: Server, gatepass_factory: Factory) -> Realm:
    return Realm.create(gatepass, gatepass_factory)


@pytest.fixture(scope="module")
def example(platform: Realm, tmp_path_factory: pytest.TempPathFactory) -> Iterator[PlatformApi]:
    """The documented command: ``uvicorn --factory examples.platform_api:create_app``."""
    port = free_port()
    output = tmp_path_factory.mktemp("example") / "platform-api.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("GATEPASS_")}
    env.update(
        GATEPASS_ISSUER=platform.issuer,
        GATEPASS_AUDIENCE=platform.audience,
        GATEPASS_VERIFY_CLIENT_ID=platform.verify_client.client_id,
        GATEPASS_VERIFY_CLIENT_SECRET=platform.verify_client.secret,
        GATEPASS_KEY_CACHE_TTL="0.5",
        PLATFORM_API_LOG_LEVEL="DEBUG",  # log as much as possible: none of it may hold a key
    )
    command = [sys.executable, "-m", "uvicorn", "--factory", "examples.platform_api:create_app"]
    with output.open("wb") as sink:
        process = subprocess.Popen(
            [*command, "--host", "127.0.0.1", "--port", str(port)],
            cwd=REPOSITORY,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    api = PlatformApi(f"http://127.0.0.1:{port}", process, output)
    try:
        api.wait_ready()
        yield api
    finally:
        api.stop()


def call(
    example: PlatformApi,
    method: str,
    path: str,
    *,
    body: Any = None,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    url = example.base_url + path
    return httpx.request(method, url, json=body, headers=headers, timeout=10)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_the_readme_tour(platform: Realm, example: PlatformApi) -> None:
    token = platform.token(platform.client(groups=("emea",)))
    devices = call(example, "GET", "/devices", headers=bearer(token))
    assert devices.status_code == 200, devices.text
    assert {d["name"] for d in devices.json()["devices"]} == EMEA

    key = platform.api_key(scopes=("nql",), groups=("americas",))
    nql = "/nql/queries/device_inventory/results"
    by_psk = call(example, "GET", nql, headers={"Authorization-PSK": key.key})
    assert by_psk.status_code == 200, by_psk.text
    assert {row["group"] for row in by_psk.json()["rows"]} == {"americas"}
    assert call(example, "GET", f"{nql}?apikey={key.key}").status_code == 200

    missing = call(example, "GET", "/devices", headers={"Authorization-PSK": key.key})
    assert missing.status_code == 403
    assert (
        'error="insufficient_scope", scope="data_management"'
        in (missing.headers["www-authenticate"])
    )

    platform.revoke_key(key.key_id)
    deadline = time.monotonic() + 10  # the example caches a valid key for 0.5 s
    while (revoked := call(example, "GET", f"{nql}?apikey={key.key}")).status_code == 200:
        assert time.monotonic() < deadline, "a revoked key kept working"
        time.sleep(0.05)
    assert revoked.status_code == 401
    assert 'error="invalid_token"' in revoked.headers["www-authenticate"]


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=[e[0] for e in ENDPOINTS])
def test_one_endpoint_per_permission(
    platform: Realm, example: PlatformApi, endpoint: tuple[str, str, str, Any]
) -> None:
    permission, method, path, body = endpoint
    others = tuple(p for p in CATALOG if p != permission)
    without = call(
        example,
        method,
        path,
        body=body,
        headers=bearer(platform.token(platform.client(scopes=others))),
    )
    assert without.status_code == 403
    assert f'scope="{permission}"' in without.headers["www-authenticate"]
    if permission in CATALOG:  # spark is in technical preview: nobody can be granted it
        holder = platform.token(platform.client(scopes=(permission,)))
        allowed = call(example, method, path, body=body, headers=bearer(holder))
        assert allowed.status_code == 200, allowed.text


def test_data_is_filtered_by_the_callers_client_groups(
    platform: Realm, example: PlatformApi
) -> None:
    unrestricted = platform.api_key(scopes=("data_management", "enrichment")).key
    americas = platform.api_key(scopes=("data_management", "enrichment"), groups=("americas",))

    def names(key: str) -> set[str]:
        answer = call(example, "GET", "/devices", headers={"X-API-Key": key}).json()
        return {device["name"] for device in answer["devices"]}

    assert names(unrestricted) == ALL_DEVICES
    assert names(americas.key) == ALL_DEVICES - EMEA
    outside = call(
        example,
        "PUT",
        "/enrichment/devices/lon-ws-001/fields/location",
        body={"value": "London"},
        headers={"X-API-Key": americas.key},
    )
    assert outside.status_code == 404  # as for a device that does not exist: nothing leaks


def test_no_credential_and_a_bad_one(example: PlatformApi) -> None:
    anonymous = call(example, "GET", "/me")
    assert anonymous.status_code == 401
    assert anonymous.headers["www-authenticate"] == 'Bearer realm="platform-api"'
    bad = call(example, "GET", "/me", headers=bearer("not-a-token"))
    assert bad.status_code == 401
    assert bad.headers["www-authenticate"].endswith('error="invalid_token"')


def test_a_query_string_key_appears_in_no_log(
    platform: Realm, gatepass: Server, example: PlatformApi
) -> None:
    good, revoked = platform.api_key(), platform.api_key()
    platform.revoke_key(revoked.key_id)
    unknown = "gpk_" + "D" * 38
    for key in (good.key, revoked.key, unknown, "not-even-a-key-xyz123"):
        call(example, "GET", f"/nql/queries/device_inventory/results?apikey={key}&page=1")
        call(example, "GET", f"/nql/queries/nope/results?apikey={key}")
        call(example, "GET", f"/nowhere?apikey={key}")

    deadline = time.monotonic() + 10
    while example.log().count("apikey=***") < 12:  # every request line, redacted
        assert time.monotonic() < deadline, f"access log lines missing:\n{example.log()}"
        time.sleep(0.05)
    logs = {"example API": example.log(), "gatepass": gatepass.output()}
    for where, text in logs.items():
        for key in (good.key, revoked.key, unknown, "not-even-a-key-xyz123"):
            assert key not in text, f"{where} logged a key"
    assert "request refused: 401 REVOKED" in logs["example API"]
