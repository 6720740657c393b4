"""The management API against its own OpenAPI document.

Every ``/api/v1`` operation is fuzzed with schemathesis on the real app and store, as a tenant
administrator: no answer may be a server error, and every status, content type and body must be
one the document describes. The document itself must serve, render, and describe its errors.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

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
from schemathesis.python import asgi

from gatepass.app import create_app
from gatepass.settings import Settings
from tests.api.support import ROLE_SCOPES, api
from tests.factories import Factory
from tests.http.support import token_path

TENANT = "acme"
API_PREFIX = "/api/v1/"
PROBLEM_JSON = "application/problem+json"
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
FUZZ = hypothesis.settings(
    max_examples=15,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(hypothesis.HealthCheck),
)


@pytest.fixture
def app(settings: Settings, factory: Factory) -> Iterator[Any]:
    """The real app with tenant ``TENANT``; its lifespan runs from the first request on."""
    factory.tenant(TENANT)
    yield create_app(settings)
    asgi.shutdown_lifespans()


def admin_headers(app: Any, factory: Factory) -> dict[str, str]:
    """A fresh client of ``TENANT`` with the administrator's scope, and its access token."""
    scope = ROLE_SCOPES["admin"]
    credential = factory.client(TENANT, scopes=(scope,), name="conformance run")
    with asgi.get_client(app) as http:
        answer = http.post(
            token_path(TENANT),
            data={"grant_type": "client_credentials", "scope": scope},
            headers={"authorization": credential.basic},
        )
    assert answer.status_code == 200, answer.text
    return {"authorization": f"Bearer {answer.json()['access_token']}"}


def fuzz(operation: schemathesis.APIOperation, mode: GenerationMode, **fixed: Any) -> None:
    """Call ``operation`` with generated requests; every answer must pass ``CHECKS``."""

    @FUZZ
    @hypothesis.given(case=operation.as_strategy(mode, **fixed))
    def run(case: schemathesis.Case) -> None:
        r = case.call_and_validate(checks=CHECKS)
        import collections, json
        with open("/tmp/statuses.log", "a") as f:
            f.write(f"{operation.label} {mode.value} {r.status_code} {r.text[:150] if r.status_code >= 400 else ''}\n")

    run()


def modes(operation: schemathesis.APIOperation) -> list[GenerationMode]:
    """Negative requests too, where there is something other than the tenant to get wrong."""
    fixed = {"tenant"}
    negatable = bool(operation.body) or any(
        parameter.name not in fixed for parameter in operation.iter_parameters()
    )
    if negatable:
        return [GenerationMode.POSITIVE, GenerationMode.NEGATIVE]
    return [GenerationMode.POSITIVE]


def test_every_operation_conforms_to_the_document(
    app: Any, factory: Factory, subtests: pytest.Subtests
) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [
        result.ok()
        for result in schema.include(path_regex=f"^{API_PREFIX}").get_all_operations()
    ]
    assert len(operations) >= 30
    for operation in operations:
        for mode in modes(operation):
            with subtests.test(operation=operation.label, mode=mode.value):
                # A fresh caller each time: "revoke all" revokes the one before.
                fuzz(
                    operation,
                    mode,
                    path_parameters={"tenant": TENANT},
                    headers=admin_headers(app, factory),
                )
