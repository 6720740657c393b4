"""``gatepass serve --workers 2``: several worker processes, one set of metrics."""

from __future__ import annotations

import time

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.conftest import Serve, Server, assert_claims, verify
from tests.factories import Factory
from tests.http.support import poll

pytestmark = pytest.mark.e2e

REQUESTS = 12


def wait_for_workers(server: Server, count: int) -> None:
    deadline = time.monotonic() + 30
    while server.stdout.read_text().count("Application startup complete") < count:
        assert time.monotonic() < deadline, f"{count} workers did not start:\n{server.output()}"
        time.sleep(0.05)


def token_requests_by_outcome(server: Server) -> dict[str, float]:
    text = requests.get(f"{server.base_url}/metrics", timeout=5).text
    return {
        sample.labels["outcome"]: sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "gatepass_oauth_requests_total" and sample.labels["endpoint"] == "token"
    }


def test_two_workers_serve_tokens_and_share_metrics(factory: Factory, serve: Serve) -> None:
    factory.tenant()
    cred = factory.client(scopes=("nql",))
    server = serve(workers=2)
    wait_for_workers(server, 2)

    responses = [  # a new connection each time, so both workers get some
        requests.post(
            server.token_url("acme"),
            data={"grant_type": "client_credentials"},
            auth=(cred.client_id, cred.secret),
            timeout=5,
        )
        for _ in range(REQUESTS)
    ]
    refused = requests.post(
        server.token_url("acme"),
        data={"grant_type": "client_credentials"},
        auth=(cred.client_id, "gpcs_wrong"),
        timeout=5,
    )

    assert [r.status_code for r in responses] == [200] * REQUESTS
    for response in responses[:2]:
        claims = verify(server, "acme", response.json()["access_token"])
        assert_claims(claims, cred.client_id, "nql")
    assert refused.status_code == 401
    # each worker adds what it counted to the shared metrics within a second
    expected = {"ok": REQUESTS, "invalid_client": 1}
    assert poll(lambda: token_requests_by_outcome(server), expected.__eq__, timeout=5) == expected
