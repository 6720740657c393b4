"""One public key from its JWK (RFC 7517), limited to what Gatepass verifies with.

Only public asymmetric keys of the four algorithms below are taken: RSA of at least 2048 bits
(RS256, PS256), EC P-256 (ES256) and Ed25519 (EdDSA). ``none`` and the HMAC algorithms never
match a key, so a token cannot choose to be checked with a shared secret.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from jwt import PyJWK

MIN_RSA_BITS = 2048
PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})
# What each kind of key may sign with: (kty, crv) -> algorithms
ALGORITHMS: dict[tuple[str, str | None], tuple[str, ...]] = {
    ("RSA", None): ("RS256", "PS256"),
    ("EC", "P-256"): ("ES256",),
    ("OKP", "Ed25519"): ("EdDSA",),
}
SUPPORTED = ("ES256", "RS256", "PS256", "EdDSA")


@dataclass(frozen=True, slots=True)
class PublicKey:
    kid: str | None
    algorithms: tuple[str, ...]
    key: Any  # a public key of ``cryptography``


def parse_key(jwk: dict[str, Any]) -> PublicKey:
    """The key, or ``ValueError`` (or PyJWT's, ``TypeError``, ``KeyError``) if it is not one
    Gatepass verifies with. A private member is refused, whatever else the JWK holds."""
    if jwk["kty"] == "oct" or PRIVATE_MEMBERS & jwk.keys():
        raise ValueError("not a public asymmetric key")
    allowed = ALGORITHMS.get((jwk["kty"], jwk.get("crv") if jwk["kty"] != "RSA" else None))
    alg = jwk.get("alg")
    if allowed is None or (alg is not None and alg not in allowed):
        raise ValueError("unsupported key type or algorithm")
    key = PyJWK(jwk).key
    if jwk["kty"] == "RSA" and key.key_size < MIN_RSA_BITS:
        raise ValueError(f"an RSA key must have at least {MIN_RSA_BITS} bits")
    return PublicKey(jwk.get("kid"), (alg,) if alg else allowed, key)
