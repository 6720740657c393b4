"""Control characters in the management API: a problem document, never a 5xx.

In the path: no such resource (404). In a query parameter or a JSON field: invalid input (422),
the field named. Refused before any query with the value, on every backend; nothing stored
changes, no "database unavailable" is logged, and no password hash reaches a log.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import pytest
from starlette.testclient import TestClient

from gatepass.app import create_app
from gatepass.settings import Settings
from tests.api.support import Caller, api, assert_problem, bearer_caller
from tests.controls import CHARS, captured_logs, stored
from tests.factories import Factory

X = "{x}"  # where the character goes


@dataclass(frozen=True)
class Case:
    method: str
    path: str
    status: int
    params: dict[str, str] = field(default_factory=dict)
    body: dict[str, Any] | None = None

    def send(self, http: TestClient, caller: Caller, bad: str) -> Any:
        path = self.path.replace(X, quote(bad, safe=""))
        params = {k: v.replace(X, bad) for k, v in self.params.items()}
        body = _fill(self.body, bad) if self.body is not None else None
        return caller.request(http, self.method, path, params=params, json=body)


def _fill(value: Any, bad: str) -> Any:
    if isinstance(value, str):
        return value.replace(X, bad)
    if isinstance(value, dict):
        return {k: _fill(v, bad) for k, v in value.items()}
    return value


PASSWORD = "correct horse battery staple"
CASES = {
    "tenant-slug": Case("GET", f"/api/v1/realms/ac{X}me", 404),
    "tenant-slug-session": Case(
        "POST", f"/api/v1/realms/ac{X}me/session", 404, body={"email": "a@b.cd", "password": "x"}
    ),
    "client-id-path": Case("GET", api("acme", f"/clients/cl{X}ient"), 404),
    "client-id-revoke": Case("POST", api("acme", f"/clients/cl{X}ient/revoke"), 404),
    "key-id-path": Case("DELETE", api("acme", f"/api-keys/ke{X}y"), 404),
    "permission-path": Case("PATCH", api("acme", f"/permissions/nq{X}l"), 404, body={}),
    "audit-actor": Case("GET", api("acme", "/audit-events"), 422, params={"actor": f"a{X}"}),
    "audit-target": Case("GET", api("acme", "/audit-events"), 422, params={"target": f"t{X}"}),
    "users-email": Case("GET", api("acme", "/users"), 422, params={"email": f"e{X}"}),
    "clients-name": Case("GET", api("acme", "/clients"), 422, params={"name": f"n{X}"}),
    "tenant-name": Case("PATCH", api("acme"), 422, body={"name": f"Acme{X}Corp"}),
    "client-name": Case("POST", api("acme", "/clients"), 422, body={"name": f"feed{X}"}),
    "client-description": Case(
        "POST", api("acme", "/clients"), 422, body={"name": "feed", "description": f"d{X}"}
    ),
    "key-name": Case("POST", api("acme", "/api-keys"), 422, body={"name": f"feed{X}"}),
    "user-email": Case(
        "POST",
        api("acme", "/users"),
        422,
        body={"email": f"lee{X}@acme.example", "role": "viewer", "password": PASSWORD},
    ),
    "user-name": Case(
        "POST",
        api("acme", "/users"),
        422,
        body={
            "email": "lee@acme.example",
            "display_name": f"Lee{X}",
            "role": "viewer",
            "password": PASSWORD,
        },
    ),
    "permission-label": Case(
        "POST", api("acme", "/permissions"), 422, body={"name": "reports", "label": f"R{X}"}
    ),
    "group-name": Case("POST", api("acme", "/groups"), 422, body={"name": f"apac{X}"}),
}


@pytest.fixture
def http(settings: Settings) -> Iterator[TestClient]:
    """The app, answering a crash with a 500 rather than raising it into the test."""
    with TestClient(create_app(settings), raise_server_exceptions=False) as made:
        yield made


@pytest.fixture
def admin(http: TestClient, factory: Factory) -> Caller:
    factory.tenant()
    return bearer_caller(http, factory, "acme")


@pytest.mark.parametrize("bad", CHARS)
@pytest.mark.parametrize("case", list(CASES))
def test_a_control_character_is_refused_as_a_problem(
    http: TestClient, factory: Factory, admin: Caller, case: str, bad: str
) -> None:
    before = stored(factory.db)
    with captured_logs() as logs:
        response = CASES[case].send(http, admin, bad)
    problem = assert_problem(response, CASES[case].status)
    if response.status_code == 422:
        assert problem["errors"], problem
    assert stored(factory.db) == before
    logs.assert_clean()


def test_the_rule_is_the_same_for_a_description_that_spans_lines(
    http: TestClient, factory: Factory, admin: Caller
) -> None:
    body = {"name": "feed", "description": "line one\nline two\ttabbed\r\n"}
    response = admin.request(http, "POST", api("acme", "/clients"), json=body)
    assert response.status_code == 201, response.text
