"""Proof of possession for DPoP-bound access tokens (RFC 9449 §4.3, §7.1).

Gatepass binds a token to a key when the client asked with a DPoP proof: the token's ``cnf.jkt``
is the key's RFC 7638 thumbprint. Such a token is good only as ``Authorization: DPoP <token>``
with a ``DPoP`` header: a new proof, signed with that key, for this request's method and URL,
made within the last ``max_age`` seconds, carrying the token's hash (``ath``) and a ``jti`` not
seen before. A stolen bound token is worth nothing without its private key.

The ``jti`` of each accepted proof is remembered in this process for as long as the proof could
be accepted; several processes serving one API each keep their own (pass ``seen`` to share one).
"""

from __future__ import annotations

import base64
import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import jwt

from gatepass_sdk.cache import TtlCache
from gatepass_sdk.errors import InvalidDPoPProofError

TYPE = "dpop+jwt"
MAX_PROOF = 4096
ALGORITHMS = ("ES256", "RS256", "PS256", "EdDSA")
PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})
KEY_TYPES = {"ES256": ("EC",), "RS256": ("RSA",), "PS256": ("RSA",), "EdDSA": ("OKP",)}


@dataclass(frozen=True, slots=True)
class Presentation:
    """What a request says besides its token: its ``DPoP`` headers, method and full URL."""

    proofs: tuple[str, ...]
    method: str
    url: str


class ProofChecker:
    """Checks proofs for bound tokens; ``seen`` remembers the ``jti`` of accepted ones."""

    def __init__(
        self,
        *,
        max_age: float = 60.0,
        ahead: float = 5.0,
        seen: TtlCache[str, bool] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.max_age, self.ahead = max_age, ahead
        self._seen: TtlCache[str, bool] = seen if seen is not None else TtlCache(100_000)
        self._clock = clock

    def check(self, presentation: Presentation, token: str, jkt: object) -> None:
        """Nothing if the request proves it holds the key ``jkt`` names; else
        ``InvalidDPoPProofError`` (its ``reason`` says which check failed)."""
        if len(presentation.proofs) != 1:
            raise InvalidDPoPProofError("one DPoP header")
        proof = presentation.proofs[0]
        if not proof or len(proof) > MAX_PROOF or not proof.isascii():
            raise InvalidDPoPProofError("size")
        claims, jwk = self._verified(proof)
        if thumbprint(jwk) != jkt:
            raise InvalidDPoPProofError("jkt")
        self._check_claims(claims, presentation, token)

    def _verified(self, proof: str) -> tuple[dict[str, Any], dict[str, Any]]:
        try:
            header = jwt.get_unverified_header(proof)
        except jwt.PyJWTError:
            raise InvalidDPoPProofError("malformed") from None
        alg, jwk = header.get("alg"), header.get("jwk")
        if header.get("typ") != TYPE or alg not in ALGORITHMS or not isinstance(jwk, dict):
            raise InvalidDPoPProofError("header")
        if PRIVATE_MEMBERS & jwk.keys() or jwk.get("kty") not in KEY_TYPES[alg]:
            raise InvalidDPoPProofError("jwk")
        try:
            key = jwt.PyJWK(jwk, algorithm=alg).key
            claims: dict[str, Any] = jwt.decode(
                proof,
                key,
                algorithms=[alg],
                options={"require": ["jti", "htm", "htu", "iat", "ath"], "verify_aud": False},
            )
        except (jwt.PyJWTError, ValueError, TypeError, KeyError):
            raise InvalidDPoPProofError("signature") from None
        return claims, jwk

    def _check_claims(self, claims: dict[str, Any], request: Presentation, token: str) -> None:
        now, iat = self._clock(), claims["iat"]
        if isinstance(iat, bool) or not isinstance(iat, int | float):
            raise InvalidDPoPProofError("iat")
        if not now - self.max_age <= iat <= now + self.ahead:
            raise InvalidDPoPProofError("iat")
        if claims["htm"] != request.method:
            raise InvalidDPoPProofError("htm")
        if not isinstance(claims["htu"], str) or normalized(claims["htu"]) != normalized(
            request.url
        ):
            raise InvalidDPoPProofError("htu")
        if claims["ath"] != token_hash(token):
            raise InvalidDPoPProofError("ath")
        jti = claims["jti"]
        if not isinstance(jti, str) or not 0 < len(jti) <= 200:
            raise InvalidDPoPProofError("jti")
        key = hashlib.sha256(f"{claims['htu']}\n{jti}".encode()).hexdigest()
        if not self._seen.add(key, True, self.max_age + self.ahead):  # one step: threads race
            raise InvalidDPoPProofError("replayed")


def normalized(url: str) -> str:
    """``url`` as RFC 9449 §4.3 compares it: no query or fragment, scheme and host in lower
    case, the scheme's default port left out."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return ""
    scheme, host = parts.scheme.lower(), parts.hostname or ""
    shown = f"[{host}]" if ":" in host else host
    default = {"https": 443, "http": 80}.get(scheme)
    netloc = shown if port is None or port == default else f"{shown}:{port}"
    return urlunsplit((scheme, netloc, parts.path or "/", "", ""))


def token_hash(token: str) -> str:
    """``ath``: the base64url SHA-256 of the access token (RFC 9449 §4.2)."""
    digest = hashlib.sha256(token.encode("ascii", "replace")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def thumbprint(jwk: dict[str, Any]) -> str:
    """The key's RFC 7638 SHA-256 thumbprint (joserfc's)."""
    from joserfc.jwk import thumbprint as rfc7638  # noqa: PLC0415 - only bound tokens need it

    try:
        return str(rfc7638(jwk))
    except (ValueError, KeyError, TypeError):
        raise InvalidDPoPProofError("jwk") from None
