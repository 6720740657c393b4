"""Control characters at the protocol endpoints: an OAuth error, never a 5xx.

A realm slug with one names no realm (404, before any lookup); a client ID with one names no
client (``invalid_client``, before any lookup), whether sent in the body or with HTTP Basic.
PostgreSQL cannot even compare a NUL, so these once answered 503 and logged a false
"database unavailable". Each case runs for every character of ``tests.controls.CHARS``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from urllib.parse import quote, quote_plus

import httpx2
import pytest
from starlette.testclient import TestClient

from gatepass.app import create_app
from gatepass.settings import Settings
from tests.controls import CHARS, captured_logs, stored
from tests.factories import Credential, Factory
from tests.http.support import assert_oauth_error, basic

Send = Callable[[TestClient, Credential, str], httpx2.Response]
OIDC = "protocol/openid-connect"
POST_PATHS = {
    "token": f"{OIDC}/token",
    "introspect": f"{OIDC}/token/introspect",
    "revoke": f"{OIDC}/revoke",
}
FORMS = {"token": {"grant_type": "client_credentials"}, "introspect": {"token": "x"}}


@pytest.fixture
def cred(factory: Factory) -> Credential:
    factory.tenant()
    return factory.client(scopes=("nql", "api_keys:verify"))


@pytest.fixture
def http(settings: Settings, cred: Credential) -> Iterator[TestClient]:
    """The app, answering a crash with a 500 rather than raising it into the test."""
    with TestClient(create_app(settings), raise_server_exceptions=False) as made:
        yield made


def _slug(bad: str) -> str:
    return quote(f"ac{bad}me", safe="")


def _realm_get(path: str) -> Send:
    return lambda http, cred, bad: http.get(f"/realms/{_slug(bad)}/{path}")


def _realm_post(path: str) -> Send:
    return lambda http, cred, bad: http.post(
        f"/realms/{_slug(bad)}/{path}",
        data={"grant_type": "client_credentials"},
        headers={"authorization": cred.basic},
    )


def _rfc8414(http: TestClient, cred: Credential, bad: str) -> httpx2.Response:
    return http.get(f"/.well-known/oauth-authorization-server/realms/{_slug(bad)}")


def _verify(http: TestClient, cred: Credential, bad: str) -> httpx2.Response:
    return http.post(
        f"/realms/{_slug(bad)}/api-keys/verify",
        json={"key": "x"},
        headers={"authorization": cred.basic},
    )


def _id_in_body(endpoint: str) -> Send:
    def send(http: TestClient, cred: Credential, bad: str) -> httpx2.Response:
        form = {
            **FORMS.get(endpoint, {"token": "x"}),
            "client_id": f"{cred.client_id}{bad}",
            "client_secret": cred.secret,  # well-formed: worth a lookup, were the ID plain
        }
        return http.post(f"/realms/acme/{POST_PATHS[endpoint]}", data=form)

    return send


def _id_in_basic(path: str) -> Send:
    def send(http: TestClient, cred: Credential, bad: str) -> httpx2.Response:
        # RFC 6749 §2.3.1: the ID is form-urlencoded, then Basic-encoded.
        authorization = basic(quote_plus(f"{cred.client_id}{bad}"), quote_plus(cred.secret))
        if path == "api-keys/verify":
            return http.post(
                f"/realms/acme/{path}", json={"key": "x"}, headers={"authorization": authorization}
            )
        form = {"grant_type": "client_credentials", "token": "x"}
        return http.post(
            f"/realms/acme/{path}", data=form, headers={"authorization": authorization}
        )

    return send


SLUG_CASES = {
    "token": _realm_post(POST_PATHS["token"]),
    "introspect": _realm_post(POST_PATHS["introspect"]),
    "revoke": _realm_post(POST_PATHS["revoke"]),
    "verify": _verify,
    "certs": _realm_get(f"{OIDC}/certs"),
    "discovery": _realm_get(".well-known/openid-configuration"),
    "rfc8414": _rfc8414,
}
CLIENT_ID_CASES = {
    "token-post": _id_in_body("token"),
    "introspect-post": _id_in_body("introspect"),
    "revoke-post": _id_in_body("revoke"),
    "token-basic": _id_in_basic(POST_PATHS["token"]),
    "introspect-basic": _id_in_basic(POST_PATHS["introspect"]),
    "revoke-basic": _id_in_basic(POST_PATHS["revoke"]),
    "verify-basic": _id_in_basic("api-keys/verify"),
}


@pytest.mark.parametrize("bad", CHARS)
@pytest.mark.parametrize("case", list(SLUG_CASES))
def test_a_slug_with_a_control_character_is_no_realm(
    http: TestClient, factory: Factory, cred: Credential, case: str, bad: str
) -> None:
    before = stored(factory.db)
    with captured_logs() as logs:
        response = SLUG_CASES[case](http, cred, bad)
    assert_oauth_error(response, 404, "invalid_request")
    assert stored(factory.db) == before
    logs.assert_clean()


@pytest.mark.parametrize("bad", CHARS)
@pytest.mark.parametrize("case", list(CLIENT_ID_CASES))
def test_a_client_id_with_a_control_character_is_invalid_client(
    http: TestClient, factory: Factory, cred: Credential, case: str, bad: str
) -> None:
    before = stored(factory.db)
    with captured_logs() as logs:
        response = CLIENT_ID_CASES[case](http, cred, bad)
    assert_oauth_error(response, 401, "invalid_client")
    assert response.headers["www-authenticate"].startswith("Basic")
    assert stored(factory.db) == before
    logs.assert_clean()
