"""Revoking and deleting clients takes effect at the token endpoint and in introspection."""

from __future__ import annotations

from functools import partial

from starlette.testclient import TestClient

from gatepass.clients.kind import CLIENT
from gatepass.credentials import revoking
from tests.factories import ACTOR, Factory
from tests.http.support import (
    delete,
    inactive,
    introspect,
    issue_token,
    poll,
    request_token,
    revoke,
    status_is,
    tenant_session,
)


def test_revoked_client_gets_invalid_client(factory: Factory, client: TestClient) -> None:
    factory.tenant()
    cred = factory.client()
    assert request_token(client, cred).status_code == 200
    revoke(factory, cred)
    response = poll(lambda: request_token(client, cred), status_is(401))
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_tokens_of_a_revoked_client_introspect_inactive(
    factory: Factory, client: TestClient
) -> None:
    factory.tenant()
    cred, caller = factory.client(), factory.client(name="resource server")
    token = issue_token(client, cred)
    assert introspect(client, caller, token).json()["active"] is True
    revoke(factory, cred)
    response = poll(lambda: introspect(client, caller, token), inactive)
    assert response.status_code == 200
    assert response.json() == {"active": False}


def test_deleted_client_gets_invalid_client(factory: Factory, client: TestClient) -> None:
    factory.tenant()
    cred = factory.client()
    assert request_token(client, cred).status_code == 200
    delete(factory, cred)
    response = poll(lambda: request_token(client, cred), status_is(401))
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_tokens_of_a_deleted_client_introspect_inactive(
    factory: Factory, client: TestClient
) -> None:
    factory.tenant()
    cred, caller = factory.client(), factory.client(name="resource server")
    token = issue_token(client, cred)
    assert introspect(client, caller, token).json()["active"] is True
    delete(factory, cred)
    response = poll(lambda: introspect(client, caller, token), inactive)
    assert response.json() == {"active": False}


def test_revoke_all_revokes_every_client_of_the_tenant(
    factory: Factory, client: TestClient
) -> None:
    factory.tenant()
    first, second = factory.client(), factory.client()
    for cred in (first, second):
        assert request_token(client, cred).status_code == 200
    with tenant_session(factory, "acme") as (session, tenant):
        assert revoking.revoke_all(session, tenant, CLIENT, actor=ACTOR) == 2
    for cred in (first, second):
        response = poll(partial(request_token, client, cred), status_is(401))
        assert response.status_code == 401
        assert response.json()["error"] == "invalid_client"


def test_revoke_all_leaves_other_tenants_alone(factory: Factory, client: TestClient) -> None:
    factory.tenant("acme")
    factory.tenant("globex")
    mine, theirs = factory.client("acme"), factory.client("globex")
    assert request_token(client, mine).status_code == 200
    with tenant_session(factory, "acme") as (session, tenant):
        assert revoking.revoke_all(session, tenant, CLIENT, actor=ACTOR) == 1
    assert poll(lambda: request_token(client, mine), status_is(401)).status_code == 401
    # First use after revoke_all, so the answer comes from storage, not from a cached entry.
    assert request_token(client, theirs).status_code == 200
