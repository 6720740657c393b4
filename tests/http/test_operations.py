"""Health, readiness and Prometheus metrics."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families
from starlette.testclient import TestClient

from gatepass import credential_secrets as cs
from tests.factories import Credential, Factory
from tests.http.support import request_token


def test_healthz_is_200(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def test_readyz_is_200_with_the_database_up(client: TestClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert response.json()["database"] == "ok"


def request_counts(text: str) -> dict[tuple[str, str], float]:
    """``gatepass_oauth_requests_total`` by (endpoint, outcome), parsed as Prometheus would."""
    counts: dict[tuple[str, str], float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "gatepass_oauth_requests_total":
                key = (sample.labels["endpoint"], sample.labels["outcome"])
                counts[key] = sample.value
    return counts


def test_metrics_count_token_requests_by_outcome(factory: Factory, client: TestClient) -> None:
    factory.tenant()
    cred = factory.client()
    for _ in range(2):
        assert request_token(client, cred).status_code == 200
    wrong = Credential("acme", cred.client_id, cs.generate(cs.SecretKind.CLIENT_SECRET).reveal())
    assert request_token(client, wrong).status_code == 401
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert "gatepass_oauth_requests_total" in response.text
    counts = request_counts(response.text)
    assert counts[("token", "invalid_client")] == 1.0
    successes = {outcome: n for (endpoint, outcome), n in counts.items() if endpoint == "token"}
    del successes["invalid_client"]
    assert list(successes.values()) == [2.0], counts
