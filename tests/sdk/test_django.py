"""``gatepass_sdk.django`` and its Django REST framework classes through Django's own test
client, against a live Gatepass: every case of ``wsgi_cases`` for DRF views (with and without
the middleware) and for plain views behind the middleware, the caller's address sent with API
keys, ``?apikey=`` kept from the views, and the Django example project.

Django's settings are configured once per test process, from the example's settings module
(nothing else in the suite uses Django); each test overrides ``GATEPASS`` for its own tenant.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import Any

import django
import httpx
import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.test import Client, override_settings

from gatepass_sdk import ApiKeyLogFilter
from gatepass_sdk.dpop import token_hash
from tests.keypairs import dpop_proof, key_pair
from tests.sdk.realm import Realm
from tests.sdk.wsgi_cases import CASES, IDS, REALM, Case

pytestmark = pytest.mark.e2e

MIDDLEWARE = "gatepass_sdk.django.middleware.GatepassMiddleware"
# (URL prefix, with the middleware): DRF alone, DRF behind the middleware, plain views.
STACKS = [("drf", False), ("drf", True), ("plain", True)]
STACK_IDS = ["drf", "drf+middleware", "plain+middleware"]


@pytest.fixture(scope="module", autouse=True)
def django_configured() -> None:
    if not settings.configured:
        from examples.django_api import settings as example  # noqa: PLC0415

        settings.configure(
            **{name: getattr(example, name) for name in dir(example) if name.isupper()}
        )
        django.setup()


def gatepass_setting(realm: Realm, **extra: Any) -> dict[str, Any]:
    return {
        "ISSUER": realm.issuer,
        "AUDIENCE": realm.audience,
        "VERIFY_CLIENT": (realm.verify_client.client_id, realm.verify_client.secret),
        **extra,
    }


Project = Callable[..., AbstractContextManager[None]]


@pytest.fixture
def project(realm: Realm) -> Project:
    """The test project for ``realm``: ``with project(middleware=True): ...``."""

    def configured(
        *, middleware: bool = True, urls: str = "tests.sdk.django_urls", **gatepass: Any
    ):
        return override_settings(
            GATEPASS=gatepass_setting(realm, REALM=REALM, **gatepass),
            ROOT_URLCONF=urls,
            ALLOWED_HOSTS=["testserver"],
            MIDDLEWARE=[MIDDLEWARE] if middleware else [],
        )

    return configured


@pytest.mark.parametrize(("prefix", "middleware"), STACKS, ids=STACK_IDS)
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_each_credential_case(  # noqa: PLR0917 (fixtures and parameters)
    project: Project, realm: Realm, other_realm: Realm, case: Case, prefix: str, middleware: bool
) -> None:
    sent = case.sent(realm, other_realm)
    with project(middleware=middleware):
        response = Client().get(f"/{prefix}/nql", sent.query, headers=sent.headers)
    assert response.status_code == case.status, response.content
    assert response.headers.get("WWW-Authenticate") == case.challenge
    if case.status == 200:
        assert response.json() == {"subject": sent.subject}
    else:
        assert response.json()["error"] == case.error


@pytest.mark.parametrize(("prefix", "middleware"), STACKS, ids=STACK_IDS)
def test_open_views_serve_anonymous_callers_and_never_see_the_query_key(
    project: Project, realm: Realm, prefix: str, middleware: bool
) -> None:
    key = realm.api_key()
    with project(middleware=middleware):
        client = Client()
        anonymous = client.get(f"/{prefix}/open", {"page": "2"}).json()
        known = client.get(f"/{prefix}/open", {"page": "2", "apikey": key.key}).json()
    assert anonymous == {"query": {"page": "2"}, "subject": None}
    assert known == {"query": {"page": "2"}, "subject": key.key_id}


@pytest.mark.parametrize(("prefix", "middleware"), STACKS, ids=STACK_IDS)
def test_a_bad_credential_is_refused_even_on_an_open_view(
    project: Project, prefix: str, middleware: bool
) -> None:
    with project(middleware=middleware):
        response = Client().get(f"/{prefix}/open", headers={"X-API-Key": "gpk_nope"})
    assert response.status_code == 401
    assert response.json() == {
        "error": "invalid_token",
        "error_description": "the access token or API key is not valid",
    }


def test_the_default_permission_takes_any_gatepass_caller(project: Project, realm: Realm):
    key = realm.api_key(scopes=("workflows",))
    with project(middleware=False):
        client = Client()
        assert client.get("/drf/any", headers={"X-API-Key": key.key}).json() == {
            "subject": key.key_id
        }
        refused = client.get("/drf/any")
    assert refused.status_code == 401
    assert refused.headers["WWW-Authenticate"] == f'Bearer realm="{REALM}"'


@pytest.mark.parametrize(("prefix", "middleware"), STACKS, ids=STACK_IDS)
def test_the_callers_address_goes_with_its_api_key(
    project: Project, realm: Realm, prefix: str, middleware: bool
) -> None:
    key = realm.api_key(allowed_ips=("10.0.0.0/8",))
    headers = {"X-API-Key": key.key}
    with project(middleware=middleware):
        client = Client()
        inside = client.get(f"/{prefix}/nql", headers=headers, REMOTE_ADDR="10.1.2.3")
        outside = client.get(f"/{prefix}/nql", headers=headers, REMOTE_ADDR="192.0.2.1")
        again = client.get(f"/{prefix}/nql", headers=headers, REMOTE_ADDR="10.1.2.3")
    assert (inside.status_code, outside.status_code, again.status_code) == (200, 401, 200)


def test_a_plain_view_without_the_middleware_is_a_configuration_error(project: Project):
    with project(middleware=False), pytest.raises(RuntimeError, match="GatepassMiddleware"):
        Client().get("/plain/nql")


def test_the_development_servers_log_masks_query_keys(project: Project) -> None:
    with project():
        Client().get("/plain/open")
    logger = logging.getLogger("django.server")
    assert sum(isinstance(f, ApiKeyLogFilter) for f in logger.filters) == 1


def test_a_setting_without_an_issuer_is_improperly_configured(project: Project) -> None:
    with (
        override_settings(
            GATEPASS={"AUDIENCE": "api://x"},
            ROOT_URLCONF="tests.sdk.django_urls",
            ALLOWED_HOSTS=["testserver"],
            MIDDLEWARE=[MIDDLEWARE],
        ),
        pytest.raises(ImproperlyConfigured, match=r"settings\.GATEPASS: ISSUER is required"),
    ):
        Client().get("/plain/open")


@pytest.fixture
def example(realm: Realm) -> Iterator[Client]:
    with override_settings(
        GATEPASS=gatepass_setting(realm, REALM="platform-api"), ALLOWED_HOSTS=["testserver"]
    ):
        yield Client()


def test_the_example_lists_the_devices_of_the_callers_groups(example: Client, realm: Realm):
    key = realm.api_key(scopes=("nql", "data_management"), groups=("emea",))
    headers = {"X-API-Key": key.key}
    results = example.get("/nql/queries/device_inventory/results", headers=headers)
    assert results.status_code == 200
    emea = {"lon-ws-001", "par-lt-014", "ber-ws-102"}
    assert {row["device"] for row in results.json()["rows"]} == emea
    devices = example.get("/devices", headers=headers).json()["devices"]
    assert {device["name"] for device in devices} == emea
    assert example.get("/me", headers=headers).json()["subject"] == key.key_id
    assert example.get("/healthz").json() == {"status": "ok"}


def test_the_example_answers_rfc_6750(example: Client, realm: Realm) -> None:
    key = realm.api_key(scopes=("workflows",))
    headers = {"X-API-Key": key.key}
    nql = example.get("/nql/queries/device_inventory/results", headers=headers)
    assert nql.status_code == 403
    assert nql.headers["WWW-Authenticate"] == (
        'Bearer realm="platform-api", error="insufficient_scope", scope="nql"'
    )
    devices = example.get("/devices", headers=headers)
    assert devices.status_code == 403
    assert devices.headers["WWW-Authenticate"].endswith('scope="data_management"')
    assert example.get("/me").headers["WWW-Authenticate"] == 'Bearer realm="platform-api"'


@pytest.mark.parametrize(("prefix", "middleware"), STACKS, ids=STACK_IDS)
def test_a_dpop_bound_token_is_checked_against_the_url_django_builds(
    project: Project, realm: Realm, prefix: str, middleware: bool
) -> None:
    """Behind a proxy that terminates TLS, the client signed the https URL: Django's
    ``SECURE_PROXY_SSL_HEADER`` makes the URL the SDK compares with the proof's ``htu``."""
    pair = key_pair("ES256")
    token = dpop_bound_token(realm, pair)
    url = f"https://testserver/{prefix}/nql"
    behind_proxy = {"SECURE_PROXY_SSL_HEADER": ("HTTP_X_FORWARDED_PROTO", "https")}

    def send(proof_url: str) -> Any:
        proof = dpop_proof(pair, "GET", proof_url, ath=token_hash(token))
        headers = {
            "Authorization": f"DPoP {token}",
            "DPoP": proof,
            "Host": "testserver",  # as a proxy passes it: no port
            "X-Forwarded-Proto": "https",
        }
        with project(middleware=middleware), override_settings(**behind_proxy):
            return Client().get(f"/{prefix}/nql", headers=headers)

    good = send(url)
    assert good.status_code == 200, (good.content, good.headers.get("WWW-Authenticate"))
    refused = send(url.replace("https://", "http://"))
    assert refused.status_code == 401
    assert "invalid_dpop_proof" in refused.headers["WWW-Authenticate"]


def dpop_bound_token(realm: Realm, pair: Any) -> str:
    client = realm.client()
    token_url = realm.server.token_url(realm.slug)
    response = httpx.post(
        token_url,
        data={"grant_type": "client_credentials"},
        headers={"DPoP": dpop_proof(pair, "POST", token_url)},
        auth=(client.client_id, client.secret),
        timeout=10,
    )
    assert response.json()["token_type"] == "DPoP", response.text
    return str(response.json()["access_token"])
