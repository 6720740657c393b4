"""The digest filter: it never denies a digest it holds, and holds nothing until loaded."""

from __future__ import annotations

import hashlib

from gatepass.cache.key_filter import KeyFilter


def digest(n: int) -> bytes:
    return hashlib.sha256(str(n).encode()).digest()


def test_an_unloaded_filter_lets_every_digest_through() -> None:
    assert KeyFilter().may_exist(digest(1))


def test_added_digests_exist_and_others_do_not() -> None:
    keys = KeyFilter()
    keys.ready = True
    keys.add(digest(n) for n in range(100))

    assert all(keys.may_exist(digest(n)) for n in range(100))
    assert not any(keys.may_exist(digest(n)) for n in range(100, 1100))


def test_a_failed_update_lets_every_digest_through() -> None:
    keys = KeyFilter()
    keys.ready = True
    keys.fail()

    assert keys.may_exist(digest(5))
