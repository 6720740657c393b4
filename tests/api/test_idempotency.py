"""``Idempotency-Key`` on the management API's POST requests: retries replay, never act twice."""

from __future__ import annotations

import threading
from typing import Any

import httpx2
from sqlalchemy import inspect, table, text
from starlette.testclient import TestClient

from tests.api.support import Caller, api, assert_problem, bearer_caller, session_caller
from tests.factories import Credential, Factory
from tests.http.support import request_token

BODY = {"name": "nightly export", "scopes": ["nql"]}


def post(
    http: TestClient, caller: Caller, path: str, key: str | bytes | None, body: Any = None
) -> httpx2.Response:
    headers: dict[str, Any] = {} if key is None else {"idempotency-key": key}
    kwargs: dict[str, Any] = {} if body is None else {"json": body}
    return caller.request(http, "POST", api("acme", path), headers=headers, **kwargs)


def named(http: TestClient, caller: Caller, path: str, name: str) -> list[dict[str, Any]]:
    response = caller.request(http, "GET", api("acme", path), params={"name": name})
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return [item for item in items if item["name"] == name]


def stored_rows(factory: Factory, table_name: str) -> list[tuple[Any, ...]]:
    with factory.db.engine.connect() as connection:
        rows = connection.execute(text(f"SELECT * FROM {table(table_name)}"))  # noqa: S608
        return [tuple(row) for row in rows]


def places_holding(factory: Factory, needle: str) -> list[str]:
    """Every table whose raw rows contain ``needle`` as text or bytes."""
    raw = needle.encode()

    def holds(value: Any) -> bool:
        if isinstance(value, bytes | memoryview):
            return raw in bytes(value)
        return needle in str(value)

    return [
        name
        for name in inspect(factory.db.engine).get_table_names()
        if any(holds(value) for row in stored_rows(factory, name) for value in row)
    ]


def places_holding_any(factory: Factory) -> list[str]:
    """Tables with at least one row (the control for ``places_holding``)."""
    return [
        name for name in inspect(factory.db.engine).get_table_names() if stored_rows(factory, name)
    ]


def test_a_retry_replays_the_same_answer_and_creates_one_client(
    factory: Factory, client: TestClient
) -> None:
    factory.tenant()
    admin = bearer_caller(client, factory, "acme")
    first = post(client, admin, "/clients", "create-export-1", BODY)
    again = post(client, admin, "/clients", "create-export-1", BODY)

    assert first.status_code == again.status_code == 201
    assert "idempotent-replayed" not in first.headers
    assert again.headers["idempotent-replayed"] == "true"
    assert again.headers["cache-control"] == "no-store"
    assert again.json() == first.json()
    assert again.content == first.content
    assert len(named(client, admin, "/clients", "nightly export")) == 1
    issued = again.json()
    cred = Credential("acme", issued["client_id"], issued["client_secret"])
    assert request_token(client, cred).status_code == 200

    events = admin.request(
        client, "GET", api("acme", "/audit-events"), params={"action": "client.create"}
    ).json()["items"]
    assert [e["target"] for e in events].count(issued["client_id"]) == 1


def test_the_stored_answer_keeps_no_secret_in_clear(factory: Factory, client: TestClient) -> None:
    factory.tenant()
    admin = bearer_caller(client, factory, "acme")
    key = "retry-me-7f3a9c"
    issued = post(client, admin, "/clients", key, BODY).json()
    api_key = post(client, admin, "/api-keys", key + "-k", {"name": "k"}).json()

    assert len(stored_rows(factory, "idempotency_records")) == 2
    for needle in (issued["client_secret"], api_key["key"], key):
        assert places_holding(factory, needle) == []
    # The stored answer is sealed: even its harmless parts cannot be read there.
    assert "idempotency_records" in places_holding_any(factory)
    assert "idempotency_records" not in places_holding(factory, issued["client_id"])
    assert "idempotency_records" not in places_holding(factory, api_key["id"])


def test_the_same_key_with_another_body_is_refused(factory: Factory, client: TestClient) -> None:
    factory.tenant()
    admin = bearer_caller(client, factory, "acme")
    assert post(client, admin, "/clients", "k-1", BODY).status_code == 201
    changed = post(client, admin, "/clients", "k-1", {**BODY, "name": "something else"})
    assert_problem(changed, 422, "idempotency_key_reused")
    elsewhere = post(client, admin, "/api-keys", "k-1", BODY)
    assert_problem(elsewhere, 422, "idempotency_key_reused")
    assert named(client, admin, "/clients", "something else") == []
    assert named(client, admin, "/api-keys", "nightly export") == []
    assert len(named(client, admin, "/clients", "nightly export")) == 1


def test_different_callers_do_not_share_keys(factory: Factory, client: TestClient) -> None:
    factory.tenant()
    robot = bearer_caller(client, factory, "acme")
    person = session_caller(client, factory, "acme", "credentials_manager")
    first = post(client, robot, "/clients", "shared-key", BODY)
    second = post(client, person, "/clients", "shared-key", BODY)
    assert first.status_code == second.status_code == 201
    assert "idempotent-replayed" not in second.headers
    assert first.json()["client_id"] != second.json()["client_id"]
    assert len(named(client, robot, "/clients", "nightly export")) == 2


def test_a_failed_request_does_not_use_up_its_key(factory: Factory, client: TestClient) -> None:
    factory.tenant()
    admin = bearer_caller(client, factory, "acme")
    refused = post(client, admin, "/clients", "k-2", {**BODY, "scopes": ["nonexistent"]})
    assert_problem(refused, 422, "invalid_input")
    created = post(client, admin, "/clients", "k-2", BODY)
    assert created.status_code == 201
    assert "idempotent-replayed" not in created.headers


def test_a_quoted_key_is_the_same_key(factory: Factory, client: TestClient) -> None:
    factory.tenant()
    admin = bearer_caller(client, factory, "acme")
    first = post(client, admin, "/clients", "abc-123", BODY)
    again = post(client, admin, "/clients", '"abc-123"', BODY)
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()


INVALID_KEYS: list[str | bytes] = [
    "k" * 256,
    "clé-unique".encode("latin-1"),
    "ключ".encode(),
    "two words",
    "",
    "   ",
]


def test_an_invalid_key_is_a_400_and_creates_nothing(factory: Factory, client: TestClient) -> None:
    factory.tenant()
    admin = bearer_caller(client, factory, "acme")
    for key in INVALID_KEYS:
        response = post(client, admin, "/clients", key, BODY)
        assert_problem(response, 400, "invalid_idempotency_key")
    assert named(client, admin, "/clients", "nightly export") == []


def test_a_much_too_long_key_is_a_400_too(factory: Factory, client: TestClient) -> None:
    factory.tenant()
    admin = bearer_caller(client, factory, "acme")
    response = post(client, admin, "/clients", "k" * 300, BODY)
    assert_problem(response, 400, "invalid_idempotency_key")
    assert named(client, admin, "/clients", "nightly export") == []


def test_the_longest_key_is_accepted(factory: Factory, client: TestClient) -> None:
    factory.tenant()
    admin = bearer_caller(client, factory, "acme")
    key = "k" * 255
    assert post(client, admin, "/clients", key, BODY).status_code == 201
    assert post(client, admin, "/clients", key, BODY).headers["idempotent-replayed"] == "true"


def test_concurrent_requests_with_one_key_create_one_client(
    factory: Factory, client: TestClient
) -> None:
    factory.tenant()
    admin = bearer_caller(client, factory, "acme")
    workers = 4
    start = threading.Barrier(workers)
    answers: list[httpx2.Response] = []
    errors: list[BaseException] = []

    def attempt() -> None:
        try:
            own = TestClient(client.app, base_url="http://testserver")
            start.wait(timeout=10)
            answers.append(post(own, admin, "/clients", "concurrent-1", BODY))
        except BaseException as exc:  # reported below, on the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=attempt) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert [a.status_code for a in answers] == [201] * workers, [a.text for a in answers]
    assert len({a.content for a in answers}) == 1
    assert sum("idempotent-replayed" not in a.headers for a in answers) == 1
    assert len(named(client, admin, "/clients", "nightly export")) == 1


def test_regenerate_with_a_key_replays(factory: Factory, client: TestClient) -> None:
    factory.tenant()
    admin = bearer_caller(client, factory, "acme")
    key = post(client, admin, "/api-keys", None, BODY).json()
    path = f"/api-keys/{key['id']}/regenerate"
    first = post(client, admin, path, "regen-1", {"grace_seconds": 60})
    again = post(client, admin, path, "regen-1", {"grace_seconds": 60})
    assert first.status_code == again.status_code == 200
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json()["key"] == first.json()["key"] != key["key"]
    events = admin.request(
        client, "GET", api("acme", "/audit-events"), params={"action": "apikey.regenerate"}
    ).json()["items"]
    assert len(events) == 1
    other = post(client, admin, path, "regen-1", {"grace_seconds": 0})
    assert_problem(other, 422, "idempotency_key_reused")


def test_rotate_secret_with_a_key_replays(factory: Factory, client: TestClient) -> None:
    factory.tenant()
    admin = bearer_caller(client, factory, "acme")
    issued = post(client, admin, "/clients", None, BODY).json()
    path = f"/clients/{issued['client_id']}/rotate-secret"
    first = post(client, admin, path, "rotate-1")
    again = post(client, admin, path, "rotate-1")
    assert first.status_code == again.status_code == 200
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json()["client_secret"] == first.json()["client_secret"]
    assert len(again.json()["secrets"]) == 2
    shown = admin.request(client, "GET", api("acme", f"/clients/{issued['client_id']}")).json()
    assert len(shown["secrets"]) == 2
    cred = Credential("acme", issued["client_id"], again.json()["client_secret"])
    assert request_token(client, cred).status_code == 200


def test_creating_a_user_with_a_key_replays_without_storing_the_password(
    factory: Factory, client: TestClient
) -> None:
    factory.tenant()
    admin = bearer_caller(client, factory, "acme")
    password = "a long enough passphrase"
    body = {"email": "new@acme.example.com", "role": "viewer", "password": password}
    first = post(client, admin, "/users", "user-1", body)
    again = post(client, admin, "/users", "user-1", body)
    assert first.status_code == again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    other = post(client, admin, "/users", "user-1", {**body, "password": password + "!"})
    assert_problem(other, 422, "idempotency_key_reused")
    assert places_holding(factory, password) == []
