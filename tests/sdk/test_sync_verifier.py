"""``SyncGatepassVerifier`` against a live Gatepass: the decisions of ``GatepassVerifier``
(shared code), made with blocking requests, by several threads at once (WSGI servers)."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from gatepass_sdk.errors import InvalidRequestError, InvalidTokenError, UnavailableError
from gatepass_sdk.sync_verifier import SyncGatepassVerifier
from gatepass_sdk.wsgi import authenticate
from tests.e2e.conftest import free_port
from tests.sdk.realm import Counter, Realm
from tests.sdk.test_access_tokens import claims_of, forged, token_signed_by

pytestmark = pytest.mark.e2e

THREADS = 8


def test_a_token_gives_its_client_and_an_expired_one_is_refused(realm: Realm) -> None:
    client = realm.client(groups=("emea",))
    token = realm.token(client, scope="nql")
    with realm.sync_verifier() as verifier:
        caller = verifier.verify_token(token)
    assert (caller.subject, caller.kind, caller.permissions, caller.groups) == (
        client.client_id,
        "oauth_client",
        {"nql"},
        ("emea",),
    )
    exp = claims_of(token)["exp"]
    with (
        realm.sync_verifier(leeway=0, clock=lambda: exp) as verifier,
        pytest.raises(InvalidTokenError, match="exp"),
    ):
        verifier.verify_token(token)


def test_an_unknown_kid_makes_it_fetch_the_keys_again_once(realm: Realm) -> None:
    client = realm.client()
    before = realm.token(client)
    counter = Counter()
    options = {"jwks_refetch_interval": 0}
    with counter.sync_client() as http, realm.sync_verifier(http=http, **options) as verifier:
        verifier.verify_token(before)
        realm.rotate_signing_key()
        after = token_signed_by(realm, client, realm.rotate_signing_key())
        assert verifier.verify_token(after).subject == client.client_id
        assert verifier.verify_token(before).subject == client.client_id
    assert counter.count("/certs") == 2


def test_made_up_key_ids_from_many_threads_cost_one_fetch_per_interval(realm: Realm) -> None:
    token = realm.token(realm.client())
    counter = Counter()
    options = {"jwks_refetch_interval": 3600}
    with counter.sync_client() as http, realm.sync_verifier(http=http, **options) as verifier:

        def made_up(number: int) -> str:
            try:
                verifier.verify_token(forged(token, kid=f"made-up-{number}"))
            except InvalidTokenError as error:
                return error.reason
            return "accepted"

        with ThreadPoolExecutor(THREADS) as pool:
            reasons = set(pool.map(made_up, range(40)))
        verifier.verify_token(token)
    assert reasons == {"unknown kid"}
    assert counter.count("/certs") == 1  # the real kid came with that one fetch


def test_threads_share_one_jwks_fetch_and_one_key_answer(realm: Realm) -> None:
    client, key = realm.client(), realm.api_key()
    token = realm.token(client)
    counter = Counter()
    with counter.sync_client() as http, realm.sync_verifier(http=http, key_ttl=3600) as verifier:
        verifier.verify_api_key(key.key)  # the first answer, then cached for the others
        with ThreadPoolExecutor(THREADS) as pool:
            tokens = list(pool.map(lambda _: verifier.verify_token(token).subject, range(64)))
            keys = list(pool.map(lambda _: verifier.verify_api_key(key.key).subject, range(64)))
    assert set(tokens) == {client.client_id}
    assert set(keys) == {key.key_id}
    assert (counter.count("/certs"), counter.count("/api-keys/verify")) == (1, 1)


def test_a_key_answer_is_reused_and_a_revocation_waits_for_the_ttl(realm: Realm) -> None:
    made = realm.api_key()
    with realm.sync_verifier(key_ttl=3600) as cached, realm.sync_verifier(key_ttl=0) as fresh:
        cached.verify_api_key(made.key)
        fresh.verify_api_key(made.key)
        realm.revoke_key(made.key_id)
        assert refusal_of(fresh, made.key) == "REVOKED"  # Gatepass learns of it shortly
        assert cached.verify_api_key(made.key).subject == made.key_id


def refusal_of(verifier: SyncGatepassVerifier, key: str, *, within: float = 10.0) -> str:
    """The reason a key is refused for, once it is (polled; failing after ``within`` s)."""
    deadline = time.monotonic() + within
    while True:
        try:
            verifier.verify_api_key(key)
        except InvalidTokenError as error:
            return error.reason
        assert time.monotonic() < deadline, f"still accepted after {within} s"
        time.sleep(0.05)


def test_the_callers_address_is_sent_and_its_answer_never_reused(realm: Realm) -> None:
    made = realm.api_key(allowed_ips=("10.0.0.0/8",))
    with realm.sync_verifier(key_ttl=3600) as verifier:
        assert verifier.verify_api_key(made.key, ip="10.0.0.1").subject == made.key_id
        with pytest.raises(InvalidTokenError, match="IP_NOT_ALLOWED"):
            verifier.verify_api_key(made.key, ip="192.0.2.1")
        with pytest.raises(InvalidTokenError, match="IP_NOT_ALLOWED"):
            verifier.verify_api_key(made.key)
        assert verifier.verify_api_key(made.key, ip="10.0.0.1").subject == made.key_id


def test_an_unreachable_gatepass_is_unavailable_not_invalid(realm: Realm) -> None:
    nowhere = f"http://127.0.0.1:{free_port()}"
    token, key = realm.token(realm.client()), realm.api_key()
    options = {"jwks_url": f"{nowhere}/certs", "verify_url": f"{nowhere}/verify"}
    with realm.sync_verifier(**options) as verifier:
        with pytest.raises(UnavailableError):
            verifier.verify_token(token)
        with pytest.raises(UnavailableError):
            verifier.verify_api_key(key.key)


def test_a_wsgi_request_with_two_credentials_is_an_invalid_request(realm: Realm) -> None:
    key = realm.api_key()
    environ = {"HTTP_X_API_KEY": key.key, "QUERY_STRING": f"a=1&apikey={key.key}"}
    with realm.sync_verifier() as verifier, pytest.raises(InvalidRequestError):
        authenticate(verifier, environ)
    assert environ["QUERY_STRING"] == "a=1"


def test_a_wsgi_request_keeps_no_key_in_its_raw_uri(realm: Realm) -> None:
    key = realm.api_key()
    uri = f"/x?apikey={key.key}&b=2"
    environ = {"QUERY_STRING": f"apikey={key.key}&b=2", "RAW_URI": uri, "REQUEST_URI": uri}
    with realm.sync_verifier() as verifier:
        caller = authenticate(verifier, {**environ, "REMOTE_ADDR": "127.0.0.1"})
        assert caller is not None
        assert caller.subject == key.key_id
        authenticate(verifier, environ)
    assert environ == {
        "QUERY_STRING": "b=2",
        "RAW_URI": "/x?apikey=***&b=2",
        "REQUEST_URI": "/x?apikey=***&b=2",
    }
