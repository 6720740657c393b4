"""Workload identity federation over HTTP: a tenant administrator trusts an external issuer, a
client's rules say which of its tokens authenticate the client, and a workload gets a Gatepass
token with its own platform's token and no secret.

The issuers are real: a GitHub Actions-like issuer publishes its discovery document and keys on
an HTTP server started in the test; a Kubernetes-like cluster's keys are given to the tenant, as
for a cluster Gatepass cannot reach. Their tokens have the shape of the real ones (claims,
header). Every bad token is refused as RFC 6749 and RFC 7523 say (``invalid_client`` as client
authentication, ``invalid_grant`` as the jwt-bearer grant), with no token issued, nothing
written, and nothing fetched for an issuer the tenant does not trust.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx2
import jwt
import pytest
from authlib.integrations.httpx_client import AssertionClient
from sqlalchemy import func, select
from starlette.testclient import TestClient

from gatepass.app import create_app
from gatepass.audit.models import AuditEvent
from gatepass.settings import Settings
from gatepass.tenants import service as tenants
from tests.api.support import Caller, api, assert_problem, bearer_caller, session_caller
from tests.factories import Factory
from tests.http.support import BASE, assert_oauth_error, token_path
from tests.key_server import KeyServer, key_server
from tests.keypairs import ASSERTION_TYPE, KeyPair, key_pair

TOKEN_URL = BASE + token_path()
ISSUER_URL = BASE + "/realms/acme"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
CLUSTER = "https://kubernetes.default.svc.cluster.local"
GITHUB_SUB = "repo:acme/billing:environment:prod"
CLUSTER_SUB = "system:serviceaccount:payments:sync"


@dataclass
class Issuers:
    """The two issuers of a test: GitHub-like (discovered) and a cluster (keys given)."""

    server: KeyServer
    github: str  # its issuer URL
    github_key: KeyPair
    cluster_key: KeyPair

    def github_token(self, **claims: Any) -> str:
        """A token shaped like a GitHub Actions job's, for the ``prod`` environment of
        ``acme/billing``; ``claims`` override (``None`` removes one)."""
        now = int(time.time())
        payload = {
            "jti": secrets.token_hex(16),
            "sub": GITHUB_SUB,
            "aud": ISSUER_URL,
            "ref": "refs/heads/main",
            "sha": secrets.token_hex(20),
            "repository": "acme/billing",
            "repository_owner": "acme",
            "repository_owner_id": "1024",
            "repository_id": "77",
            "repository_visibility": "private",
            "run_id": "6123456789",
            "run_attempt": "1",
            "actor": "octocat",
            "actor_id": "583231",
            "workflow": "deploy",
            "event_name": "push",
            "ref_type": "branch",
            "environment": "prod",
            "job_workflow_ref": "acme/billing/.github/workflows/deploy.yml@refs/heads/main",
            "runner_environment": "github-hosted",
            "iss": self.github,
            "nbf": now - 5,
            "iat": now,
            "exp": now + 300,
            **claims,
        }
        return sign(self.github_key, payload, {"typ": "JWT", "x5t": "dGVzdA"})

    def cluster_token(self, **claims: Any) -> str:
        """A projected service-account token of Kubernetes, for ``payments/sync``."""
        now = int(time.time())
        payload = {
            "aud": [ISSUER_URL],
            "exp": now + 3600,
            "iat": now,
            "iss": CLUSTER,
            "jti": secrets.token_hex(16),
            "kubernetes.io": {
                "namespace": "payments",
                "pod": {"name": "sync-5d9c7", "uid": "2b1c"},
                "serviceaccount": {"name": "sync", "uid": "9f3e"},
            },
            "nbf": now,
            "sub": CLUSTER_SUB,
            **claims,
        }
        return sign(self.cluster_key, payload, {})


def sign(pair: KeyPair, payload: dict[str, Any], header: dict[str, Any]) -> str:
    body = {k: v for k, v in payload.items() if v is not None}
    return jwt.encode(body, pair.private, algorithm=pair.alg, headers={"kid": pair.kid, **header})


@pytest.fixture
def issuers() -> Iterator[Issuers]:
    with key_server() as server:
        github_key, cluster_key = key_pair("RS256"), key_pair("ES256")
        github = server.issuer("/github", github_key.jwks())
        yield Issuers(server, github, github_key, cluster_key)


@pytest.fixture
def app(settings: Settings) -> Iterator[TestClient]:
    """The operator allows key URLs on loopback over http: where the test's issuer is (with a
    fetch deadline generous enough for a loaded test machine)."""
    local = settings.model_copy(
        update={"jwks_allow_http": True, "jwks_allow_private": True, "jwks_timeout": 30.0}
    )
    with TestClient(create_app(local), base_url=BASE) as http:
        yield http


@pytest.fixture
def admin(acme: Factory, app: TestClient) -> Caller:
    return bearer_caller(app, acme, "acme")


def trust(app: TestClient, admin: Caller, issuers: Issuers) -> None:
    trusted = [
        {"issuer": issuers.github, "name": "GitHub Actions"},
        {"issuer": CLUSTER, "name": "prod cluster", "jwks": issuers.cluster_key.jwks()},
    ]
    response = admin.request(app, "PATCH", api("acme", ""), json={"trusted_issuers": trusted})
    assert response.status_code == 200, response.text


def rules(issuers: Issuers) -> list[dict[str, Any]]:
    return [
        {
            "issuer": issuers.github,
            "subject": GITHUB_SUB,
            "claims": {"repository_owner_id": "1024", "ref": ["refs/heads/main"]},
        },
        {"issuer": CLUSTER, "subject": CLUSTER_SUB},
    ]


@pytest.fixture
def federated(app: TestClient, admin: Caller, issuers: Issuers) -> str:
    """A client that GitHub's ``prod`` deploys of acme/billing and the cluster's
    ``payments/sync`` service account authenticate as; its client ID."""
    trust(app, admin, issuers)
    body = {"name": "billing deploy", "scopes": ["nql"], "federation": rules(issuers)}
    response = admin.request(app, "POST", api("acme", "/clients"), json=body)
    assert response.status_code == 201, response.text
    assert response.json()["client_secret"] is None
    return str(response.json()["client_id"])


def as_client(token: str, client_id: str | None, **fields: str) -> dict[str, str]:
    form = {
        "grant_type": "client_credentials",
        "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": token,
        **fields,
    }
    if client_id is not None:
        form["client_id"] = client_id
    return form


def as_grant(token: str, client_id: str) -> dict[str, str]:
    return {"grant_type": JWT_BEARER, "assertion": token, "client_id": client_id}


def audit_count(factory: Factory) -> int:
    with factory.db.read() as session:
        return session.scalar(select(func.count(AuditEvent.id))) or 0


def claims_of(response: httpx2.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    return jwt.decode(response.json()["access_token"], options={"verify_signature": False})


# --- what works ------------------------------------------------------------------------------


def test_a_github_job_gets_a_token_with_its_own_token_fetched_keys_once(
    app: TestClient, issuers: Issuers, federated: str
) -> None:
    job_token = issuers.github_token()

    for _ in range(3):  # a job reuses its token until it expires: no jti is spent
        claims = claims_of(app.post(token_path(), data=as_client(job_token, federated)))
        assert claims["client_id"] == federated
        assert claims["scope"] == "nql"

    assert issuers.server.hits["/github/.well-known/openid-configuration"] == 1
    assert issuers.server.hits["/github/jwks"] == 1


def test_a_kubernetes_service_account_gets_a_token_with_keys_given_to_the_tenant(
    app: TestClient, issuers: Issuers, federated: str
) -> None:
    response = app.post(token_path(), data=as_client(issuers.cluster_token(), federated))

    assert claims_of(response)["client_id"] == federated
    assert sum(issuers.server.hits.values()) == 0  # nothing fetched for the cluster


def test_the_jwt_bearer_grant_takes_the_workload_s_token(
    app: TestClient, issuers: Issuers, federated: str
) -> None:
    response = app.post(token_path(), data=as_grant(issuers.github_token(), federated))

    assert claims_of(response)["client_id"] == federated


def test_authlib_s_assertion_client_gets_a_token_as_a_cluster_workload(
    app: TestClient, issuers: Issuers, federated: str
) -> None:
    """Authlib's RFC 7523 client, signing as the cluster does, with the client ID sent."""
    with AssertionClient(
        token_endpoint=TOKEN_URL,
        issuer=CLUSTER,
        subject=CLUSTER_SUB,
        audience=ISSUER_URL,
        key=issuers.cluster_key.private_jwk(),
        client_id=federated,
        header={"alg": "ES256", "kid": issuers.cluster_key.kid},
        transport=_Transport(app),
    ) as assertion_client:
        token = assertion_client.refresh_token()

    claims = jwt.decode(token["access_token"], options={"verify_signature": False})
    assert claims["client_id"] == federated


class _Transport(httpx2.BaseTransport):
    """Sends Authlib's requests to the app under test, as the other HTTP tests do."""

    def __init__(self, app: TestClient) -> None:
        self.app = app

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        answer = self.app.request(
            request.method, request.url.path, content=request.read(), headers=request.headers
        )
        return httpx2.Response(answer.status_code, headers=answer.headers, content=answer.content)


# --- what is refused -------------------------------------------------------------------------


def _bad_github_tokens(issuers: Issuers) -> dict[str, str]:
    now = int(time.time())
    stranger = key_pair("RS256", kid=issuers.github_key.kid)
    return {
        "another repository": issuers.github_token(sub="repo:mallory/billing:environment:prod"),
        "another environment": issuers.github_token(sub="repo:acme/billing:environment:staging"),
        "a claim off the rule": issuers.github_token(ref="refs/heads/feature"),
        "a claim missing": issuers.github_token(repository_owner_id=None),
        "a claim of another type": issuers.github_token(repository_owner_id=["1024"]),
        "another audience": issuers.github_token(aud="https://github.com/acme"),
        "expired": issuers.github_token(iat=now - 900, nbf=now - 900, exp=now - 600),
        "not yet valid": issuers.github_token(nbf=now + 600),
        "living two days": issuers.github_token(exp=now + 2 * 86400),
        "no exp": issuers.github_token(exp=None),
        "no sub": issuers.github_token(sub=None),
        "signed by another key": sign(
            stranger, jwt.decode(issuers.github_token(), options={"verify_signature": False}), {}
        ),
        "an unknown kid": sign(
            key_pair("RS256"),
            jwt.decode(issuers.github_token(), options={"verify_signature": False}),
            {},
        ),
        "alg none": jwt.encode(
            jwt.decode(issuers.github_token(), options={"verify_signature": False}),
            None,
            algorithm="none",
            headers={"kid": issuers.github_key.kid},
        ),
        "an untrusted issuer with the same keys": issuers.github_token(
            iss=issuers.server.url("/elsewhere")
        ),
        "the cluster's token for another account": issuers.cluster_token(
            sub="system:serviceaccount:payments:admin"
        ),
        "the cluster's legacy token without exp": issuers.cluster_token(exp=None),
        "not a JWT": "not-a-jwt",
    }


BAD = (
    "another repository",
    "another environment",
    "a claim off the rule",
    "a claim missing",
    "a claim of another type",
    "another audience",
    "expired",
    "not yet valid",
    "living two days",
    "no exp",
    "no sub",
    "signed by another key",
    "an unknown kid",
    "alg none",
    "an untrusted issuer with the same keys",
    "the cluster's token for another account",
    "the cluster's legacy token without exp",
    "not a JWT",
)


@pytest.mark.parametrize("case", BAD)
@pytest.mark.parametrize("way", ["client_assertion", "jwt-bearer grant"])
def test_a_bad_token_is_refused_and_changes_nothing(
    acme: Factory, app: TestClient, issuers: Issuers, federated: str, *, case: str, way: str
) -> None:
    token = _bad_github_tokens(issuers)[case]
    before = audit_count(acme)

    if way == "client_assertion":
        response = app.post(token_path(), data=as_client(token, federated))
        assert_oauth_error(response, 401, "invalid_client")
    else:
        response = app.post(token_path(), data=as_grant(token, federated))
        assert_oauth_error(response, 400, "invalid_grant")
    assert "access_token" not in response.text
    assert audit_count(acme) == before


def test_an_untrusted_issuer_is_never_fetched(
    app: TestClient, issuers: Issuers, federated: str
) -> None:
    elsewhere = issuers.server.issuer("/elsewhere", issuers.github_key.jwks())
    token = issuers.github_token(iss=elsewhere)

    assert_oauth_error(
        app.post(token_path(), data=as_client(token, federated)), 401, "invalid_client"
    )
    assert issuers.server.hits["/elsewhere/.well-known/openid-configuration"] == 0
    assert issuers.server.hits["/elsewhere/jwks"] == 0


def test_without_client_id_a_workload_token_names_no_client(
    app: TestClient, issuers: Issuers, federated: str
) -> None:
    response = app.post(token_path(), data=as_client(issuers.github_token(), None))

    assert_oauth_error(response, 401, "invalid_client")


def test_an_issuer_the_tenant_stops_trusting_stops_at_once(
    app: TestClient, admin: Caller, issuers: Issuers, federated: str
) -> None:
    job_token = issuers.github_token()
    assert app.post(token_path(), data=as_client(job_token, federated)).status_code == 200

    kept = [{"issuer": CLUSTER, "jwks": issuers.cluster_key.jwks()}]
    response = admin.request(app, "PATCH", api("acme", ""), json={"trusted_issuers": kept})
    assert response.status_code == 200, response.text

    assert_oauth_error(
        app.post(token_path(), data=as_client(job_token, federated)), 401, "invalid_client"
    )
    cluster = app.post(token_path(), data=as_client(issuers.cluster_token(), federated))
    assert cluster.status_code == 200, cluster.text


def test_new_rules_replace_the_old_at_once(
    app: TestClient, admin: Caller, issuers: Issuers, federated: str
) -> None:
    staging = "repo:acme/billing:environment:staging"
    body = {"federation": [{"issuer": issuers.github, "subject": staging}]}
    response = admin.request(app, "PATCH", api("acme", f"/clients/{federated}"), json=body)
    assert response.status_code == 200, response.text
    assert response.json()["federation"] == [
        {"issuer": issuers.github, "subject": staging, "audience": None, "claims": {}}
    ]

    assert_oauth_error(
        app.post(token_path(), data=as_client(issuers.github_token(), federated)),
        401,
        "invalid_client",
    )
    ok = app.post(token_path(), data=as_client(issuers.github_token(sub=staging), federated))
    assert ok.status_code == 200, ok.text


# --- the settings ----------------------------------------------------------------------------


BAD_ISSUERS: dict[str, list[Any]] = {
    "not https": [{"issuer": "ftp://token.example.com"}],
    "a query": [{"issuer": "https://token.example.com/?tenant=1"}],
    "listed twice": [{"issuer": "https://a.example.com"}, {"issuer": "https://a.example.com"}],
    "both keys and a URL": [
        {
            "issuer": "https://a.example.com",
            "jwks_uri": "https://a.example.com/keys",
            "jwks": key_pair("ES256").jwks(),
        }
    ],
    "a private key": [{"issuer": CLUSTER, "jwks": {"keys": [key_pair("ES256").private_jwk()]}}],
    "a private address to fetch": [{"issuer": "https://10.0.0.8/issuer"}],
    "an unknown field": [{"issuer": "https://a.example.com", "trust": "all"}],
}


@pytest.mark.parametrize("case", list(BAD_ISSUERS))
def test_bad_trusted_issuers_are_refused_and_nothing_changes(
    settings: Settings, acme: Factory, case: str
) -> None:
    with TestClient(create_app(settings), base_url=BASE) as strict:  # the default rules
        caller = bearer_caller(strict, acme, "acme")
        before = caller.request(strict, "GET", api("acme", "")).json()
        response = caller.request(
            strict, "PATCH", api("acme", ""), json={"trusted_issuers": BAD_ISSUERS[case]}
        )
        assert response.status_code in (400, 422), response.text
        assert response.json()["type"].endswith(("invalid_input", "validation_error"))
        assert caller.request(strict, "GET", api("acme", "")).json() == before


def _bad_rules(issuers: Issuers) -> dict[str, list[Any]]:
    return {
        "an untrusted issuer": [{"issuer": "https://gitlab.example.com", "subject": "x"}],
        "no subject": [{"issuer": issuers.github}],
        "an empty subject": [{"issuer": issuers.github, "subject": ""}],
        "a reserved claim": [
            {"issuer": issuers.github, "subject": GITHUB_SUB, "claims": {"iss": "x"}}
        ],
        "a control character": [{"issuer": issuers.github, "subject": "repo:a\nb"}],
        "an empty list of values": [
            {"issuer": issuers.github, "subject": GITHUB_SUB, "claims": {"ref": []}}
        ],
        "eleven rules": [{"issuer": issuers.github, "subject": f"s{n}"} for n in range(11)],
    }


RULE_CASES = (
    "an untrusted issuer",
    "no subject",
    "an empty subject",
    "a reserved claim",
    "a control character",
    "an empty list of values",
    "eleven rules",
)


@pytest.mark.parametrize("case", RULE_CASES)
def test_bad_rules_are_refused_and_nothing_is_stored(
    acme: Factory, app: TestClient, admin: Caller, issuers: Issuers, case: str
) -> None:
    trust(app, admin, issuers)
    listed = admin.request(app, "GET", api("acme", "/clients")).json()["items"]
    body = {"name": "bad rules", "federation": _bad_rules(issuers)[case]}

    response = admin.request(app, "POST", api("acme", "/clients"), json=body)

    assert response.status_code == 422, response.text
    assert admin.request(app, "GET", api("acme", "/clients")).json()["items"] == listed


def test_a_secret_client_cannot_be_given_rules(
    acme: Factory, app: TestClient, admin: Caller, issuers: Issuers
) -> None:
    trust(app, admin, issuers)
    client_id = acme.client().client_id
    body = {"federation": rules(issuers)}

    response = admin.request(app, "PATCH", api("acme", f"/clients/{client_id}"), json=body)

    assert "secret" in assert_problem(response, 422, "invalid_input")["detail"]
    shown = admin.request(app, "GET", api("acme", f"/clients/{client_id}")).json()
    assert shown["federation"] == []


def test_the_last_way_to_authenticate_cannot_be_removed(
    app: TestClient, admin: Caller, federated: str
) -> None:
    path = api("acme", f"/clients/{federated}")

    response = admin.request(app, "PATCH", path, json={"federation": []})

    assert "no way to authenticate" in assert_problem(response, 422, "invalid_input")["detail"]
    assert len(admin.request(app, "GET", path).json()["federation"]) == 2


def test_the_audit_log_names_issuers_and_rules_never_key_material(
    app: TestClient, admin: Caller, issuers: Issuers, federated: str
) -> None:
    events = admin.request(app, "GET", api("acme", "/audit-events"), params={"limit": "50"}).json()
    text = str(events)

    assert issuers.github in text
    assert CLUSTER_SUB in text
    assert issuers.cluster_key.public_jwk()["x"] not in text
    assert issuers.cluster_key.kid in text


@pytest.mark.parametrize("way", ["token", "session"])
@pytest.mark.parametrize("role", ["admin", "credentials_manager", "viewer"])
def test_only_an_administrator_chooses_the_trusted_issuers(
    acme: Factory, app: TestClient, issuers: Issuers, role: str, way: str
) -> None:
    make = bearer_caller if way == "token" else session_caller
    caller = make(app, acme, "acme", role)
    before = audit_count(acme)
    body = {"trusted_issuers": [{"issuer": issuers.github}]}

    response = caller.request(app, "PATCH", api("acme", ""), json=body)

    with acme.db.read() as session:
        stored = tenants.get_tenant(session, "acme").trusted_issuers
    if role == "admin":
        assert response.status_code == 200, response.text
        assert [i["issuer"] for i in stored] == [issuers.github]
        return
    assert_problem(response, 403, "forbidden")
    assert stored == []
    with acme.db.read() as session:
        actions = session.scalars(select(AuditEvent.action).offset(before)).all()
    assert "tenant.update" not in actions
