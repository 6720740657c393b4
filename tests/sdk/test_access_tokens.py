"""JWT access tokens from a real Gatepass, verified locally by ``GatepassVerifier`` (RFC 9068 §4).

Each refusal is an ``InvalidTokenError`` whose internal ``reason`` names the failed check.
"""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from gatepass_sdk.errors import InvalidTokenError, UnavailableError
from tests.e2e.conftest import Server, free_port
from tests.factories import Credential, Factory
from tests.keypairs import dpop_proof, key_pair
from tests.sdk.realm import Counter, Realm

pytestmark = [pytest.mark.e2e, pytest.mark.anyio]


def claims_of(token: str) -> dict[str, Any]:
    return jwt.decode(token, options={"verify_signature": False})


def forged(token: str, *, kid: str | None = None, typ: str = "at+jwt", **changes: Any) -> str:
    """The token's claims (with ``changes``) signed by a key Gatepass never published."""
    header = jwt.get_unverified_header(token)
    key = ec.generate_private_key(ec.SECP256R1())
    headers = {"kid": kid or header["kid"], "typ": typ}
    return jwt.encode({**claims_of(token), **changes}, key, algorithm="ES256", headers=headers)


def segment(document: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(document).encode()).rstrip(b"=").decode()


def nested(depth: int) -> str:
    """A header segment of JSON arrays nested ``depth`` deep."""
    raw = ("[" * depth + "]" * depth).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


async def refused(realm: Realm, token: str, **options: Any) -> str:
    async with realm.verifier(**options) as verifier:
        with pytest.raises(InvalidTokenError) as caught:
            await verifier.verify_token(token)
    return caught.value.reason


async def test_a_token_of_the_tenant_gives_its_client_as_caller(realm: Realm) -> None:
    client = realm.client(scopes=("nql", "workflows"), groups=("emea",))
    token = realm.token(client)

    async with realm.verifier() as verifier:
        caller = await verifier.verify_token(token)

    assert caller.subject == client.client_id
    assert caller.kind == "oauth_client"
    assert caller.permissions == {"nql", "workflows"}
    assert caller.groups == ("emea",)
    assert caller.expires_at == claims_of(token)["exp"]
    assert caller.claims["jti"] == claims_of(token)["jti"]


@pytest.mark.parametrize("alg", ["RS256", "EdDSA"])
async def test_tokens_of_the_other_signing_algorithms_verify_too(
    gatepass: Server, gatepass_factory: Factory, alg: str
) -> None:
    realm = Realm.create(gatepass, gatepass_factory, signing_alg=alg)
    client = realm.client()
    token = realm.token(client)
    assert jwt.get_unverified_header(token)["alg"] == alg
    async with realm.verifier() as verifier:
        assert (await verifier.verify_token(token)).subject == client.client_id
    assert await refused(realm, forged(token)) in {"alg", "signature"}


async def test_a_token_with_fewer_scopes_carries_only_those(realm: Realm) -> None:
    token = realm.token(realm.client(), scope="nql")
    async with realm.verifier() as verifier:
        assert (await verifier.verify_token(token)).permissions == {"nql"}


async def test_an_expired_token_is_refused(realm: Realm) -> None:
    token = realm.token(realm.client())
    exp = claims_of(token)["exp"]
    async with realm.verifier(leeway=5, clock=lambda: exp + 4) as verifier:
        await verifier.verify_token(token)  # within the leeway
    assert await refused(realm, token, leeway=5, clock=lambda: exp + 5) == "exp"


async def test_a_token_not_yet_valid_is_refused(realm: Realm) -> None:
    token = realm.token(realm.client())
    nbf = claims_of(token)["nbf"]
    assert await refused(realm, token, leeway=0, clock=lambda: nbf - 60) == "nbf"


async def test_a_token_for_another_audience_is_refused(realm: Realm) -> None:
    token = realm.token(realm.client())
    assert await refused(realm, token, audience="api://another-api") == "aud"
    async with realm.verifier(audience=["api://another-api", realm.audience]) as verifier:
        await verifier.verify_token(token)


async def test_a_token_from_another_issuer_is_refused(realm: Realm) -> None:
    token = realm.token(realm.client())
    jwks_url = realm.server.certs_url(realm.slug)
    reason = await refused(realm, token, issuer=realm.issuer + "-x", jwks_url=jwks_url)
    assert reason == "iss"


async def test_a_token_of_another_tenant_is_refused(realm: Realm, other_realm: Realm) -> None:
    token = other_realm.token(other_realm.client())
    assert await refused(realm, token) == "unknown kid"


def token_signed_by(realm: Realm, client: Credential, kid: str) -> str:
    """A fresh token, once Gatepass (which polls its change feed) signs with ``kid``."""
    deadline = time.monotonic() + 10
    token = realm.token(client)
    while jwt.get_unverified_header(token)["kid"] != kid:
        assert time.monotonic() < deadline, f"Gatepass does not sign with {kid} yet"
        token = realm.token(client)
    return token


async def test_a_rotation_needs_no_fetch_the_next_key_was_published(realm: Realm) -> None:
    client = realm.client()
    before = realm.token(client)
    counter = Counter()
    async with counter.client() as http, realm.verifier(http=http) as verifier:
        await verifier.verify_token(before)
        after = token_signed_by(realm, client, realm.rotate_signing_key())

        assert (await verifier.verify_token(after)).subject == client.client_id
        assert (await verifier.verify_token(before)).subject == client.client_id
    assert counter.count("/certs") == 1


async def test_an_unknown_kid_makes_the_sdk_fetch_the_keys_again_once(realm: Realm) -> None:
    client = realm.client()
    before = realm.token(client)
    counter = Counter()
    options = {"jwks_refetch_interval": 0}  # else a fetch less than 1 s ago would hold it back
    async with counter.client() as http, realm.verifier(http=http, **options) as verifier:
        await verifier.verify_token(before)
        realm.rotate_signing_key()  # the key published ahead becomes current...
        unseen = realm.rotate_signing_key()  # ...and then one the SDK never saw
        after = token_signed_by(realm, client, unseen)

        assert (await verifier.verify_token(after)).subject == client.client_id
        assert (await verifier.verify_token(before)).subject == client.client_id
        await verifier.verify_token(after)
    assert counter.count("/certs") == 2


async def test_made_up_key_ids_cost_gatepass_one_fetch_per_interval(realm: Realm) -> None:
    token = realm.token(realm.client())
    counter = Counter()
    options = {"jwks_refetch_interval": 3600}
    async with counter.client() as http, realm.verifier(http=http, **options) as verifier:
        await verifier.verify_token(token)
        for number in range(20):
            with pytest.raises(InvalidTokenError):
                await verifier.verify_token(forged(token, kid=f"made-up-{number}"))
    assert counter.count("/certs") == 1


@pytest.mark.parametrize(
    ("tamper", "reason"),
    [
        (forged, "signature"),
        (lambda t: forged(t, typ="JWT"), "not an access token"),
        (
            lambda t: (
                segment(
                    {"alg": "none", "kid": jwt.get_unverified_header(t)["kid"], "typ": "at+jwt"}
                )
                + "."
                + t.split(".")[1]
                + "."
            ),
            "base64url",
        ),
        (
            lambda t: ".".join(
                [t.split(".")[0], segment({**claims_of(t), "scope": "spark"}), t.split(".")[2]]
            ),
            "signature",
        ),
        (lambda t: t + "!", "base64url"),
        (lambda t: t.replace(".", "..", 1), "malformed"),
        (lambda t: t + "." + t, "malformed"),
        (lambda t: "x" * 9000, "malformed"),
        (lambda t: nested(2000) + "." + t.split(".", 1)[1], "json"),
        (lambda t: t[:-1] + chr(ord(t[-1]) + 1), "base64url"),  # same bytes, other spelling
    ],
    ids=[
        "foreign-key",
        "typ",
        "alg-none",
        "altered-scope",
        "junk",
        "segments",
        "two",
        "long",
        "deep-header",
        "non-canonical",
    ],
)
async def test_a_token_not_as_issued_is_refused(realm: Realm, tamper: Any, reason: str) -> None:
    token = realm.token(realm.client())
    assert await refused(realm, tamper(token)) == reason


async def test_a_symmetric_alg_with_the_published_key_is_refused(realm: Realm) -> None:
    token = realm.token(realm.client())
    header = {**jwt.get_unverified_header(token), "alg": "HS256"}
    signing_input = segment(header) + "." + token.split(".")[1]
    assert await refused(realm, signing_input + "." + token.split(".")[2]) == "alg"


async def test_an_unreachable_gatepass_is_unavailable_not_invalid(realm: Realm) -> None:
    token = realm.token(realm.client())
    nowhere = f"http://127.0.0.1:{free_port()}/certs"
    async with realm.verifier(jwks_url=nowhere) as verifier:
        with pytest.raises(UnavailableError):
            await verifier.verify_token(token)


async def test_a_dpop_bound_token_sent_as_a_bearer_token_is_refused(realm: Realm) -> None:
    """A token bound to a key (RFC 9449 §7.1) proves nothing without a proof of that key."""
    client = realm.client()
    url = realm.server.token_url(realm.slug)
    response = httpx.post(
        url,
        data={"grant_type": "client_credentials"},
        headers={"DPoP": dpop_proof(key_pair("ES256"), "POST", url)},
        auth=(client.client_id, client.secret),
        timeout=10,
    )
    assert response.json()["token_type"] == "DPoP", response.text

    assert await refused(realm, response.json()["access_token"]) == "cnf"
