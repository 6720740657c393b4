"""Gatepass's own endpoints take only tokens minted for Gatepass (RFC 8707 ``resource`` = issuer).

A token for any other audience, even the tenant's default one, went to a resource server that
could replay it: the management API and the verify endpoint refuse it. Introspection (RFC 7662)
answers for every audience, since resource servers introspect the tokens sent to them.
"""

from __future__ import annotations

from collections.abc import Callable

import httpx2
import pytest
from starlette.testclient import TestClient

from gatepass import provisioning
from gatepass.tenants import service as tenants
from tests.api.support import Caller, api
from tests.apikeys.support import VERIFY_SCOPE, call_verify, create_key
from tests.factories import ACTOR, Credential, Factory
from tests.http.support import (
    assert_oauth_error,
    introspect,
    issue_token,
    issuer,
    request_token,
    tenant_session,
)
from tests.http.test_introspection import forge

NQL_API = "https://nql.example.com"
REPORTS_API = "https://reports.example.com"
ISSUER = issuer("acme")
SCOPES = ("nql", "tenant:admin", VERIFY_SCOPE)

# audience label -> the resource parameters the token is asked with (None: forged, see below)
AUDIENCES: dict[str, tuple[str, ...] | None] = {
    "default": (),
    "own": (ISSUER,),
    "third-party": (NQL_API,),
    "third-parties": (NQL_API, REPORTS_API),
    "own-and-third-party": None,
}
ACCEPTED = {"own"}


def setup(factory: Factory) -> Credential:
    factory.tenant()
    with tenant_session(factory, "acme") as (session, tenant):
        changes = tenants.TenantSettings(allowed_audiences=("api://acme", NQL_API, REPORTS_API))
        provisioning.update_settings(session, tenant, changes, actor=ACTOR, cipher=factory.cipher)
    return factory.client(scopes=SCOPES, name="automation")


def token_for(factory: Factory, client: TestClient, cred: Credential, audience: str) -> str:
    resources = AUDIENCES[audience]
    if resources is None:  # the token endpoint will not mint it (below): a forged one, signed
        own = issue_token(client, cred, resource=ISSUER)
        return forge(factory, "acme", own, aud=[ISSUER, NQL_API])
    response = client.post(
        "/realms/acme/protocol/openid-connect/token",
        data={"grant_type": "client_credentials", "resource": list(resources)},
        headers={"authorization": cred.basic},
    )
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def management_read(client: TestClient, token: str, _: Factory) -> httpx2.Response:
    caller = Caller("token", {"authorization": f"Bearer {token}"}, {})
    return caller.request(client, "GET", api("acme", "/clients"))


def management_write(client: TestClient, token: str, _: Factory) -> httpx2.Response:
    caller = Caller("token", {"authorization": f"Bearer {token}"}, {})
    body = {"name": "created with a token", "scopes": ["nql"]}
    return caller.request(client, "POST", api("acme", "/clients"), json=body)


def verify_endpoint(client: TestClient, token: str, factory: Factory) -> httpx2.Response:
    return call_verify(client, f"Bearer {token}", key=create_key(factory).secret)


Endpoint = Callable[[TestClient, str, Factory], httpx2.Response]
ENDPOINTS: dict[str, tuple[Endpoint, int]] = {
    "management read": (management_read, 200),
    "management write": (management_write, 201),
    "verify bearer": (verify_endpoint, 200),
}


@pytest.mark.parametrize("audience", list(AUDIENCES))
@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
def test_gatepass_endpoints_take_only_tokens_for_gatepass(
    factory: Factory, client: TestClient, audience: str, endpoint: str
) -> None:
    cred = setup(factory)
    token = token_for(factory, client, cred, audience)
    call, ok = ENDPOINTS[endpoint]

    response = call(client, token, factory)

    if audience in ACCEPTED:
        assert response.status_code == ok, response.text
    else:
        assert response.status_code == 401, response.text
        challenge = response.headers["www-authenticate"]
        assert challenge.startswith('Bearer realm="acme"'), challenge
        assert 'error="invalid_token"' in challenge
        assert f"resource={ISSUER}" in response.text


@pytest.mark.parametrize("audience", list(AUDIENCES))
def test_introspection_answers_for_every_audience(
    factory: Factory, client: TestClient, audience: str
) -> None:
    cred = setup(factory)
    resource_server = factory.client(name="resource server")
    token = token_for(factory, client, cred, audience)

    answer = introspect(client, resource_server, token).json()

    assert answer["active"] is True
    resources = AUDIENCES[audience]
    expected = {
        "default": "api://acme",
        "own": ISSUER,
        "third-party": NQL_API,
        "third-parties": [NQL_API, REPORTS_API],
        "own-and-third-party": [ISSUER, NQL_API],
    }[audience]
    assert answer["aud"] == expected, resources


def test_the_issuer_cannot_be_asked_for_with_another_resource(
    factory: Factory, client: TestClient
) -> None:
    cred = setup(factory)
    response = client.post(
        "/realms/acme/protocol/openid-connect/token",
        data={"grant_type": "client_credentials", "resource": [ISSUER, NQL_API]},
        headers={"authorization": cred.basic},
    )
    assert_oauth_error(response, 400, "invalid_target")


def test_another_tenant_s_issuer_is_not_an_audience(factory: Factory, client: TestClient) -> None:
    cred = setup(factory)
    factory.tenant("globex")
    response = request_token(client, cred, resource=issuer("globex"))
    assert_oauth_error(response, 400, "invalid_target")
