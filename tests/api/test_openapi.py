"""The management API against its own OpenAPI document.

schemathesis calls every ``/api/v1`` operation of the real app, on the real store, as an
administrator of tenant ``acme``: requests at the edges of each documented input (its coverage
phase) and generated ones, valid and invalid. No answer may be a server error, and every status
code, content type and body must be one the document describes for that operation. Console
session routes are in the run too: they ignore the Bearer token (sign-in with made-up
credentials is a 401, reading or ending a session that is not there a 404).

The document itself must be served and rendered, and describe its errors as problem details.
"""

from __future__ import annotations

import secrets
import tempfile
from collections.abc import Iterator
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any, cast

import hypothesis
import pytest
import schemathesis
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.core.result import Ok
from schemathesis.python import asgi
from starlette.testclient import TestClient

from gatepass.app import Web, create_app
from gatepass.body_limit import BodyLimit
from gatepass.oauth.asgi import ProtocolApp
from gatepass.settings import Settings
from tests.api.routes import make_webhook
from tests.api.support import PASSWORD, ROLE_SCOPES, api, assert_problem, bearer_caller
from tests.factories import Factory
from tests.http.support import issuer, token_path

Operation = schemathesis.APIOperation[Any, Any, Any, Any]
Case = schemathesis.Case[Any]

TENANT = "acme"
PROBLEM_JSON = "application/problem+json"
PROBLEM_SCHEMA = {"$ref": "#/components/schemas/Problem"}
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# Bounded and repeatable: the same requests on every run, well under a minute per backend.
FUZZ = hypothesis.settings(
    max_examples=20,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(hypothesis.HealthCheck),
)


def openapi_document() -> dict[str, Any]:
    """The app's OpenAPI document: it depends on the code only, not on settings or data."""
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            database_url=f"sqlite:///{tmp}/unused.db",
            data_dir=Path(tmp),
            secret_key=secrets.token_hex(32),
            public_url="http://testserver",
            _env_file=None,
        )
        app = create_app(settings)
        document: dict[str, Any] = cast(Web, cast(ProtocolApp, app.app).fallback).app().openapi()
        app.services.db.dispose()  # type: ignore[attr-defined]
    return document


DOCUMENT = openapi_document()
schema = schemathesis.openapi.from_dict(DOCUMENT).include(path_regex="^/api/v1/")
schema.config.update(parameters={"path.tenant": TENANT})


def operations() -> list[Operation]:
    found = []
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result
        found.append(result.ok())
    return found


def http(app: BodyLimit) -> asgi.ASGIClient:
    """A client on the app, in the event loop and lifespan that schemathesis's calls use."""
    return asgi.get_client(cast(Any, app))


@pytest.fixture
def app(settings: Settings, factory: Factory) -> Iterator[BodyLimit]:
    """The real app, with tenant ``acme``; its lifespan runs from the first request on."""
    factory.tenant(TENANT)
    yield create_app(settings)
    asgi.shutdown_lifespans()


@pytest.fixture
def admin(app: BodyLimit, factory: Factory) -> dict[str, str]:
    """The headers of a client of ``acme`` whose token carries the administrator's scope."""
    scope = ROLE_SCOPES["admin"]
    credential = factory.client(TENANT, scopes=(scope,), name="conformance run")
    with http(app) as session:
        answer = session.post(
            token_path(TENANT),
            data={"grant_type": "client_credentials", "scope": scope, "resource": issuer(TENANT)},
            headers={"authorization": credential.basic},
        )
    assert answer.status_code == 200, answer.text
    return {"authorization": f"Bearer {answer.json()['access_token']}"}


@pytest.fixture
def existing(app: BodyLimit, factory: Factory, admin: dict[str, str]) -> dict[str, str]:
    """Path parameters naming a client, an API key, a user, a permission, a webhook endpoint and
    one of its messages that exist."""
    client = factory.client(TENANT, client_id="existing-client", name="existing")
    email = factory.user(TENANT, email="existing@acme.example.com", role="viewer")
    with http(app) as session:
        key = session.post(api(TENANT, "/api-keys"), json={"name": "existing"}, headers=admin)
        users = session.get(api(TENANT, "/users"), params={"email": email}, headers=admin)
    assert key.status_code == 201, key.text
    assert users.status_code == 200, users.text
    webhook = make_webhook(factory, TENANT)
    return {
        "tenant": TENANT,
        "client_id": client.client_id,
        "key_id": key.json()["id"],
        "user_id": str(users.json()["items"][0]["id"]),
        "name": "nql",
        "endpoint_id": webhook[0],
        "message_id": webhook[1],
    }


@FUZZ
@schema.parametrize()
def test_every_operation_answers_as_documented(
    case: Case, app: BodyLimit, admin: dict[str, str]
) -> None:
    case.call_and_validate(app=app, headers=admin, checks=CHECKS)


def on_one_resource() -> list[Operation]:
    """The operations on one client, key, user or permission."""
    return [operation for operation in operations() if len(operation.path_parameters) > 1]


@pytest.mark.parametrize("operation", on_one_resource(), ids=lambda operation: operation.label)
def test_operations_on_existing_resources_answer_as_documented(
    operation: Operation, app: BodyLimit, admin: dict[str, str], existing: dict[str, str]
) -> None:
    """Generated ids almost never exist: here the path names real rows, so that the handlers
    run to the end and their successful answers are checked too."""
    fixed = {parameter.name: existing[parameter.name] for parameter in operation.path_parameters}

    @FUZZ
    @hypothesis.given(case=operation.as_strategy(GenerationMode.POSITIVE, path_parameters=fixed))
    def answers_as_documented(case: Case) -> None:
        case.call_and_validate(app=app, headers=admin, checks=CHECKS)

    answers_as_documented()


def test_a_console_session_answers_as_documented(app: BodyLimit, factory: Factory) -> None:
    """Signing in, reading the session and signing out with a real session cookie: the
    answers the Bearer-token run cannot reach."""
    path = "/api/v1/realms/{tenant}/session"
    tenant = {"tenant": TENANT}
    email = factory.user(TENANT, email="ada@acme.example.com", password=PASSWORD)
    sign_in = schema[path]["POST"].Case(
        path_parameters=tenant, body={"email": email, "password": PASSWORD}
    )
    signed_in = sign_in.call_and_validate(app=app, checks=CHECKS)
    assert signed_in.status_code == 201
    cookie = SimpleCookie(signed_in.headers["set-cookie"][0])["gatepass_session"].value
    csrf = signed_in.json()["csrf_token"]
    for method, status in (("GET", 200), ("DELETE", 204), ("GET", 401)):
        case = schema[path][method].Case(path_parameters=tenant)
        response = case.call_and_validate(
            app=app,
            checks=CHECKS,
            headers={"x-csrf-token": csrf},
            cookies={"gatepass_session": cookie},
        )
        assert response.status_code == status, f"{method}: {response.text}"


def test_the_operations_under_test_are_the_management_api() -> None:
    labels = {operation.label for operation in operations()}
    assert len(labels) >= 30
    # Beside the tenants' routes, only the reports of leaked secrets (no tenant in their path).
    prefixes = ("/api/v1/realms/{tenant}", "/api/v1/leaks/")
    assert all(label.split(" ")[1].startswith(prefixes) for label in labels)
    assert {
        "POST /api/v1/realms/{tenant}/session",
        "GET /api/v1/realms/{tenant}/session",
        "DELETE /api/v1/realms/{tenant}/session",
        "POST /api/v1/realms/{tenant}/clients",
        "POST /api/v1/realms/{tenant}/clients/{client_id}/rotate-secret",
        "PATCH /api/v1/realms/{tenant}/users/{user_id}",
    } <= labels
    on_resources = {operation.label for operation in on_one_resource()}
    assert "DELETE /api/v1/realms/{tenant}/api-keys/{key_id}" in on_resources
    assert "PATCH /api/v1/realms/{tenant}/permissions/{name}" in on_resources


def test_the_document_is_served_and_rendered(client: TestClient) -> None:
    served = client.get("/openapi.json")
    assert served.status_code == 200
    assert served.headers["content-type"] == "application/json"
    assert served.json() == DOCUMENT
    docs = client.get("/docs")
    assert docs.status_code == 200
    assert docs.headers["content-type"].startswith("text/html")
    assert "/openapi.json" in docs.text


def management_operations() -> Iterator[tuple[str, dict[str, Any]]]:
    for path, methods in DOCUMENT["paths"].items():
        if path.startswith("/api/"):
            for method, operation in methods.items():
                yield f"{method.upper()} {path}", operation


def test_every_management_operation_documents_its_problems() -> None:
    problem = DOCUMENT["components"]["schemas"]["Problem"]
    assert set(problem["required"]) >= {"type", "title", "status", "detail", "code"}
    missing = []
    for label, operation in management_operations():
        errors = {status for status in operation["responses"] if not status.startswith("2")}
        assert errors >= {"401", "403", "404", "422"}, label
        for status in sorted(errors):
            content = operation["responses"][status].get("content", {})
            if set(content) != {PROBLEM_JSON} or content[PROBLEM_JSON]["schema"] != PROBLEM_SCHEMA:
                missing.append(f"{label} {status}")
    assert missing == []


def test_every_management_operation_is_described() -> None:
    labels = [label for label, _ in management_operations()]
    bare = [
        label
        for label, operation in management_operations()
        if not (operation.get("summary", "").strip() or operation.get("description", "").strip())
    ]
    assert len(labels) >= 30
    assert bare == []


@pytest.mark.parametrize("email", ["ada\x00@acme.example.com", "ada@acme.example.com\x1b"])
def test_signing_in_with_a_control_character_in_the_email_is_a_422(
    client: TestClient, factory: Factory, email: str
) -> None:
    """Found by the run on PostgreSQL, which cannot compare text holding a NUL: a 500 then."""
    factory.tenant(TENANT)
    factory.user(TENANT, email="ada@acme.example.com")
    response = client.post(
        api(TENANT, "/session"), json={"email": email, "password": "correct horse battery"}
    )
    assert_problem(response, 422, "invalid_input")
    assert "gatepass_session" not in response.cookies


@pytest.mark.parametrize("audience", ["https://[api.example.com/", "https://api\uff03x.example/"])
def test_an_audience_that_is_not_a_uri_is_a_422(
    client: TestClient, factory: Factory, audience: str
) -> None:
    factory.tenant(TENANT)
    admin = bearer_caller(client, factory, TENANT)
    response = admin.request(client, "PATCH", api(TENANT), json={"audience": audience})
    assert_problem(response, 422, "invalid_input")


def test_a_resource_that_is_not_a_uri_is_an_invalid_target(
    client: TestClient, factory: Factory
) -> None:
    factory.tenant(TENANT)
    credential = factory.client(TENANT)
    response = client.post(
        token_path(TENANT),
        data={"grant_type": "client_credentials", "resource": "https://[api.example.com/"},
        headers={"authorization": credential.basic},
    )
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "invalid_target"
