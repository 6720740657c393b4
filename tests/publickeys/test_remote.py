"""Key sets fetched from a URL (``publickeys.remote``), from a real HTTP server in the test:
cached, refetched once for an unknown kid and no more often than allowed, kept through an
outage, and every way a URL can misbehave (too big, too slow, a redirect, a private address,
nothing usable) leaves no key to verify with."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from gatepass.destinations import Rules
from gatepass.publickeys import remote
from gatepass.publickeys.remote import RemoteKeySets
from tests.key_server import KeyServer, key_server
from tests.keypairs import key_pair

LOCAL = Rules(allow_http=True, allow_private=True)
ONE = key_pair("ES256", "one")
TWO = key_pair("RS256", "two")


@pytest.fixture
def server() -> Iterator[KeyServer]:
    with key_server() as started:
        yield started


def kids(keys: tuple[object, ...]) -> list[str | None]:
    return [getattr(k, "kid", None) for k in keys]


def test_a_set_is_fetched_once_then_served_from_the_cache(server: KeyServer) -> None:
    server.serve("/jwks", ONE.jwks())
    sets = RemoteKeySets(LOCAL)

    async def twice() -> None:
        assert kids(await sets.keys(server.url("/jwks"), "one")) == ["one"]
        assert kids(await sets.keys(server.url("/jwks"), "one")) == ["one"]

    asyncio.run(twice())
    assert server.hits["/jwks"] == 1


def test_an_unknown_kid_refetches_once_then_waits_the_minimum_interval(server: KeyServer) -> None:
    server.serve("/jwks", ONE.jwks())
    sets = RemoteKeySets(LOCAL, min_refetch=3600)

    async def scenario() -> None:
        await sets.keys(server.url("/jwks"), "one")
        server.serve("/jwks", {"keys": [ONE.public_jwk(), TWO.public_jwk()]})
        for made_up in ("x1", "x2", "x3", "two"):  # a caller sending made-up kids
            await sets.keys(server.url("/jwks"), made_up)

    asyncio.run(scenario())
    assert server.hits["/jwks"] == 1  # the first fetch was within the minimum interval


def test_a_rotated_key_is_found_by_the_refetch(server: KeyServer) -> None:
    server.serve("/jwks", ONE.jwks())
    sets = RemoteKeySets(LOCAL, min_refetch=0)

    async def scenario() -> list[str | None]:
        await sets.keys(server.url("/jwks"), "one")
        server.serve("/jwks", TWO.jwks())
        return kids(await sets.keys(server.url("/jwks"), "two"))

    assert asyncio.run(scenario()) == ["two"]
    assert server.hits["/jwks"] == 2


def test_concurrent_callers_share_one_fetch(server: KeyServer) -> None:
    server.serve("/jwks", ONE.jwks())
    sets = RemoteKeySets(LOCAL)

    async def many() -> list[tuple[object, ...]]:
        return await asyncio.gather(*(sets.keys(server.url("/jwks"), "one") for _ in range(20)))

    assert all(kids(found) == ["one"] for found in asyncio.run(many()))
    assert server.hits["/jwks"] == 1


def test_the_last_good_set_serves_while_the_url_fails(server: KeyServer) -> None:
    server.serve("/jwks", ONE.jwks())
    sets = RemoteKeySets(LOCAL, ttl=0, min_refetch=0)

    async def scenario() -> list[str | None]:
        await sets.keys(server.url("/jwks"), "one")
        server.answer("/jwks", 503)
        return kids(await sets.keys(server.url("/jwks"), "one"))

    assert asyncio.run(scenario()) == ["one"]
    assert server.hits["/jwks"] == 2


@pytest.mark.parametrize(
    "misbehaviour",
    ["not_found", "redirect", "too_big", "not_json", "no_keys_list", "nothing_usable"],
)
def test_a_url_that_misbehaves_gives_no_key(server: KeyServer, misbehaviour: str) -> None:
    server.serve("/good", ONE.jwks())
    if misbehaviour == "redirect":
        server.answer("/jwks", 302, headers=(("Location", server.url("/good")),))
    elif misbehaviour == "too_big":
        padding = "x" * (remote.MAX_BYTES + 1)
        server.serve("/jwks", {"keys": [ONE.public_jwk()], "padding": padding})
    elif misbehaviour == "not_json":
        server.answer("/jwks", 200, b"<html>keys</html>")
    elif misbehaviour == "no_keys_list":
        server.serve("/jwks", {"keys": ONE.public_jwk()})
    elif misbehaviour == "nothing_usable":
        symmetric = {"kty": "oct", "k": "c2VjcmV0", "kid": "one"}
        encryption = {**ONE.public_jwk(), "use": "enc"}
        server.serve("/jwks", {"keys": [symmetric, encryption, ONE.private_jwk()]})
    sets = RemoteKeySets(LOCAL)
    assert asyncio.run(sets.keys(server.url("/jwks"), "one")) == ()
    assert server.hits["/good"] == 0


def test_unusable_keys_are_passed_over_and_usable_ones_kept(server: KeyServer) -> None:
    weak = {"kty": "oct", "k": "c2VjcmV0", "kid": "weak"}
    server.serve("/jwks", {"keys": [weak, {**TWO.public_jwk(), "use": "enc"}, ONE.public_jwk()]})
    assert kids(asyncio.run(RemoteKeySets(LOCAL).keys(server.url("/jwks")))) == ["one"]


def test_a_trickling_server_is_given_up_at_the_deadline(server: KeyServer) -> None:
    server.answer("/jwks", 200, b'{"keys": []}' * 10, trickle=0.2)
    sets = RemoteKeySets(LOCAL, deadline=0.5)
    assert asyncio.run(sets.keys(server.url("/jwks"))) == ()


def test_a_private_address_is_never_contacted_under_the_default_rules(server: KeyServer) -> None:
    server.serve("/jwks", ONE.jwks())
    https_local = server.url("/jwks").replace("http://", "https://")
    for rules, url in ((Rules(), https_local), (Rules(allow_http=True), server.url("/jwks"))):
        assert asyncio.run(RemoteKeySets(rules).keys(url)) == ()
    assert server.hits["/jwks"] == 0


def test_an_issuer_s_keys_are_found_through_its_discovery_document(server: KeyServer) -> None:
    issuer = server.issuer("/issuer", ONE.jwks())
    sets = RemoteKeySets(LOCAL)
    assert kids(asyncio.run(sets.issuer_keys(issuer, "one"))) == ["one"]


def test_a_discovery_document_naming_another_issuer_gives_no_key(server: KeyServer) -> None:
    server.issuer("/real", ONE.jwks())
    server.serve(
        "/fake/.well-known/openid-configuration",
        {"issuer": server.url("/real"), "jwks_uri": server.url("/real/jwks")},
    )
    assert asyncio.run(RemoteKeySets(LOCAL).issuer_keys(server.url("/fake"))) == ()
    assert server.hits["/real/jwks"] == 0
