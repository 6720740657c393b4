"""JWS compact serialization of access tokens (RFC 7515 §7.1) with a precomputed header.

The header of a tenant's tokens never changes between key rotations, so it is encoded once;
the signature itself comes from PyJWT's algorithm implementation (on ``cryptography``). This
saves about a third of ``jwt.encode``'s cost on the token endpoint's hot path.
"""

from __future__ import annotations

import json
from typing import Any

from jwt.algorithms import get_default_algorithms
from jwt.utils import base64url_encode

from gatepass.signing_keys.material import PrivateKey

TYP = "at+jwt"
# One compact encoder for every token: json.dumps with arguments builds a new one per call.
compact_json = json.JSONEncoder(separators=(",", ":")).encode


class TokenSigner:
    __slots__ = ("_algorithm", "_header", "_key")

    def __init__(self, key: PrivateKey, *, alg: str, kid: str) -> None:
        self._algorithm = get_default_algorithms()[alg]
        self._key = key
        header = {"alg": alg, "kid": kid, "typ": TYP}
        self._header = base64url_encode(json.dumps(header, separators=(",", ":")).encode())

    def sign(self, claims: dict[str, Any]) -> str:
        payload = base64url_encode(compact_json(claims).encode())
        signing_input = self._header + b"." + payload
        signature = base64url_encode(self._algorithm.sign(signing_input, self._key))
        return (signing_input + b"." + signature).decode("ascii")
