"""Key material: generating signing keys, publishing them as JWKs, encrypting them at rest.

Private keys are stored as PKCS#8 encrypted with AES-256-GCM under a key derived from the server
secret; the key id is bound in as associated data so a ciphertext cannot be moved to another row.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm

from gatepass.credential_secrets import derive_key, seal, unseal

ALGORITHMS = ("ES256", "RS256", "EdDSA")
RSA_BITS = 3072

PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey
PublicKey = ec.EllipticCurvePublicKey | rsa.RSAPublicKey | ed25519.Ed25519PublicKey


def generate_private_key(alg: str) -> PrivateKey:
    if alg == "ES256":
        return ec.generate_private_key(ec.SECP256R1())
    if alg == "RS256":
        return rsa.generate_private_key(public_exponent=65537, key_size=RSA_BITS)
    if alg == "EdDSA":
        return ed25519.Ed25519PrivateKey.generate()
    raise ValueError(
        f"unsupported signing algorithm {alg!r}; choose one of {', '.join(ALGORITHMS)}"
    )


def new_kid() -> str:
    return secrets.token_urlsafe(12)


# What a published JWK holds: its public parameters (RFC 7518 §6, RFC 8037 §2) and kid, alg, use.
# PyJWT also writes ``key_ops`` (a list) for RSA: left out, as ``use`` says the same, and as a
# list it would not fit the string-valued JWK stored.
PUBLISHED_MEMBERS = ("kty", "crv", "x", "y", "n", "e", "kid", "alg", "use")


def public_jwk(key: PrivateKey, *, kid: str, alg: str) -> dict[str, str]:
    public = key.public_key()
    jwk: dict[str, Any]
    if isinstance(public, ec.EllipticCurvePublicKey):
        jwk = ECAlgorithm.to_jwk(public, as_dict=True)
    elif isinstance(public, rsa.RSAPublicKey):
        jwk = RSAAlgorithm.to_jwk(public, as_dict=True)
    else:
        jwk = OKPAlgorithm.to_jwk(public, as_dict=True)
    jwk.update({"kid": kid, "alg": alg, "use": "sig"})
    return published(jwk)


def published(jwk: dict[str, Any]) -> dict[str, str]:
    """The members of a JWK that Gatepass publishes. Keys stored by earlier versions held
    ``"key_ops": "['verify']"`` (a list written as a string, which RFC 7517 §4.3 forbids and
    ``jose`` refuses); publishing through this drops it."""
    return {name: str(jwk[name]) for name in PUBLISHED_MEMBERS if name in jwk}


def public_key_from_jwk(jwk: dict[str, str]) -> PublicKey:
    data = json.dumps(jwk)
    kty = jwk["kty"]
    if kty == "EC":
        key: Any = ECAlgorithm.from_jwk(data)
    elif kty == "RSA":
        key = RSAAlgorithm.from_jwk(data)
    else:
        key = OKPAlgorithm.from_jwk(data)
    if not isinstance(key, PublicKey):
        raise ValueError("a published JWK must hold a public key")
    return key


@dataclass(frozen=True)
class KeyCipher:
    """Encrypts private signing keys at rest under a subkey of the server secret."""

    key: bytes

    @classmethod
    def from_master_key(cls, master_key: bytes) -> KeyCipher:
        return cls(derive_key(master_key, b"gatepass signing key encryption v1"))

    def seal(self, private_key: PrivateKey, kid: str) -> bytes:
        der = private_key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        return seal(self.key, der, kid)

    def open(self, sealed: bytes, kid: str) -> PrivateKey:
        key = serialization.load_der_private_key(unseal(self.key, sealed, kid), password=None)
        if not isinstance(key, PrivateKey):
            raise ValueError("stored signing key has an unsupported type")
        return key
