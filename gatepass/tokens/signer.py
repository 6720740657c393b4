"""JWS compact serialization of access tokens (RFC 7515 §7.1) with a precomputed header.

The header of a tenant's tokens never changes between key rotations, so it is encoded once.
An ES256 signature is made with ``cryptography`` directly, with its signature algorithm built
once: PyJWT's ``ECAlgorithm.sign`` builds a new ``ECDSA(SHA256())`` per call and converts the
DER signature to ``r || s`` (RFC 7518 §3.4) through several helpers, which cost ~10 % of the
token endpoint's own work. RS256 and EdDSA signatures still come from PyJWT's algorithms.
"""

from __future__ import annotations

import json
import os
from binascii import b2a_base64
from collections.abc import Callable
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from jwt.algorithms import get_default_algorithms

from gatepass.signing_keys.material import PrivateKey

TYP = "at+jwt"
# One compact encoder for every token: json.dumps with arguments builds a new one per call.
compact_json = json.JSONEncoder(separators=(",", ":")).encode
_ECDSA_SHA256 = ec.ECDSA(hashes.SHA256())


_URLSAFE = bytes.maketrans(b"+/", b"-_")


def b64url(data: bytes) -> bytes:
    """Base64url without padding (RFC 7515 §2): ``base64.urlsafe_b64encode`` in one call."""
    return b2a_base64(data, newline=False).translate(_URLSAFE).rstrip(b"=")


def token_id() -> str:
    """A token's ``jti``: 128 random bits, as ``secrets.token_urlsafe(16)`` makes them."""
    return b64url(os.urandom(16)).decode("ascii")


class TokenSigner:
    __slots__ = ("_header", "_sign")

    def __init__(self, key: PrivateKey, *, alg: str, kid: str) -> None:
        self._sign = _signature_function(key, alg)
        header = {"alg": alg, "kid": kid, "typ": TYP}
        self._header = b64url(json.dumps(header, separators=(",", ":")).encode())

    def sign(self, claims: dict[str, Any]) -> str:
        signing_input = self._header + b"." + b64url(compact_json(claims).encode())
        return (signing_input + b"." + b64url(self._sign(signing_input))).decode("ascii")


def _signature_function(key: PrivateKey, alg: str) -> Callable[[bytes], bytes]:
    if alg == "ES256" and isinstance(key, ec.EllipticCurvePrivateKey):
        size = (key.curve.key_size + 7) // 8

        def es256(message: bytes) -> bytes:
            r, s = decode_dss_signature(key.sign(message, _ECDSA_SHA256))
            return r.to_bytes(size, "big") + s.to_bytes(size, "big")

        return es256
    algorithm = get_default_algorithms()[alg]
    return lambda message: algorithm.sign(message, key)
