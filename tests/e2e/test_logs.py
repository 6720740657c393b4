"""``gatepass serve`` writes structured logs: one JSON object per line."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests

from tests.e2e.conftest import Server
from tests.factories import Factory

pytestmark = pytest.mark.e2e


def parsed(text: str, stream: str) -> list[dict[str, Any]]:
    records = []
    for number, line in enumerate(text.splitlines(), start=1):
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            pytest.fail(f"{stream} line {number} is not JSON: {line!r}")
        assert isinstance(record, dict), f"{stream} line {number} is not a JSON object: {line!r}"
        records.append(record)
    return records


def test_every_log_line_is_json(factory: Factory, server: Server) -> None:
    factory.tenant()
    cred = factory.client()
    url = server.token_url("acme")
    good = requests.post(
        url,
        data={"grant_type": "client_credentials"},
        auth=(cred.client_id, cred.secret),
        timeout=5,
    )
    unknown = requests.post(
        url, data={"grant_type": "client_credentials"}, auth=("nobody", cred.secret), timeout=5
    )
    garbled = requests.post(
        url,
        data=b"\xff\xfe",
        timeout=5,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    missing = requests.get(
        f"{server.base_url}/realms/nope/protocol/openid-connect/certs", timeout=5
    )
    server.stop()  # the shutdown is logged too

    assert (good.status_code, unknown.status_code, garbled.status_code) == (200, 401, 400)
    assert missing.status_code == 404
    records = parsed(server.stdout.read_text(), "stdout")
    parsed(server.stderr.read_text(), "stderr")
    assert all({"event", "level", "timestamp", "logger"} <= set(r) for r in records), records
    events = [r["event"] for r in records]
    assert "Application startup complete." in events
    assert "Application shutdown complete." in events
    [failure] = [r for r in records if r["event"] == "client authentication failed"]
    assert failure["tenant"] == "acme"
    assert failure["client_id"] == "nobody"
    assert failure["method"] == "client_secret_basic"
    assert failure["level"] == "info"
