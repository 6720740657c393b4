"""The SDK's parts that need no server: the answer cache, where credentials are found, the error
answers (one per RFC 6750 code), the log filter, which JWKS entries are taken, and the JWKS
refetch policy (against a stand-in endpoint that can be taken down, which a real one cannot)."""

from __future__ import annotations

import logging
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm

from gatepass_sdk import ApiKeyLogFilter, api_keys
from gatepass_sdk import errors as e
from gatepass_sdk.cache import TtlCache
from gatepass_sdk.credentials import Credential, from_headers, one, split_query
from gatepass_sdk.jwks import KeySet
from gatepass_sdk.verification_keys import from_jwk


class Clock:
    now = 100.0

    def __call__(self) -> float:
        return self.now


def test_an_entry_lives_for_its_ttl() -> None:
    clock = Clock()
    cache: TtlCache[str, int] = TtlCache(10, clock=clock)
    cache.put("a", 1, ttl=5)
    clock.now += 4.9
    assert cache.get("a") == 1
    clock.now += 0.1
    assert cache.get("a") is None
    assert len(cache) == 0


def test_add_keeps_a_live_entry_and_replaces_an_expired_one() -> None:
    clock = Clock()
    cache: TtlCache[str, int] = TtlCache(10, clock=clock)
    assert cache.add("jti", 1, ttl=5)
    assert not cache.add("jti", 2, ttl=5)
    assert cache.get("jti") == 1
    clock.now += 5
    assert cache.add("jti", 3, ttl=5)
    assert cache.get("jti") == 3


def test_a_ttl_of_zero_stores_nothing_and_drops_what_was_there() -> None:
    cache: TtlCache[str, int] = TtlCache(10)
    cache.put("a", 1, ttl=60)
    cache.put("a", 2, ttl=0)
    assert cache.get("a") is None


def test_the_least_recently_used_entry_goes_first() -> None:
    cache: TtlCache[str, int] = TtlCache(2)
    cache.put("a", 1, ttl=60)
    cache.put("b", 2, ttl=60)
    cache.get("a")
    cache.put("c", 3, ttl=60)
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == (1, None, 3)


def test_credentials_in_headers() -> None:
    headers = [
        (b"authorization", b"Bearer abc"),
        (b"authorization-psk", b" k1 "),
        (b"x-api-key", b"k2"),
        (b"accept", b"*/*"),
    ]
    assert from_headers(headers) == [
        Credential("bearer", "abc"),
        Credential("api_key", "k1"),
        Credential("api_key", "k2"),
    ]
    assert from_headers([(b"authorization", b"Basic dTpw")]) == []


def test_the_query_key_is_taken_out_and_the_rest_kept_byte_for_byte() -> None:
    found, rest = split_query(b"q=a%20b&apikey=gpk_x%2By&sort=-name")
    assert found == [Credential("api_key", "gpk_x+y")]
    assert rest == b"q=a%20b&sort=-name"
    assert split_query(b"myapikey=1") == ([], b"myapikey=1")
    # A percent-encoded name is the same parameter: found, and kept from the application.
    found, rest = split_query(b"q=%25&%61pikey=gpk_z&a%70ikey=gpk_w")
    assert [c.value for c in found] == ["gpk_z", "gpk_w"]
    assert rest == b"q=%25"


def test_one_credential_at_most() -> None:
    assert one([]) is None
    with pytest.raises(e.InvalidRequestError):
        one([Credential("bearer", "a"), Credential("api_key", "b")])


def test_a_credential_never_shows_in_its_repr() -> None:
    assert "secret" not in repr(Credential("api_key", "secret"))


@pytest.mark.parametrize(
    ("error", "status", "challenge"),
    [
        (e.CredentialsRequiredError(), 401, 'Bearer realm="api"'),
        (e.InvalidTokenError(), 401, 'Bearer realm="api", error="invalid_token"'),
        (e.InvalidRequestError(), 400, 'Bearer realm="api", error="invalid_request"'),
        (
            e.InsufficientScopeError(("nql", "spark")),
            403,
            'Bearer realm="api", error="insufficient_scope", scope="nql spark"',
        ),
        (e.RateLimitedError(retry_after=7), 429, None),
        (e.UnavailableError(), 503, None),
    ],
)
def test_each_error_renders_its_status_and_challenge(
    error: e.AuthError, status: int, challenge: str | None
) -> None:
    rendered_status, headers, body = error.render("api")
    found = dict(headers)
    assert rendered_status == status
    assert found.get(b"www-authenticate", b"").decode() == (challenge or "")
    assert found[b"cache-control"] == b"no-store"
    assert body.startswith(b'{"error":')


def test_retry_after_is_sent_when_rate_limited() -> None:
    assert (b"retry-after", b"7") in e.RateLimitedError(retry_after=7).render("api")[1]


def test_the_log_filter_masks_keys_in_uvicorn_access_lines() -> None:
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", "/nql?x=1&apikey=gpk_secret&y=2", "1.1", 200),
        None,
    )
    assert ApiKeyLogFilter().filter(record)
    assert record.args == ("127.0.0.1:5000", "GET", "/nql?x=1&apikey=***&y=2", "1.1", 200)


def test_the_log_filter_masks_keys_in_messages_and_mapping_args() -> None:
    record = logging.LogRecord(
        "app", logging.INFO, __file__, 1, "GET /a?apikey=gpk_1 %(url)s", None, None
    )
    record.args = {"url": "/b?apikey=gpk_2"}
    ApiKeyLogFilter().filter(record)
    assert record.getMessage() == "GET /a?apikey=*** /b?apikey=***"


def jwk_of(private: Any, **members: str) -> dict[str, Any]:
    jwk: dict[str, Any] = ECAlgorithm.to_jwk(private.public_key(), as_dict=True)
    return {**jwk, "kid": "k1", "alg": "ES256", **members}


P256 = ec.generate_private_key(ec.SECP256R1())


@pytest.mark.parametrize(
    "entry",
    [
        {"kty": "oct", "k": "c2VjcmV0", "kid": "k1", "alg": "HS256"},
        jwk_of(P256, alg="none"),
        jwk_of(P256, alg="ES384"),  # a P-256 key announced for another curve's algorithm
        jwk_of(P256, use="enc"),
        {"kid": "k1", "alg": "ES256"},
        "not a JWK",
    ],
    ids=["symmetric", "none", "wrong-curve", "encryption", "no-key", "string"],
)
def test_only_public_signing_keys_are_taken_from_a_jwks(entry: Any) -> None:
    assert from_jwk(entry) is None


def test_an_ecdsa_key_checks_raw_signatures() -> None:
    key = from_jwk(jwk_of(P256))
    assert key is not None
    signature = ECAlgorithm(ECAlgorithm.SHA256).sign(b"message", P256)
    assert key.verify(b"message", signature)
    assert not key.verify(b"other message", signature)
    assert not key.verify(b"message", signature[:-1])


class FlakyJwks:
    """A JWKS endpoint that can be taken down; counts the fetches it was asked for."""

    def __init__(self) -> None:
        self.up = True
        self.fetches = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.fetches += 1
        if not self.up:
            return httpx.Response(503)
        return httpx.Response(200, json={"keys": [jwk_of(P256)]})


@pytest.mark.anyio
async def test_known_keys_stay_trusted_while_gatepass_is_down() -> None:
    jwks, clock = FlakyJwks(), Clock()
    async with httpx.AsyncClient(transport=httpx.MockTransport(jwks)) as http:
        keys = KeySet("http://gp/certs", http, min_refetch_interval=1, max_age=60, clock=clock)
        assert await keys.get("k1") is not None
        jwks.up, clock.now = False, clock.now + 61  # stale, and Gatepass is down

        assert await keys.get("k1") is not None
        with pytest.raises(e.UnavailableError):
            await keys.get("k2")  # a new key cannot be learnt: not a verdict on the token
        assert jwks.fetches == 2  # the second try waits for the refetch interval
        clock.now += 1
        jwks.up = True
        assert await keys.get("k2") is None  # fetched again: k2 really is unknown
        assert keys.cached("k1") is not None
    assert jwks.fetches == 3


def test_the_callers_address_goes_to_gatepass_only_when_it_is_one() -> None:
    assert api_keys.body("gpk_x", "203.0.113.9") == {"key": "gpk_x", "ip": "203.0.113.9"}
    assert api_keys.body("gpk_x", "2001:db8::1")["ip"] == "2001:db8::1"
    for peer in ("testclient", "", None, "/run/app.sock"):
        assert api_keys.body("gpk_x", peer) == {"key": "gpk_x"}
