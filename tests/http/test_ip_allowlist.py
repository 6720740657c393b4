"""The IP allowlist of a credential, where the credential is used: the token endpoint (and any
client authentication), the verify endpoint (the caller's address in the body) and the gateway
check (the address the check sees). A refused address is ``invalid_client``, ``IP_NOT_ALLOWED``
or ``invalid_token``, and spends nothing of a rate limit."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from gatepass.apikeys.service import RateLimit
from gatepass.app import create_app
from gatepass.settings import Settings
from tests.apikeys.support import create_key, verifier
from tests.factories import Factory
from tests.http.support import request_token
from tests.windows import wait_for_a_fresh_window

OFFICE = ("203.0.113.0/24", "2001:db8::/32")


@pytest.fixture
def office(settings: Settings) -> Iterator[TestClient]:
    """The app as seen by a caller inside the office's range."""
    with TestClient(create_app(settings), client=("203.0.113.9", 40000)) as http:
        yield http


@pytest.fixture
def elsewhere(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings), client=("198.51.100.1", 40000)) as http:
        yield http


def test_a_client_gets_tokens_only_from_its_ranges(
    acme: Factory, office: TestClient, elsewhere: TestClient
) -> None:
    cred = acme.client(allowed_ips=OFFICE)
    anywhere = acme.client(name="anywhere")

    assert request_token(office, cred).status_code == 200
    refused = request_token(elsewhere, cred)
    assert (refused.status_code, refused.json()["error"]) == (401, "invalid_client")
    assert refused.json()["error_description"] == "client authentication failed"  # no oracle
    assert request_token(elsewhere, anywhere).status_code == 200


def _verify(http: TestClient, caller_basic: str, key: str, ip: str | None) -> dict[str, object]:
    body = {"key": key, **({"ip": ip} if ip is not None else {})}
    response = http.post(
        "/realms/acme/api-keys/verify", json=body, headers={"authorization": caller_basic}
    )
    assert response.status_code == 200, response.text
    answer: dict[str, object] = response.json()
    return answer


@pytest.mark.parametrize(
    ("ip", "code"),
    [
        ("203.0.113.77", "VALID"),
        ("2001:db8::5", "VALID"),
        ("198.51.100.1", "IP_NOT_ALLOWED"),
        (None, "IP_NOT_ALLOWED"),  # the key is restricted: an unknown address is not allowed
    ],
)
def test_the_verify_endpoint_checks_the_address_it_is_given(
    acme: Factory, client: TestClient, ip: str | None, code: str
) -> None:
    key = create_key(acme, allowed_ips=OFFICE)
    answer = _verify(client, verifier(acme).basic, key.secret, ip)
    assert answer["code"] == code
    if code == "VALID":
        assert answer["allowed_ips"] == list(OFFICE)
    else:
        assert answer == {"valid": False, "code": code}


def test_a_refused_address_spends_none_of_the_rate_limit(acme: Factory, client: TestClient) -> None:
    key = create_key(acme, allowed_ips=OFFICE, rate_limit=RateLimit(2, 3600))
    wait_for_a_fresh_window(3600)
    checker = verifier(acme).basic
    for _ in range(3):
        assert _verify(client, checker, key.secret, "198.51.100.1")["code"] == "IP_NOT_ALLOWED"
    answers = [_verify(client, checker, key.secret, "203.0.113.1")["code"] for _ in range(3)]
    assert answers == ["VALID", "VALID", "RATE_LIMITED"]


@pytest.mark.parametrize("ip", ["not an ip", "203.0.113.0/24", 42, ""])
def test_an_ip_that_is_not_an_address_is_a_bad_request(
    acme: Factory, client: TestClient, ip: object
) -> None:
    key = create_key(acme)
    response = client.post(
        "/realms/acme/api-keys/verify",
        json={"key": key.secret, "ip": ip},
        headers={"authorization": verifier(acme).basic},
    )
    assert (response.status_code, response.json()["error"]) == (400, "invalid_request")


def test_the_gateway_check_uses_the_address_it_sees(
    acme: Factory, office: TestClient, elsewhere: TestClient
) -> None:
    key = create_key(acme, allowed_ips=OFFICE)
    headers = {"x-api-key": key.secret}
    assert office.get("/realms/acme/gateway/check", headers=headers).status_code == 200
    refused = elsewhere.get("/realms/acme/gateway/check", headers=headers)
    assert refused.status_code == 401
    assert 'error="invalid_token"' in refused.headers["www-authenticate"]
