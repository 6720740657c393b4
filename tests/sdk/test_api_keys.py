"""API keys from a real Gatepass, checked through its verify endpoint by the SDK.

One test per way of sending a key and per verify code; the cache's positive and negative
lifetimes; and the key never reaching the application or the logs.
"""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest

from gatepass.apikeys.service import RateLimit
from gatepass.db import utcnow
from gatepass_sdk.errors import InvalidTokenError, RateLimitedError, UnavailableError
from tests.sdk.protected import REALM, api, challenge
from tests.sdk.realm import Counter, Realm, altered, eventually
from tests.windows import wait_for_a_fresh_window

pytestmark = [pytest.mark.e2e, pytest.mark.anyio]

UNCACHED = {"key_ttl": 0, "negative_ttl": 0}


def sent_as(where: str, key: str) -> dict[str, object]:
    if where == "query":
        return {"params": {"apikey": key}}
    return {"headers": {where: key}}


@pytest.mark.parametrize("where", ["Authorization-PSK", "X-API-Key", "query"])
async def test_a_key_is_accepted_in_each_of_its_three_places(realm: Realm, where: str) -> None:
    made = realm.api_key(scopes=("nql", "workflows"), groups=("americas",))
    async with api(realm.verifier()) as http:
        response = await http.get("/me", **sent_as(where, made.key))  # type: ignore[arg-type]
    assert response.status_code == 200, response.text
    assert response.json() == {
        "subject": made.key_id,
        "kind": "api_key",
        "permissions": ["nql", "workflows"],
        "groups": ["americas"],
        "name": "integration key",
        "owner": None,
    }


async def test_the_application_never_sees_the_query_key(realm: Realm) -> None:
    made = realm.api_key()
    async with api(realm.verifier()) as http:
        response = await http.get(f"/open?page=2&apikey={made.key}&sort=name")
    assert response.json() == {"query": "page=2&sort=name", "subject": made.key_id}


async def test_a_personal_key_names_its_owner(realm: Realm) -> None:
    owner = realm.user("dev@example.com")
    made = realm.api_key(owner=owner)
    async with realm.verifier() as verifier:
        caller = await verifier.verify_api_key(made.key)
    assert (caller.owner, caller.subject) == ("dev@example.com", made.key_id)


async def test_two_credentials_in_one_request_are_an_invalid_request(realm: Realm) -> None:
    made = realm.api_key()
    async with api(realm.verifier()) as http:
        response = await http.get(f"/me?apikey={made.key}", headers={"X-API-Key": made.key})
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


async def reason_for(realm: Realm, key: str) -> str:
    async with realm.verifier(**UNCACHED) as verifier:
        with pytest.raises(InvalidTokenError) as refused:
            await verifier.verify_api_key(key)
    return refused.value.reason


async def test_not_found(realm: Realm) -> None:
    assert await reason_for(realm, "gpk_" + "A" * 38) == "NOT_FOUND"


async def test_revoked(realm: Realm) -> None:
    made = realm.api_key()
    realm.revoke_key(made.key_id)
    assert await reason_for(realm, made.key) == "REVOKED"


async def test_expired(realm: Realm) -> None:
    made = realm.api_key(expires_at=utcnow() + timedelta(seconds=2))
    async with realm.verifier(**UNCACHED) as verifier:

        async def refused() -> str:
            try:
                await verifier.verify_api_key(made.key)
            except InvalidTokenError as error:
                return error.reason
            return ""

        assert await eventually(refused) == "EXPIRED"


async def test_disabled(realm: Realm) -> None:
    made = realm.api_key(owner=realm.user("leaver@example.com"))
    realm.disable_user("leaver@example.com")
    assert await reason_for(realm, made.key) == "DISABLED"


async def test_malformed_keys_never_reach_gatepass(realm: Realm) -> None:
    counter = Counter()
    async with counter.client() as http, realm.verifier(http=http) as verifier:
        for key in ("", "x" * 257, "gpk_\u00e9t\u00e9", "gpk_\n"):
            with pytest.raises(InvalidTokenError, match="MALFORMED"):
                await verifier.verify_api_key(key)
    assert counter.paths == []


@pytest.mark.parametrize("code", ["NOT_FOUND", "REVOKED"])
async def test_every_refusal_is_invalid_token_over_http(realm: Realm, code: str) -> None:
    made = realm.api_key()
    if code == "REVOKED":
        realm.revoke_key(made.key_id)
    key = made.key if code == "REVOKED" else altered(made.key)
    async with api(realm.verifier()) as http:
        response = await http.get("/open", headers={"Authorization-PSK": key})
    assert response.status_code == 401
    assert challenge(response) == f'Bearer realm="{REALM}", error="invalid_token"'
    assert response.json()["error"] == "invalid_token"
    assert code not in response.text  # the reason is for the API's logs, not for the caller
    assert response.headers["cache-control"] == "no-store"


async def test_a_key_over_its_rate_limit_is_429_with_retry_after(realm: Realm) -> None:
    made = realm.api_key(rate_limit=RateLimit(2, 86400))
    wait_for_a_fresh_window(86400)
    counter = Counter()
    async with counter.client() as client, api(realm.verifier(http=client)) as http:
        first = await http.get("/me", headers={"X-API-Key": made.key})
        second = await http.get("/me", headers={"X-API-Key": made.key})
        third = await http.get("/me", headers={"X-API-Key": made.key})
        fourth = await http.get("/me", headers={"X-API-Key": made.key})
    assert [r.status_code for r in (first, second, third, fourth)] == [200, 200, 429, 429]
    assert 1 <= int(third.headers["retry-after"]) <= 86400
    assert third.json()["error"] == "rate_limited"
    # Each use within the limit was counted by Gatepass; the refusal is then cached briefly.
    assert counter.count("/api-keys/verify") == 3


async def test_a_valid_answer_is_reused_for_the_positive_ttl(realm: Realm) -> None:
    made = realm.api_key()
    counter = Counter()
    async with counter.client() as http, realm.verifier(http=http, key_ttl=3600) as verifier:
        for _ in range(5):
            await verifier.verify_api_key(made.key)
        realm.revoke_key(made.key_id)
        await verifier.verify_api_key(made.key)  # still cached: revocation waits for the TTL
    assert counter.count("/api-keys/verify") == 1


async def test_a_revoked_key_stops_working_once_the_positive_ttl_ran_out(realm: Realm) -> None:
    made = realm.api_key()
    async with realm.verifier(key_ttl=0.3) as verifier:
        await verifier.verify_api_key(made.key)
        realm.revoke_key(made.key_id)

        async def refused() -> bool:
            try:
                await verifier.verify_api_key(made.key)
            except InvalidTokenError as error:
                return error.reason == "REVOKED"
            return False

        assert await eventually(refused)


async def test_a_refusal_is_reused_for_the_negative_ttl_only(realm: Realm) -> None:
    unknown = "gpk_" + "B" * 38
    counter = Counter()
    async with counter.client() as http:
        async with realm.verifier(http=http, negative_ttl=3600) as verifier:
            for _ in range(5):
                with pytest.raises(InvalidTokenError):
                    await verifier.verify_api_key(unknown)
        assert counter.count("/api-keys/verify") == 1

        async with realm.verifier(http=http, negative_ttl=0.2) as verifier:

            async def asked_again() -> bool:
                with pytest.raises(InvalidTokenError):
                    await verifier.verify_api_key(unknown)
                return counter.count("/api-keys/verify") >= 3

            assert await eventually(asked_again)


async def test_the_cache_holds_at_most_cache_size_keys(realm: Realm) -> None:
    keys = [realm.api_key().key for _ in range(3)]
    counter = Counter()
    async with counter.client() as http, realm.verifier(http=http, cache_size=2) as verifier:
        for key in [*keys, keys[2], keys[1], keys[0]]:
            await verifier.verify_api_key(key)
    assert counter.count("/api-keys/verify") == 4  # keys[0] was evicted


async def test_a_wrong_verify_client_is_unavailable_and_not_cached(realm: Realm) -> None:
    made = realm.api_key()
    wrong = (realm.verify_client.client_id, altered(realm.verify_client.secret))
    async with api(realm.verifier(verify_client=wrong)) as http:
        response = await http.get("/me", headers={"X-API-Key": made.key})
    assert response.status_code == 503
    assert response.json()["error"] == "temporarily_unavailable"
    assert "www-authenticate" not in response.headers
    async with realm.verifier(verify_client=wrong) as verifier:
        for _ in range(2):
            with pytest.raises(UnavailableError):
                await verifier.verify_api_key(made.key)
    async with realm.verifier() as verifier:
        assert (await verifier.verify_api_key(made.key)).subject == made.key_id


async def test_a_client_without_api_keys_verify_cannot_verify(realm: Realm) -> None:
    made = realm.api_key()
    plain = realm.client(scopes=("nql",))
    async with realm.verifier(verify_client=(plain.client_id, plain.secret)) as verifier:
        with pytest.raises(UnavailableError):
            await verifier.verify_api_key(made.key)


async def test_without_a_verify_client_keys_are_refused(realm: Realm) -> None:
    made = realm.api_key()
    async with realm.verifier(verify_client=None) as verifier:
        with pytest.raises(InvalidTokenError):
            await verifier.verify_api_key(made.key)


async def test_rate_limited_refusals_carry_the_reset(realm: Realm) -> None:
    made = realm.api_key(rate_limit=RateLimit(1, 86400))
    wait_for_a_fresh_window(86400)
    async with realm.verifier() as verifier:
        await verifier.verify_api_key(made.key)
        with pytest.raises(RateLimitedError) as limited:
            await verifier.verify_api_key(made.key)
    assert 1 <= limited.value.retry_after <= 86400


async def test_the_query_key_never_appears_in_the_logs(
    realm: Realm, caplog: pytest.LogCaptureFixture
) -> None:
    good, revoked = realm.api_key(), realm.api_key()
    realm.revoke_key(revoked.key_id)
    unknown = "gpk_" + "C" * 38
    caplog.set_level(logging.DEBUG)
    async with api(realm.verifier()) as http:
        for key in (good.key, revoked.key, unknown, good.key):
            await http.get(f"/nql?apikey={key}")
            await http.get("/nql", params={"apikey": key, "other": "1"})
    # The test's own client logs the URLs it calls, as any caller's may: that is not the API's.
    ours = "\n".join(
        r.getMessage() for r in caplog.records if "HTTP Request: GET http://api/" not in r.message
    )
    assert "verify" in ours, "the API logged nothing: the check would prove nothing"
    assert "REVOKED" in ours  # the reason is logged, for the API's operators
    for key in (good.key, revoked.key, unknown):
        assert key[4:] not in ours


async def test_a_key_with_an_ip_allowlist_is_checked_for_each_caller_address(realm: Realm) -> None:
    key = realm.api_key(allowed_ips=("203.0.113.0/24",))
    async with realm.verifier() as verifier:
        caller = await verifier.verify_api_key(key.key, ip="203.0.113.9")
        assert caller.subject == key.key_id
        # The VALID answer above is not reused for another address, nor a refusal for this one.
        with pytest.raises(InvalidTokenError) as refused:
            await verifier.verify_api_key(key.key, ip="198.51.100.1")
        assert refused.value.reason == "IP_NOT_ALLOWED"
        with pytest.raises(InvalidTokenError):
            await verifier.verify_api_key(key.key)  # no address known: not on the list
        assert (await verifier.verify_api_key(key.key, ip="203.0.113.77")).subject == key.key_id
