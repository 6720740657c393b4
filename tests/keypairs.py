"""Client key pairs for ``private_key_jwt``, made in the test, and assertions signed with them."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ALGORITHMS = ("ES256", "RS256", "PS256", "EdDSA")
PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey


@dataclass(frozen=True)
class KeyPair:
    alg: str
    kid: str
    private: PrivateKey

    def public_jwk(self) -> dict[str, Any]:
        public = self.private.public_key()
        if isinstance(public, ec.EllipticCurvePublicKey):
            jwk: dict[str, Any] = ECAlgorithm.to_jwk(public, as_dict=True)
        elif isinstance(public, rsa.RSAPublicKey):
            jwk = RSAAlgorithm.to_jwk(public, as_dict=True)
        else:
            jwk = OKPAlgorithm.to_jwk(public, as_dict=True)
        return {**jwk, "kid": self.kid}

    def private_jwk(self) -> dict[str, Any]:
        """The whole key, private part included: what must never be accepted as a client key."""
        if isinstance(self.private, ec.EllipticCurvePrivateKey):
            jwk: dict[str, Any] = ECAlgorithm.to_jwk(self.private, as_dict=True)
        elif isinstance(self.private, rsa.RSAPrivateKey):
            jwk = RSAAlgorithm.to_jwk(self.private, as_dict=True)
        else:
            jwk = OKPAlgorithm.to_jwk(self.private, as_dict=True)
        return {**jwk, "kid": self.kid}

    def jwks(self) -> dict[str, Any]:
        return {"keys": [self.public_jwk()]}

    def sign(
        self,
        client_id: str,
        audience: str,
        *,
        headers: dict[str, Any] | None = None,
        **claims: Any,
    ) -> str:
        """An assertion of ``client_id`` for ``audience``, valid 5 minutes; ``claims`` override
        (``None`` removes one)."""
        now = int(time.time())
        payload = {
            "iss": client_id,
            "sub": client_id,
            "aud": audience,
            "iat": now,
            "exp": now + 300,
            "jti": secrets.token_urlsafe(16),
            **claims,
        }
        body = {k: v for k, v in payload.items() if v is not None}
        header = {"kid": self.kid, **(headers or {})}
        return jwt.encode(body, self.private, algorithm=self.alg, headers=header)


def dpop_proof(
    pair: KeyPair,
    method: str,
    url: str,
    *,
    headers: dict[str, Any] | None = None,
    **claims: Any,
) -> str:
    """A DPoP proof (RFC 9449 §4.2) signed with ``pair``, its public key in the header;
    ``claims`` and ``headers`` override (``None`` removes one)."""
    payload = {
        "jti": secrets.token_urlsafe(16),
        "htm": method,
        "htu": url,
        "iat": int(time.time()),
        **claims,
    }
    jwk = {k: v for k, v in pair.public_jwk().items() if k != "kid"}
    header = {"typ": "dpop+jwt", "jwk": jwk, **(headers or {})}
    return jwt.encode(
        {k: v for k, v in payload.items() if v is not None},
        pair.private,
        algorithm=pair.alg,
        headers={k: v for k, v in header.items() if v is not None},
    )


def key_pair(alg: str, kid: str | None = None) -> KeyPair:
    private: PrivateKey
    if alg == "ES256":
        private = ec.generate_private_key(ec.SECP256R1())
    elif alg in ("RS256", "PS256"):
        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    else:
        private = ed25519.Ed25519PrivateKey.generate()
    return KeyPair(alg, kid or f"{alg.lower()}-{secrets.token_hex(4)}", private)


def assertion_form(assertion: str, /, **fields: str) -> dict[str, str]:
    return {
        "grant_type": "client_credentials",
        "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": assertion,
        **fields,
    }
