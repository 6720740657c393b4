"""Tokens signed by ``TokenSigner`` verify with an independent JWS library, for every algorithm."""

from __future__ import annotations

import json
import os
import string
from base64 import urlsafe_b64decode, urlsafe_b64encode

import jwt
import pytest

from gatepass.signing_keys.material import ALGORITHMS, generate_private_key
from gatepass.tokens.signer import TokenSigner, b64url, token_id

CLAIMS = {"iss": "https://issuer.example/realms/t", "sub": "c", "scope": "nql workflows"}


def _decode_part(part: str) -> bytes:
    return urlsafe_b64decode(part + "=" * (-len(part) % 4))


@pytest.mark.parametrize("alg", ALGORITHMS)
def test_a_signed_token_verifies_with_pyjwt(alg: str) -> None:
    key = generate_private_key(alg)
    token = TokenSigner(key, alg=alg, kid="k1").sign(CLAIMS)
    assert jwt.decode(token, key.public_key(), algorithms=[alg]) == CLAIMS
    assert jwt.get_unverified_header(token) == {"alg": alg, "kid": "k1", "typ": "at+jwt"}


@pytest.mark.parametrize("alg", ALGORITHMS)
def test_the_token_is_compact_unpadded_base64url(alg: str) -> None:
    token = TokenSigner(generate_private_key(alg), alg=alg, kid="k1").sign(CLAIMS)
    header, payload, signature = token.split(".")
    assert not {"=", "+", "/"} & set(token)
    assert json.loads(_decode_part(payload)) == CLAIMS
    assert b", " not in _decode_part(header)
    assert b'": ' not in _decode_part(payload)
    assert signature


def test_an_es256_signature_is_r_and_s_of_32_bytes_each() -> None:
    """RFC 7518 §3.4: the JWS signature is the raw pair, not the DER encoding."""
    key = generate_private_key("ES256")
    signature = _decode_part(TokenSigner(key, alg="ES256", kid="k1").sign(CLAIMS).split(".")[2])
    assert len(signature) == 64


@pytest.mark.parametrize("size", range(0, 70))
def test_b64url_is_unpadded_urlsafe_base64(size: int) -> None:
    data = os.urandom(size)
    assert b64url(data) == urlsafe_b64encode(data).rstrip(b"=")
    assert urlsafe_b64decode(b64url(data) + b"=" * (-size % 3)) == data


def test_a_token_id_is_128_random_bits_in_base64url() -> None:
    ids = {token_id() for _ in range(1000)}
    assert len(ids) == 1000
    for value in ids:
        assert len(value) == 22
        assert len(urlsafe_b64decode(value + "==")) == 16
        assert set(value) <= set(string.ascii_letters + string.digits + "-_")
