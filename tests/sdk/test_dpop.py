"""DPoP-bound tokens from a real Gatepass (RFC 9449), checked by the SDK: good only as
``Authorization: DPoP`` with a proof of the bound key for this request, method, URL and token,
used once; through the verifier, the ASGI middleware and Flask (WSGI)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from gatepass_sdk.dpop import Presentation, token_hash
from gatepass_sdk.errors import InvalidDPoPProofError, InvalidTokenError
from tests.keypairs import KeyPair, dpop_proof, key_pair
from tests.sdk.protected import api, challenge
from tests.sdk.realm import Realm

pytestmark = [pytest.mark.e2e, pytest.mark.anyio]

URL = "http://api/me"
KEY = key_pair("ES256")


def bound_token(realm: Realm, pair: KeyPair = KEY) -> str:
    client = realm.client()
    url = realm.server.token_url(realm.slug)
    response = httpx.post(
        url,
        data={"grant_type": "client_credentials"},
        headers={"DPoP": dpop_proof(pair, "POST", url)},
        auth=(client.client_id, client.secret),
        timeout=10,
    )
    assert response.json()["token_type"] == "DPoP", response.text
    return str(response.json()["access_token"])


def proof(
    token: str, pair: KeyPair = KEY, method: str = "GET", url: str = URL, **claims: Any
) -> str:
    return dpop_proof(pair, method, url, **{"ath": token_hash(token), **claims})


async def test_a_bound_token_with_its_proof_is_accepted_once(realm: Realm) -> None:
    token = bound_token(realm)
    sent = Presentation((proof(token),), "GET", URL)

    async with realm.verifier() as verifier:
        caller = await verifier.verify_token(token, sent)
        assert caller.kind == "oauth_client"
        with pytest.raises(InvalidDPoPProofError) as replayed:
            await verifier.verify_token(token, sent)
    assert replayed.value.reason == "replayed"


BAD: dict[str, Any] = {
    "htm": lambda t: proof(t, method="POST"),
    "htu": lambda t: proof(t, url="http://api/other"),
    "ath": lambda t: proof(t, ath=token_hash("another token")),
    "jkt": lambda t: proof(t, pair=key_pair("ES256")),
    "iat": lambda t: proof(t, iat=1),
    "signature": lambda t: proof(
        t, headers={"jwk": {k: v for k, v in key_pair("ES256").public_jwk().items() if k != "kid"}}
    ),
    "jwk": lambda t: proof(t, headers={"jwk": KEY.private_jwk()}),
}


@pytest.mark.parametrize("reason", list(BAD))
async def test_a_bad_proof_is_refused(realm: Realm, reason: str) -> None:
    token = bound_token(realm)
    async with realm.verifier() as verifier:
        with pytest.raises(InvalidDPoPProofError) as refused:
            await verifier.verify_token(token, Presentation((BAD[reason](token),), "GET", URL))
    assert refused.value.reason == reason


async def test_no_proof_or_two_proofs_are_refused(realm: Realm) -> None:
    token = bound_token(realm)
    async with realm.verifier() as verifier:
        for proofs in ((), (proof(token), proof(token))):
            with pytest.raises(InvalidDPoPProofError):
                await verifier.verify_token(token, Presentation(proofs, "GET", URL))


async def test_an_unbound_token_sent_as_dpop_is_refused(realm: Realm) -> None:
    token = realm.token(realm.client())
    async with realm.verifier() as verifier:
        with pytest.raises(InvalidDPoPProofError) as refused:
            await verifier.verify_token(token, Presentation((proof(token),), "GET", URL))
    assert refused.value.reason == "not bound"


async def test_the_asgi_middleware_checks_the_proof_against_the_request(realm: Realm) -> None:
    token = bound_token(realm)
    async with api(realm.verifier()) as http:
        good = await http.get(
            "/me", headers={"authorization": f"DPoP {token}", "dpop": proof(token)}
        )
        assert good.status_code == 200, good.text
        as_bearer = await http.get("/me", headers={"authorization": f"Bearer {token}"})
        wrong_url = await http.get(
            "/me",
            headers={"authorization": f"DPoP {token}", "dpop": proof(token, url="http://api/nql")},
        )

    assert as_bearer.status_code == 401
    assert wrong_url.status_code == 401
    assert challenge(wrong_url).startswith("DPoP ")
    assert 'error="invalid_dpop_proof"' in challenge(wrong_url)


def test_flask_checks_the_proof_against_the_request(realm: Realm) -> None:
    from tests.sdk.test_flask import close, protected_app  # noqa: PLC0415

    app = protected_app(realm)
    token = bound_token(realm)
    url = "http://localhost/me"
    try:
        with app.test_client() as http:
            good = http.get(
                "/me", headers={"Authorization": f"DPoP {token}", "DPoP": proof(token, url=url)}
            )
            wrong_url = http.get(
                "/me", headers={"Authorization": f"DPoP {token}", "DPoP": proof(token)}
            )
    finally:
        close(app)
    assert good.status_code == 200, good.text
    assert wrong_url.status_code == 401
    assert "invalid_dpop_proof" in wrong_url.headers["WWW-Authenticate"]


def test_a_bearer_presentation_is_refused_by_the_sync_verifier(realm: Realm) -> None:
    token = bound_token(realm)
    with realm.sync_verifier() as verifier, pytest.raises(InvalidTokenError) as refused:
        verifier.verify_token(token)
    assert refused.value.reason == "cnf"


def test_one_proof_sent_by_many_threads_at_once_is_accepted_once(realm: Realm) -> None:
    """WSGI servers share one verifier between threads: a captured proof replayed in
    parallel must still be accepted once."""
    token = bound_token(realm)
    sent = Presentation((proof(token),), "GET", URL)
    start = threading.Barrier(8)

    def attempt(verifier: Any) -> bool:
        start.wait()
        try:
            verifier.verify_token(token, sent)
        except InvalidDPoPProofError:
            return False
        return True

    with realm.sync_verifier() as verifier, ThreadPoolExecutor(8) as pool:
        verifier.verify_token(realm.token(realm.client()))  # the keys fetched beforehand
        accepted = list(pool.map(lambda _: attempt(verifier), range(8)))
    assert accepted.count(True) == 1
