"""Readiness reports each dependency; Redis is checked only when configured."""

from __future__ import annotations

from starlette.testclient import TestClient

from gatepass.app import create_app
from gatepass.settings import Settings


def test_ready_with_database(client: TestClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


def test_ready_checks_redis_when_configured(settings: Settings, redis_url: str) -> None:
    configured = settings.model_copy(update={"redis_url": redis_url})
    with TestClient(create_app(configured)) as http:
        assert http.get("/readyz").json()["redis"] == "ok"


def test_ready_but_degraded_when_redis_unreachable(settings: Settings) -> None:
    """Without Redis a process still serves (local limits, changes by the database feed), so a
    load balancer must keep it: 200, with Redis reported unreachable."""
    configured = settings.model_copy(update={"redis_url": "redis://127.0.0.1:1/0"})
    with TestClient(create_app(configured)) as http:
        response = http.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "degraded", "database": "ok", "redis": "unreachable"}
