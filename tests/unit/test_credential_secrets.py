"""Secret format, checksum, hint, redaction and keyed hashing (gatepass.credential_secrets)."""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest

from gatepass import credential_secrets as cs

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
KINDS = [cs.SecretKind.CLIENT_SECRET, cs.SecretKind.API_KEY]


@pytest.mark.parametrize(
    ("kind", "pattern"),
    [
        (cs.SecretKind.CLIENT_SECRET, r"gpcs_[0-9A-Za-z]{38}"),
        (cs.SecretKind.API_KEY, r"gpk_[0-9A-Za-z]{38}"),
    ],
)
def test_generated_secret_has_prefix_body_and_checksum(kind: cs.SecretKind, pattern: str) -> None:
    value = cs.generate(kind).reveal()
    assert re.fullmatch(pattern, value)
    assert cs.is_well_formed(kind, value)


@pytest.mark.parametrize("kind", KINDS)
def test_generated_secrets_are_unique(kind: cs.SecretKind) -> None:
    values = {cs.generate(kind).reveal() for _ in range(2000)}
    assert len(values) == 2000


@pytest.mark.parametrize("kind", KINDS)
def test_every_one_character_change_is_rejected(kind: cs.SecretKind) -> None:
    value = cs.generate(kind).reveal()
    accepted = []
    for position in range(len(kind.value), len(value)):
        for char in ALPHABET:
            if char == value[position]:
                continue
            changed = value[:position] + char + value[position + 1 :]
            if cs.is_well_formed(kind, changed):
                accepted.append(changed)
    assert accepted == []


@pytest.mark.parametrize(
    "mangle",
    [
        pytest.param(lambda v: v[:-1], id="one-char-short"),
        pytest.param(lambda v: v + "A", id="one-char-long"),
        pytest.param(lambda v: v + "\n", id="trailing-newline"),
        pytest.param(lambda v: " " + v, id="leading-space"),
        pytest.param(lambda v: v.upper(), id="uppercased"),
        pytest.param(lambda v: "gpcx_" + v[5:], id="other-prefix"),
        pytest.param(lambda v: v[:10] + "-" + v[11:], id="non-alphanumeric"),
        pytest.param(lambda v: v[:5] + v[6:] + v[5], id="transposed"),
        pytest.param(lambda v: "", id="empty"),
    ],
)
def test_malformed_client_secret_is_rejected(mangle: Callable[[str], str]) -> None:
    value = cs.generate(cs.SecretKind.CLIENT_SECRET).reveal()
    assert not cs.is_well_formed(cs.SecretKind.CLIENT_SECRET, mangle(value))


def test_secret_of_one_kind_is_not_well_formed_as_the_other() -> None:
    client_secret = cs.generate(cs.SecretKind.CLIENT_SECRET).reveal()
    api_key = cs.generate(cs.SecretKind.API_KEY).reveal()
    assert not cs.is_well_formed(cs.SecretKind.API_KEY, client_secret)
    assert not cs.is_well_formed(cs.SecretKind.CLIENT_SECRET, api_key)


def test_plaintext_repr_and_str_are_redacted() -> None:
    secret = cs.generate(cs.SecretKind.CLIENT_SECRET)
    value = secret.reveal()
    for shown in (repr(secret), str(secret), f"{secret}", f"{secret!r}", repr([secret])):
        assert value not in shown
        assert value[5:] not in shown
        assert "***" in shown


def test_plaintext_equality_compares_values() -> None:
    assert cs.Plaintext("gpcs_a") == cs.Plaintext("gpcs_a")
    assert cs.Plaintext("gpcs_a") != cs.Plaintext("gpcs_b")
    assert cs.Plaintext("gpcs_a") != "gpcs_a"


@pytest.mark.parametrize(("kind", "prefix"), [(k, k.value) for k in KINDS])
def test_hint_shows_prefix_and_last_four_characters(kind: cs.SecretKind, prefix: str) -> None:
    secret = cs.generate(kind)
    value = secret.reveal()
    assert cs.hint(secret) == f"{prefix}…{value[-4:]}"
    assert value[len(prefix) : -4] not in cs.hint(secret)


def test_hasher_matches_the_index_of_the_stored_digest() -> None:
    hasher = cs.SecretHasher.from_master_key(b"k" * 32)
    first, second = (cs.generate(cs.SecretKind.CLIENT_SECRET) for _ in range(2))
    stored = (hasher.digest(first), hasher.digest(second))
    assert hasher.matches(first.reveal(), stored) == 0
    assert hasher.matches(second.reveal(), stored) == 1


def test_hasher_does_not_match_an_unknown_secret() -> None:
    hasher = cs.SecretHasher.from_master_key(b"k" * 32)
    stored = (hasher.digest(cs.generate(cs.SecretKind.CLIENT_SECRET)),)
    other = cs.generate(cs.SecretKind.CLIENT_SECRET).reveal()
    assert hasher.matches(other, stored) is None


@pytest.mark.parametrize("secret", ["", "gpcs_anything", "\x00" * 32])
def test_hasher_matches_nothing_when_nothing_is_stored(secret: str) -> None:
    hasher = cs.SecretHasher.from_master_key(b"k" * 32)
    assert hasher.matches(secret, ()) is None


def test_hasher_does_not_match_the_empty_secret_against_a_real_digest() -> None:
    hasher = cs.SecretHasher.from_master_key(b"k" * 32)
    stored = (hasher.digest(cs.generate(cs.SecretKind.CLIENT_SECRET)),)
    assert hasher.matches("", stored) is None


def test_digest_is_keyed_by_the_master_key() -> None:
    secret = cs.generate(cs.SecretKind.CLIENT_SECRET)
    one = cs.SecretHasher.from_master_key(b"a" * 32)
    two = cs.SecretHasher.from_master_key(b"b" * 32)
    assert one.digest(secret) != two.digest(secret)
    assert two.matches(secret.reveal(), (one.digest(secret),)) is None


def test_digest_of_plaintext_and_of_its_value_agree() -> None:
    hasher = cs.SecretHasher.from_master_key(b"k" * 32)
    secret = cs.generate(cs.SecretKind.CLIENT_SECRET)
    assert hasher.digest(secret) == hasher.digest(secret.reveal())
    assert len(hasher.digest(secret)) == 32
    assert secret.reveal().encode() not in hasher.digest(secret)


@pytest.mark.parametrize("value", ["", "gpk_x", "é" * 100, "a" * 10_000])
def test_digest_is_hmac_sha256_of_the_utf8_value(value: str) -> None:
    key = bytes(range(32))
    hasher = cs.SecretHasher(key)
    expected = hmac.digest(key, value.encode(), hashlib.sha256)
    assert hasher.digest(value) == expected
    assert hasher.digest(value) == expected  # the keyed start is copied, never used up


def test_digests_taken_on_many_threads_at_once_agree() -> None:
    hasher = cs.SecretHasher(bytes(32))
    values = [f"gpcs_{n:040d}" for n in range(2_000)]
    with ThreadPoolExecutor(8) as pool:
        digests = list(pool.map(hasher.digest, values))
    assert digests == [hmac.digest(bytes(32), v.encode(), hashlib.sha256) for v in values]
