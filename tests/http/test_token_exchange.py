"""Token exchange (RFC 8693) over HTTP: an access token is exchanged for a narrower one (fewer
scopes, another audience, minutes of lifetime, never past its origin) that names its actor in
``act``; it ends when its origin or the origin's client is revoked, at introspection and at the
gateway check. Every bad request answers the RFC's error and issues nothing; a tenant that has
not turned exchange on answers ``unsupported_grant_type``."""

from __future__ import annotations

import time
from typing import Any

import httpx2
import jwt
import pytest
from starlette.testclient import TestClient

from tests.api.support import api, bearer_caller
from tests.factories import Credential, Factory
from tests.http.support import (
    BASE,
    assert_oauth_error,
    introspect_path,
    revoke_path,
    tenant_session,
    token_path,
)
from tests.keypairs import dpop_proof, key_pair

EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
ACCESS_TOKEN = "urn:ietf:params:oauth:token-type:access_token"
TOKEN_URL = BASE + token_path()
REPORTS = "https://reports.acme.example.com"


def allow_exchange(factory: Factory, lifetime: int = 300, tenant: str = "acme") -> None:
    with tenant_session(factory, tenant) as (_, found):
        found.token_exchange_lifetime = lifetime
        found.allowed_audiences = [found.audience, REPORTS]


def token_for(http: TestClient, cred: Credential, **form: str) -> str:
    response = http.post(
        token_path(cred.tenant),
        data={"grant_type": "client_credentials", **form},
        headers={"authorization": cred.basic},
    )
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def exchange(
    http: TestClient, subject: str, headers: dict[str, str] | None = None, **form: str
) -> httpx2.Response:
    body = {
        "grant_type": EXCHANGE,
        "subject_token": subject,
        "subject_token_type": ACCESS_TOKEN,
        **form,
    }
    return http.post(token_path(), data=body, headers=headers or {})


def claims_of(token: str) -> dict[str, Any]:
    return jwt.decode(token, options={"verify_signature": False})


def active(http: TestClient, cred: Credential, token: str) -> bool:
    response = http.post(
        introspect_path(), data={"token": token}, headers={"authorization": cred.basic}
    )
    assert response.status_code == 200, response.text
    return bool(response.json()["active"])


@pytest.fixture
def cred(acme: Factory) -> Credential:
    allow_exchange(acme)
    return acme.client(scopes=("nql", "workflows", "campaigns"), groups_=())


def test_a_token_is_exchanged_for_a_narrower_shorter_one(
    client: TestClient, cred: Credential
) -> None:
    subject = client.post(
        token_path(),
        content=f"grant_type=client_credentials&resource=api://acme&resource={REPORTS}",
        headers={
            "authorization": cred.basic,
            "content-type": "application/x-www-form-urlencoded",
        },
    ).json()["access_token"]

    response = exchange(client, subject, scope="nql", resource=REPORTS)

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["issued_token_type"] == ACCESS_TOKEN
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 300
    assert response.headers["cache-control"] == "no-store"
    new, old = claims_of(body["access_token"]), claims_of(subject)
    assert (new["scope"], new["aud"], new["client_id"]) == ("nql", REPORTS, cred.client_id)
    assert new["act"] == {"sub": cred.client_id}
    assert new["exchanged_from"] == old["jti"]
    assert new["exp"] <= old["exp"]
    assert active(client, cred, body["access_token"])


def test_the_new_token_never_outlives_its_origin(
    acme: Factory, client: TestClient, cred: Credential
) -> None:
    allow_exchange(acme, lifetime=3600)
    subject = token_for(client, cred)  # lives the tenant's 600 s

    body = exchange(client, subject).json()

    assert body["expires_in"] <= 600
    assert claims_of(body["access_token"])["exp"] <= claims_of(subject)["exp"]


def test_an_actor_token_names_the_actor(
    acme: Factory, client: TestClient, cred: Credential
) -> None:
    agent = acme.client(name="agent", scopes=("nql",))
    actor_token = token_for(client, agent)

    response = exchange(
        client,
        token_for(client, cred),
        actor_token=actor_token,
        actor_token_type=ACCESS_TOKEN,
        scope="nql",
    )

    assert response.status_code == 200, response.text
    new = claims_of(response.json()["access_token"])
    assert new["client_id"] == cred.client_id  # still the subject's token...
    assert new["act"] == {"sub": agent.client_id}  # ...used by the agent


def test_a_client_that_authenticates_is_the_actor_and_a_wrong_secret_fails(
    acme: Factory, client: TestClient, cred: Credential
) -> None:
    agent = acme.client(name="agent", scopes=("nql",))
    subject = token_for(client, cred)

    named = exchange(client, subject, headers={"authorization": agent.basic})
    wrong = Credential(agent.tenant, agent.client_id, cred.secret)
    refused = exchange(client, subject, headers={"authorization": wrong.basic})

    assert claims_of(named.json()["access_token"])["act"] == {"sub": agent.client_id}
    assert_oauth_error(refused, 401, "invalid_client")


def test_revoking_the_origin_ends_the_exchanged_token(client: TestClient, cred: Credential) -> None:
    subject = token_for(client, cred)
    exchanged = exchange(client, subject).json()["access_token"]
    gateway = "/realms/acme/gateway/check"
    assert client.get(gateway, headers={"authorization": f"Bearer {exchanged}"}).status_code == 200

    revoked = client.post(
        revoke_path(), data={"token": subject}, headers={"authorization": cred.basic}
    )
    assert revoked.status_code == 200, revoked.text

    assert not active(client, cred, exchanged)
    assert client.get(gateway, headers={"authorization": f"Bearer {exchanged}"}).status_code == 401


def test_revoking_the_origin_s_client_ends_the_exchanged_token(
    acme: Factory, client: TestClient, cred: Credential
) -> None:
    exchanged = exchange(client, token_for(client, cred)).json()["access_token"]
    admin = bearer_caller(client, acme, "acme")
    other = acme.client(name="introspector")

    revoked = admin.request(client, "POST", api("acme", f"/clients/{cred.client_id}/revoke"))
    assert revoked.status_code == 200, revoked.text

    deadline = time.monotonic() + 10
    while active(client, other, exchanged):  # every process learns it at its next poll
        assert time.monotonic() < deadline, "the exchanged token is still active"
        time.sleep(0.05)


def test_a_bound_token_is_exchanged_only_with_a_proof_of_its_key(
    client: TestClient, cred: Credential
) -> None:
    pair = key_pair("ES256")
    bound = client.post(
        token_path(),
        data={"grant_type": "client_credentials"},
        headers={"authorization": cred.basic, "dpop": dpop_proof(pair, "POST", TOKEN_URL)},
    ).json()["access_token"]

    without = exchange(client, bound)
    other_key = exchange(
        client, bound, headers={"dpop": dpop_proof(key_pair("ES256"), "POST", TOKEN_URL)}
    )
    with_key = exchange(client, bound, headers={"dpop": dpop_proof(pair, "POST", TOKEN_URL)})

    assert_oauth_error(without, 400, "invalid_grant")
    assert_oauth_error(other_key, 400, "invalid_grant")
    assert with_key.status_code == 200, with_key.text
    assert with_key.json()["token_type"] == "DPoP"
    assert claims_of(with_key.json()["access_token"])["cnf"] == claims_of(bound)["cnf"]


def _bad_requests(client: TestClient, cred: Credential) -> dict[str, dict[str, str]]:
    subject = token_for(client, cred, scope="nql")
    exchanged = exchange(client, subject).json()["access_token"]
    return {
        "no subject_token": {"subject_token": ""},
        "a wrong subject_token_type": {"subject_token_type": "urn:x:saml2"},
        "a foreign token": {"subject_token": jwt.encode({"a": 1}, "k" * 32)},
        "a token with a wrong signature": {"subject_token": subject[:-6] + "AAAAAA"},
        "an exchanged token": {"subject_token": exchanged},
        "a scope not held": {"scope": "workflows"},
        "an audience not allowed": {"resource": "https://evil.example.com"},
        "another audience of the tenant": {"resource": REPORTS},
        "gatepass's own audience": {"resource": BASE + "/realms/acme"},
        "gatepass's own audience as audience": {"audience": BASE + "/realms/acme"},
        "an actor_token without type": {"actor_token": subject},
        "an actor_token that is not a token": {
            "actor_token": "nope",
            "actor_token_type": ACCESS_TOKEN,
        },
        "an unknown requested_token_type": {"requested_token_type": "urn:x:id_token"},
        "subject_token": {"subject_token": subject},
    }


ERRORS = {
    "no subject_token": "invalid_request",
    "a wrong subject_token_type": "invalid_request",
    "a foreign token": "invalid_grant",
    "a token with a wrong signature": "invalid_grant",
    "an exchanged token": "invalid_grant",
    "a scope not held": "invalid_scope",
    "an audience not allowed": "invalid_target",
    "another audience of the tenant": "invalid_target",
    "gatepass's own audience": "invalid_target",
    "gatepass's own audience as audience": "invalid_target",
    "an actor_token without type": "invalid_request",
    "an actor_token that is not a token": "invalid_grant",
    "an unknown requested_token_type": "invalid_request",
}


@pytest.mark.parametrize("case", list(ERRORS))
def test_a_bad_exchange_answers_the_rfc_s_error_and_issues_nothing(
    client: TestClient, cred: Credential, case: str
) -> None:
    cases = _bad_requests(client, cred)
    form = {"subject_token": cases["subject_token"]["subject_token"], **cases[case]}
    subject = form.pop("subject_token")

    response = exchange(client, subject, **form)

    assert_oauth_error(response, 400, ERRORS[case])
    assert "access_token" not in response.json()


def test_a_tenant_without_token_exchange_refuses_it(acme: Factory, client: TestClient) -> None:
    acme.tenant("beta")
    cred = acme.client("beta")
    subject = token_for(client, cred)

    response = client.post(
        token_path("beta"),
        data={"grant_type": EXCHANGE, "subject_token": subject, "subject_token_type": ACCESS_TOKEN},
    )

    assert_oauth_error(response, 400, "unsupported_grant_type")
    discovery = client.get("/realms/beta/.well-known/openid-configuration").json()
    assert EXCHANGE not in discovery["grant_types_supported"]


def test_discovery_lists_token_exchange_when_it_is_on(client: TestClient, cred: Credential) -> None:
    discovery = client.get("/realms/acme/.well-known/openid-configuration").json()

    assert EXCHANGE in discovery["grant_types_supported"]


def test_an_administrator_turns_token_exchange_on_and_off(
    acme: Factory, client: TestClient
) -> None:
    admin = bearer_caller(client, acme, "acme")
    for lifetime, shown in ((120, 120), (0, None)):
        response = admin.request(
            client, "PATCH", api("acme", ""), json={"token_exchange_lifetime": lifetime}
        )
        assert response.status_code == 200, response.text
        assert response.json()["token_exchange_lifetime"] == shown
    refused = admin.request(client, "PATCH", api("acme", ""), json={"token_exchange_lifetime": 10})
    assert refused.status_code == 422, refused.text
