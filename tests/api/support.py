"""Helpers for the management-API tests: callers of each kind, and problem-document checks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx2
from starlette.testclient import TestClient

from tests.factories import Factory
from tests.http.support import issuer, token_path

PASSWORD = "correct horse battery"
ROLE_SCOPES = {
    "admin": "tenant:admin",
    "credentials_manager": "credentials:manage",
    "viewer": "credentials:read",
}


def api(tenant: str, path: str = "") -> str:
    return f"/api/v1/realms/{tenant}{path}"


@dataclass(frozen=True)
class Caller:
    """Headers that authenticate one caller; ``cookies`` for a console session."""

    label: str
    headers: dict[str, str]
    cookies: dict[str, str]

    def request(self, http: TestClient, method: str, url: str, **kwargs: Any) -> httpx2.Response:
        headers = {**self.headers, **kwargs.pop("headers", {})}
        http.cookies.clear()
        for name, value in self.cookies.items():
            http.cookies.set(name, value)
        try:
            return http.request(method, url, headers=headers, **kwargs)
        finally:
            http.cookies.clear()


def bearer_caller(http: TestClient, factory: Factory, tenant: str, role: str = "admin") -> Caller:
    """A client of ``tenant`` whose token carries the scope of ``role``."""
    scope = ROLE_SCOPES[role]
    credential = factory.client(tenant, scopes=(scope,), name=f"automation ({role})")
    answer = http.post(
        token_path(tenant),
        data={"grant_type": "client_credentials", "scope": scope, "resource": issuer(tenant)},
        headers={"authorization": credential.basic},
    )
    assert answer.status_code == 200, answer.text
    token = answer.json()["access_token"]
    return Caller(f"{role} token", {"authorization": f"Bearer {token}"}, {})


def session_caller(
    http: TestClient, factory: Factory, tenant: str, role: str = "admin", email: str | None = None
) -> Caller:
    """A console user of ``tenant`` with ``role``, signed in through the API."""
    email = email or f"{role.replace('_', '-')}@{tenant}.example.com"
    factory.user(tenant, email=email, role=role, password=PASSWORD)
    answer = http.post(api(tenant, "/session"), json={"email": email, "password": PASSWORD})
    assert answer.status_code == 201, answer.text
    cookie = answer.cookies["gatepass_session"]
    http.cookies.clear()
    return Caller(
        f"{role} session",
        {"x-csrf-token": answer.json()["csrf_token"]},
        {"gatepass_session": cookie},
    )


def assert_problem(
    response: httpx2.Response, status: int, code: str | None = None
) -> dict[str, Any]:
    """An RFC 9457 problem document with the given status (and code)."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["type"].startswith("urn:gatepass:problem:")
    assert body["title"]
    assert body["detail"]
    if code is not None:
        assert body["code"] == code, body
    return body


def flush_failures(http: TestClient) -> None:
    """Write the failure counts the app holds in memory (it does so by itself about once a
    second): for a test that counts failures right after making them."""
    http.app.services.failures.flush()  # type: ignore[attr-defined]
