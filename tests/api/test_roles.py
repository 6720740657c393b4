"""Who may call which management route: each role, each way in, each class of route.

The table of routes (``tests/api/routes.py``) must list every operation of the OpenAPI document,
so a new route without a row fails here. A refusal is a 403 problem, leaves every stored row as
it was and is audited as ``api.access_denied``: counted in one row per caller, source, reason and
minute, whose details are those of the minute's first refusal.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from starlette.testclient import TestClient

from gatepass.users.roles import Capability
from tests.api.routes import (
    ADMINISTER,
    MANAGE,
    READ,
    ROUTES,
    SESSION_ROUTES,
    SIGNED_ROUTES,
    Route,
    Targets,
    audit_after,
    audit_mark,
    make_key,
    make_webhook,
    of_class,
    openapi_operations,
    snapshot,
    tenant_id,
    user_id,
)
from tests.api.support import (
    Caller,
    api,
    assert_problem,
    bearer_caller,
    flush_failures,
    session_caller,
)
from tests.factories import Factory
from tests.http.support import gatepass_token

ROLES = ("admin", "credentials_manager", "viewer")
WAYS = ("token", "session")
# What the product promises each role (PRODUCT.md), written out rather than read from the code.
GRANTED = {
    "admin": {READ, MANAGE, ADMINISTER},
    "credentials_manager": {READ, MANAGE},
    "viewer": {READ},
}
SIGN_IN = SESSION_ROUTES[0]
# Every route that needs a caller: all but signing in.
AUTHENTICATED = tuple(r for r in ROUTES if r is not SIGN_IN)


@dataclass(frozen=True)
class Acme:
    caller: Caller
    targets: Targets


def caller_of(http: TestClient, factory: Factory, role: str, way: str) -> Caller:
    if way == "token":
        return bearer_caller(http, factory, "acme", role)
    return session_caller(http, factory, "acme", role)


def acme(http: TestClient, factory: Factory, role: str = "admin", way: str = "token") -> Acme:
    """Tenant acme with a client, an API key and a user to act on, and a caller of ``role``."""
    factory.tenant("acme")
    caller = caller_of(http, factory, role, way)
    factory.client("acme", client_id="target-client", scopes=("nql",), groups_=("emea",))
    key_id = make_key(factory, "acme", "target key")
    email = factory.user("acme", email="target@acme.example.com", role="viewer")
    endpoint_id, message_id = make_webhook(factory, "acme")
    targets = Targets(
        "target-client", key_id, user_id(factory, "acme", email), "nql", endpoint_id, message_id
    )
    return Acme(caller, targets)


def denied(route: Route, targets: Targets, capability: Capability) -> tuple[str, str, str, str]:
    return ("api.access_denied", route.method, route.url("acme", targets), capability.value)


def test_the_table_lists_every_operation_of_the_openapi_document(client: TestClient) -> None:
    table = [(r.method, r.template) for r in ROUTES]
    assert len(table) == len(set(table)), "a route is listed twice"
    assert set(table) | SIGNED_ROUTES == openapi_operations(client)
    assert all(of_class(c) for c in Capability), "every class has routes"


@pytest.mark.parametrize("way", WAYS)
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("capability", list(Capability), ids=lambda c: c.value)
def test_role_matrix(
    client: TestClient, factory: Factory, capability: Capability, role: str, way: str
) -> None:
    world = acme(client, factory, role, way)
    routes = of_class(capability)
    before = snapshot(factory, "acme")
    mark = audit_mark(factory)
    if capability in GRANTED[role]:
        for route in routes:
            response = route.call(world.caller, client, "acme", world.targets)
            assert response.status_code == route.ok, f"{route}: {response.text}"
        assert not [e for e in audit_after(factory, mark) if e.action == "api.access_denied"]
        if capability is not READ:
            assert snapshot(factory, "acme") != before
        return
    for counted, route in enumerate(routes, start=1):
        response = route.call(world.caller, client, "acme", world.targets)
        assert response.status_code == 403, f"{route}: {response.text}"
        assert_problem(response, 403, "forbidden")
        flush_failures(client)
        assert sum(e.count for e in audit_after(factory, mark)) == counted, f"{route}"
    assert snapshot(factory, "acme") == before
    events = audit_after(factory, mark)
    assert len(events) <= 2  # two only if the calls straddled a minute boundary
    assert (
        events[0].action,
        events[0].details["method"],
        events[0].details["path"],
        events[0].details["needs"],
    ) == denied(routes[0], world.targets, capability)
    assert {(e.action, e.details["needs"]) for e in events} == {
        ("api.access_denied", capability.value)
    }
    acme_id = tenant_id(factory, "acme")
    assert all(e.tenant_id == acme_id and e.details["role"] == role for e in events)
    if way == "session":
        assert {e.actor for e in events} == {f"{role.replace('_', '-')}@acme.example.com"}


def test_rotating_an_active_clients_secret_answers_200(
    client: TestClient, factory: Factory
) -> None:
    world = acme(client, factory)
    url = api("acme", f"/clients/{world.targets.client_id}/rotate-secret")
    response = world.caller.request(client, "POST", url, json={"grace_seconds": 60})
    assert response.status_code == 200, response.text
    assert response.json()["client_secret"]


def test_no_credentials_is_401_with_a_bearer_challenge(
    client: TestClient, factory: Factory
) -> None:
    world = acme(client, factory)
    anonymous = Caller("nobody", {}, {})
    before = snapshot(factory, "acme")
    for route in AUTHENTICATED:
        response = route.call(anonymous, client, "acme", world.targets)
        assert response.status_code == 401, f"{route}: {response.text}"
        assert_problem(response, 401, "unauthenticated")
        challenge = response.headers["www-authenticate"]
        assert challenge.startswith("Bearer "), challenge
        assert 'realm="acme"' in challenge
    assert snapshot(factory, "acme") == before


def test_token_without_an_api_scope_is_403_insufficient_scope(
    client: TestClient, factory: Factory
) -> None:
    world = acme(client, factory)
    only_nql = factory.client("acme", scopes=("nql",), name="nql only")
    # May hold tenant:admin, but this token was asked for nql alone.
    narrowed = factory.client("acme", scopes=("nql", "tenant:admin"), name="narrowed")
    callers = [
        Caller("nql token", {"authorization": f"Bearer {gatepass_token(client, only_nql)}"}, {}),
        Caller(
            "narrowed token",
            {"authorization": f"Bearer {gatepass_token(client, narrowed, scope='nql')}"},
            {},
        ),
    ]
    before = snapshot(factory, "acme")
    mark = audit_mark(factory)
    for caller in callers:
        for route in AUTHENTICATED:
            response = route.call(caller, client, "acme", world.targets)
            assert response.status_code == 403, f"{caller.label} {route}: {response.text}"
            assert_problem(response, 403, "insufficient_scope")
            assert 'error="insufficient_scope"' in response.headers["www-authenticate"]
    assert snapshot(factory, "acme") == before
    flush_failures(client)
    events = audit_after(factory, mark)
    assert sum(e.count for e in events) == 2 * len(AUTHENTICATED)
    assert {(e.action, e.details["reason"]) for e in events} == {
        ("api.access_denied", "no_api_scope")
    }
    assert {e.actor for e in events} == {only_nql.client_id, narrowed.client_id}


@pytest.mark.parametrize("csrf", ["missing", "wrong", "another session's"])
def test_session_change_without_its_csrf_token_is_refused(
    client: TestClient, factory: Factory, csrf: str
) -> None:
    world = acme(client, factory, "admin", "session")
    other = session_caller(client, factory, "acme", "admin", email="other-admin@acme.example.com")
    headers = {
        "missing": {},
        "wrong": {"x-csrf-token": "not-the-token"},
        "another session's": other.headers,
    }[csrf]
    assert headers.get("x-csrf-token") != world.caller.headers["x-csrf-token"]
    forged = Caller("session without its CSRF token", headers, world.caller.cookies)
    changing = [r for r in AUTHENTICATED if r.changes_data]
    before = snapshot(factory, "acme")
    mark = audit_mark(factory)
    for counted, route in enumerate(changing, start=1):
        response = route.call(forged, client, "acme", world.targets)
        assert response.status_code == 403, f"{route}: {response.text}"
        assert_problem(response, 403, "csrf_failed")
        flush_failures(client)
        assert sum(e.count for e in audit_after(factory, mark)) == counted, f"{route}"
    assert snapshot(factory, "acme") == before
    events = audit_after(factory, mark)
    assert {(e.action, e.details["reason"]) for e in events} == {("api.access_denied", "csrf")}
    assert events[0].details["path"] == changing[0].url("acme", world.targets)
    # The session itself is still good: with its token the same change goes through.
    response = world.caller.request(client, "PATCH", api("acme"), json={"name": "Acme Two"})
    assert response.status_code == 200, response.text


def test_session_reads_need_no_csrf_token(client: TestClient, factory: Factory) -> None:
    world = acme(client, factory, "admin", "session")
    cookie_only = Caller("session cookie only", {}, world.caller.cookies)
    for route in AUTHENTICATED:
        if route.method == "GET":
            response = route.call(cookie_only, client, "acme", world.targets)
            assert response.status_code == 200, f"{route}: {response.text}"


@pytest.mark.parametrize("way", WAYS)
@pytest.mark.parametrize("role", ["admin", "credentials_manager"])
def test_only_an_admin_grants_tenant_admin(
    client: TestClient, factory: Factory, role: str, way: str
) -> None:
    world = acme(client, factory, role, way)
    requests = [
        ("/clients", {"name": "root", "client_id": "root-client", "scopes": ["tenant:admin"]}),
        ("/api-keys", {"name": "root key", "scopes": ["nql", "tenant:admin"]}),
    ]
    before = snapshot(factory, "acme")
    for path, body in requests:
        response = world.caller.request(client, "POST", api("acme", path), json=body)
        if role == "admin":
            assert response.status_code == 201, response.text
            assert "tenant:admin" in response.json()["scopes"]
        else:
            assert_problem(response, 403, "forbidden")
    if role == "admin":
        return
    assert snapshot(factory, "acme") == before
    # What a manager holds it may hand out: the refusal is about tenant:admin alone.
    body = {"name": "manager", "client_id": "manager-client", "scopes": ["credentials:manage"]}
    response = world.caller.request(client, "POST", api("acme", "/clients"), json=body)
    assert response.status_code == 201, response.text
