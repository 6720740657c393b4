"""A published signing key, ready to check JWS signatures (RFC 7515 §5.2, RFC 7518 §3).

PyJWT parses the JWK and supplies the algorithm. For ECDSA, the signature check is done here,
with the hash object prepared once: the JWS signature is the raw ``R || S`` pair (RFC 7518
§3.4), which becomes DER for ``cryptography`` exactly as PyJWT converts it, minus the per-call
set-up that would cost a few percent of the check itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ec import ECDSA, EllipticCurvePublicKey
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from jwt import PyJWK, PyJWTError

# Only public-key algorithms: a JWKS holds no shared secrets, and "none" is never acceptable.
ASYMMETRIC_ALGS = frozenset(
    {"ES256", "ES384", "ES512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "EdDSA"}
)

# RFC 7518 §3.4: each ECDSA algorithm names its curve and its hash.
ECDSA_PARAMETERS = {
    "ES256": ("secp256r1", hashes.SHA256),
    "ES384": ("secp384r1", hashes.SHA384),
    "ES512": ("secp521r1", hashes.SHA512),
}

Verify = Callable[[bytes, bytes], bool]


@dataclass(frozen=True, slots=True)
class VerificationKey:
    kid: str
    alg: str
    verify: Verify  # (signing input, signature) -> whether the signature holds


def from_jwk(entry: Any) -> VerificationKey | None:
    """The key of one JWKS entry, or ``None`` for anything not usable to verify signatures."""
    if not isinstance(entry, dict) or entry.get("use", "sig") != "sig":
        return None
    kid, alg = entry.get("kid"), entry.get("alg")
    if alg not in ASYMMETRIC_ALGS or not isinstance(kid, str):
        return None
    try:
        jwk = PyJWK(entry)
    except (PyJWTError, ValueError, TypeError, KeyError):
        return None
    if isinstance(jwk.key, EllipticCurvePublicKey):
        curve, hash_type = ECDSA_PARAMETERS.get(str(alg), ("", hashes.SHA256))
        if jwk.key.curve.name != curve:
            return None
        return VerificationKey(kid, str(alg), _ecdsa(jwk.key, ECDSA(hash_type())))
    return VerificationKey(kid, str(alg), _generic(jwk))


def _ecdsa(key: EllipticCurvePublicKey, algorithm: ECDSA) -> Verify:
    size = (key.curve.key_size + 7) // 8

    def verify(message: bytes, signature: bytes) -> bool:
        if len(signature) != 2 * size:
            return False
        r, s = int.from_bytes(signature[:size], "big"), int.from_bytes(signature[size:], "big")
        try:
            key.verify(encode_dss_signature(r, s), message, algorithm)
        except InvalidSignature:
            return False
        return True

    return verify


def _generic(jwk: PyJWK) -> Verify:
    algorithm, key = jwk.Algorithm, jwk.key

    def verify(message: bytes, signature: bytes) -> bool:
        try:
            return bool(algorithm.verify(message, key, signature))
        except (ValueError, TypeError):
            return False

    return verify
