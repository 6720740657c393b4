"""Server nonces in DPoP proofs (RFC 9449 §8), required per tenant: a proof without the current
nonce is answered ``use_dpop_nonce`` with one in ``DPoP-Nonce``, a proof carrying it gets a
token, and a made-up, stale or other tenant's nonce is refused with a fresh one. A tenant that
does not require nonces is unchanged."""

from __future__ import annotations

import time

import httpx2
import pytest
from pydantic import SecretStr
from starlette.testclient import TestClient

from gatepass.credential_secrets import derive_key
from gatepass.oauth.dpop import NONCE_PERIOD, Nonces, Proof, UseDPoPNonceError
from gatepass.settings import Settings
from tests.api.support import api, bearer_caller
from tests.factories import Credential, Factory
from tests.http.support import BASE, assert_oauth_error, tenant_session, token_path
from tests.keypairs import dpop_proof, key_pair

TOKEN_URL = BASE + token_path()
PAIR = key_pair("ES256")


def require_nonces(factory: Factory, tenant: str = "acme") -> None:
    with tenant_session(factory, tenant) as (_, found):
        found.require_dpop_nonce = True


def ask(http: TestClient, cred: Credential, proof: str, tenant: str = "acme") -> httpx2.Response:
    return http.post(
        token_path(tenant),
        data={"grant_type": "client_credentials"},
        headers={"authorization": cred.basic, "dpop": proof},
    )


def test_a_proof_without_the_nonce_gets_one_and_a_retry_with_it_a_token(
    acme: Factory, client: TestClient
) -> None:
    require_nonces(acme)
    cred = acme.client()

    first = ask(client, cred, dpop_proof(PAIR, "POST", TOKEN_URL))

    assert_oauth_error(first, 400, "use_dpop_nonce")
    nonce = first.headers["dpop-nonce"]
    assert nonce
    second = ask(client, cred, dpop_proof(PAIR, "POST", TOKEN_URL, nonce=nonce))
    assert second.status_code == 200, second.text
    assert second.json()["token_type"] == "DPoP"
    again = ask(client, cred, dpop_proof(PAIR, "POST", TOKEN_URL, nonce=nonce))
    assert again.status_code == 200, again.text  # the nonce serves its window, not one proof


@pytest.mark.parametrize("nonce", ["made-up", "", "0.AAAA", "x" * 101])
def test_a_wrong_nonce_is_refused_with_the_right_one(
    acme: Factory, client: TestClient, nonce: str
) -> None:
    require_nonces(acme)
    cred = acme.client()

    response = ask(client, cred, dpop_proof(PAIR, "POST", TOKEN_URL, nonce=nonce))

    assert response.status_code == 400, response.text
    assert response.json()["error"] in {"use_dpop_nonce", "invalid_dpop_proof"}
    assert "access_token" not in response.text


def test_another_tenant_s_nonce_is_refused(acme: Factory, client: TestClient) -> None:
    acme.tenant("beta")
    require_nonces(acme)
    require_nonces(acme, "beta")
    beta_url = BASE + token_path("beta")
    beta_answer = ask(client, acme.client("beta"), dpop_proof(PAIR, "POST", beta_url), "beta")
    beta_nonce = beta_answer.headers["dpop-nonce"]

    response = ask(client, acme.client(), dpop_proof(PAIR, "POST", TOKEN_URL, nonce=beta_nonce))

    assert_oauth_error(response, 400, "use_dpop_nonce")
    assert response.headers["dpop-nonce"] != beta_nonce


def test_a_tenant_without_the_setting_ignores_nonces(acme: Factory, client: TestClient) -> None:
    cred = acme.client()

    plain = ask(client, cred, dpop_proof(PAIR, "POST", TOKEN_URL))
    with_one = ask(client, cred, dpop_proof(PAIR, "POST", TOKEN_URL, nonce="anything"))

    assert (plain.status_code, with_one.status_code) == (200, 200)
    assert "dpop-nonce" not in plain.headers


def test_an_administrator_turns_nonces_on_through_the_api(
    acme: Factory, client: TestClient
) -> None:
    admin = bearer_caller(client, acme, "acme")
    cred = acme.client()
    assert ask(client, cred, dpop_proof(PAIR, "POST", TOKEN_URL)).status_code == 200

    changed = admin.request(client, "PATCH", api("acme", ""), json={"require_dpop_nonce": True})
    assert changed.status_code == 200, changed.text
    assert changed.json()["require_dpop_nonce"] is True

    deadline = time.monotonic() + 10
    response = ask(client, cred, dpop_proof(PAIR, "POST", TOKEN_URL))
    while response.status_code == 200:  # the change reaches the server at its next poll
        assert time.monotonic() < deadline, "nonces are still not required"
        time.sleep(0.05)
        response = ask(client, cred, dpop_proof(PAIR, "POST", TOKEN_URL))
    assert_oauth_error(response, 400, "use_dpop_nonce")


# --- the nonces themselves --------------------------------------------------------------------


def nonces(settings: Settings) -> Nonces:
    return Nonces(derive_key(settings.master_key(), b"gatepass dpop nonce v1"))


def proof_with(nonce: str | None) -> Proof:
    return Proof(jkt="k", jti="j", iat=0, nonce=nonce)


def test_a_nonce_works_in_its_window_and_the_next_only(settings: Settings) -> None:
    maker, start = nonces(settings), 1_000 * NONCE_PERIOD
    nonce = maker.current(7, start)

    maker.check(proof_with(nonce), 7, start + NONCE_PERIOD - 1)
    maker.check(proof_with(nonce), 7, start + 2 * NONCE_PERIOD - 1)
    with pytest.raises(UseDPoPNonceError) as refused:
        maker.check(proof_with(nonce), 7, start + 2 * NONCE_PERIOD)
    fresh = dict(refused.value.extra_headers)[b"dpop-nonce"].decode()
    assert fresh == maker.current(7, start + 2 * NONCE_PERIOD) != nonce
    with pytest.raises(UseDPoPNonceError):
        maker.check(proof_with(nonce), 8, start)  # another tenant
    with pytest.raises(UseDPoPNonceError):
        maker.check(proof_with(None), 7, start)


def test_nonces_depend_on_the_server_secret(settings: Settings) -> None:
    other = settings.model_copy(
        update={"secret_key": SecretStr("another secret key of enough length!!")}
    )
    assert nonces(settings).current(1, 0) != nonces(other).current(1, 0)
    assert nonces(settings).current(1, 0) == nonces(settings).current(1, 0)
