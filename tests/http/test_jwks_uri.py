"""``private_key_jwt`` with keys the client publishes at a URL (``jwks_uri``), served in the test
by a real HTTP server: fetched once and cached, a rotated key found by one refetch, a flood of
made-up key IDs costing at most one fetch per minimum interval, a URL that fails refusing the
client with nothing written; and a keyed client's keys replaced through the API."""

from __future__ import annotations

from collections.abc import Iterator

import httpx2
import pytest
from sqlalchemy import func, select
from starlette.testclient import TestClient

from gatepass.app import create_app
from gatepass.audit.models import AuditEvent
from gatepass.clients import service as clients
from gatepass.clients.models import OAuthClient
from gatepass.errors import InvalidInputError
from gatepass.settings import Settings
from gatepass.tenants import service as tenants
from tests.factories import ACTOR, Factory
from tests.http.support import BASE, assert_oauth_error, token_path
from tests.key_server import KeyServer, key_server
from tests.keypairs import KeyPair, assertion_form, key_pair

TOKEN_URL = BASE + token_path()


@pytest.fixture
def keys_at() -> Iterator[KeyServer]:
    with key_server() as server:
        yield server


@pytest.fixture
def local_settings(settings: Settings) -> Settings:
    """The operator allows key URLs on loopback over http: where the test's key server is. The
    fetch deadline is generous: on a loaded test machine the scheduler, not the fetch, is slow."""
    return settings.model_copy(
        update={"jwks_allow_http": True, "jwks_allow_private": True, "jwks_timeout": 30.0}
    )


@pytest.fixture
def app(local_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(local_settings), base_url=BASE) as http:
        yield http


def token(http: TestClient, pair: KeyPair, client_id: str, **headers: str) -> httpx2.Response:
    assertion = pair.sign(client_id, TOKEN_URL, headers=headers or None)
    return http.post(token_path(), data=assertion_form(assertion))


def test_a_client_s_published_keys_get_it_tokens_fetched_once(
    acme: Factory, app: TestClient, keys_at: KeyServer
) -> None:
    pair = key_pair("RS256")
    keys_at.serve("/jwks", pair.jwks())
    client_id = acme.client(jwks_uri=keys_at.url("/jwks")).client_id

    for _ in range(3):
        response = token(app, pair, client_id)
        assert response.status_code == 200, response.text
    assert keys_at.hits["/jwks"] == 1


def test_a_key_rotated_at_the_url_is_found_by_one_refetch(
    acme: Factory, app: TestClient, keys_at: KeyServer
) -> None:
    old, new = key_pair("ES256", "old"), key_pair("ES256", "new")
    keys_at.serve("/jwks", old.jwks())
    client_id = acme.client(jwks_uri=keys_at.url("/jwks")).client_id
    assert token(app, old, client_id).status_code == 200

    keys_at.serve("/jwks", new.jwks())
    assert_oauth_error(token(app, new, client_id), 401, "invalid_client")  # fetched just now
    app.app.app.ctx.remote_keys.min_refetch = 0  # type: ignore[attr-defined] # interval passed
    assert token(app, new, client_id).status_code == 200
    assert keys_at.hits["/jwks"] == 2


def test_made_up_key_ids_cost_one_fetch_per_interval(
    acme: Factory, app: TestClient, keys_at: KeyServer
) -> None:
    pair = key_pair("ES256", "real")
    keys_at.serve("/jwks", pair.jwks())
    client_id = acme.client(jwks_uri=keys_at.url("/jwks")).client_id
    assert token(app, pair, client_id).status_code == 200
    fetched = keys_at.hits["/jwks"]

    for n in range(20):  # refused, then throttled (429) as any failing client is
        refused = token(app, pair, client_id, kid=f"made-up-{n}")
        assert refused.json()["error"] == "invalid_client"
    assert keys_at.hits["/jwks"] - fetched <= 1


@pytest.mark.parametrize("status", [404, 503])
def test_a_url_that_fails_refuses_the_client_and_writes_nothing(
    acme: Factory, app: TestClient, keys_at: KeyServer, status: int
) -> None:
    pair = key_pair("ES256")
    keys_at.answer("/jwks", status)
    client_id = acme.client(jwks_uri=keys_at.url("/jwks")).client_id
    before = audit_count(acme)

    assert_oauth_error(token(app, pair, client_id), 401, "invalid_client")
    assert audit_count(acme) == before


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/jwks",  # plain http
        "https://127.0.0.1/jwks",  # loopback
        "https://10.0.0.8/jwks",  # private
        "https://169.254.169.254/latest/meta-data",  # link-local: a cloud's metadata service
        "https://user:pw@keys.example.com/jwks",
        "not a url",
    ],
)
def test_the_default_rules_refuse_a_url_no_key_should_come_from(acme: Factory, url: str) -> None:
    spec = clients.NewClient(name="x", jwks_uri=url)
    with acme.db.transaction() as session:
        tenant = tenants.get_tenant(session, "acme")
        with pytest.raises(InvalidInputError):
            clients.create_client(session, tenant, spec, actor=ACTOR, hasher=acme.hasher)
    assert client_count(acme) == 0


def test_jwks_and_jwks_uri_together_are_refused(acme: Factory) -> None:
    with pytest.raises(InvalidInputError, match="not both"):
        acme.client(jwks=key_pair("ES256").jwks(), jwks_uri="https://keys.example.com/jwks")
    assert client_count(acme) == 0


def audit_count(factory: Factory) -> int:
    with factory.db.read() as session:
        return session.scalar(select(func.count()).select_from(AuditEvent)) or 0


def client_count(factory: Factory) -> int:
    with factory.db.read() as session:
        return session.scalar(select(func.count()).select_from(OAuthClient)) or 0
