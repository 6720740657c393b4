"""Tokens signed by ``TokenSigner`` verify with an independent JWS library, for every algorithm."""

from __future__ import annotations

import json
from base64 import urlsafe_b64decode

import jwt
import pytest

from gatepass.signing_keys.material import ALGORITHMS, generate_private_key
from gatepass.tokens.signer import TokenSigner

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
