"""DPoP proofs (RFC 9449): tokens bound to a key their holder proves it has.

A client sends a ``DPoP`` header with its token request: a JWT it signed with a private key,
carrying the public key in its header (``jwk``), the request's method (``htm``) and URL
(``htu``), when it was made (``iat``) and a unique ``jti``. The token issued then carries the
key's RFC 7638 thumbprint (``cnf.jkt``) and is of type ``DPoP``: whoever presents it must sign
a new proof with the same key, with ``ath``, the hash of the token (§4.3, §7.1).

What an anonymous caller can make this cost: the header is capped at ``MAX_PROOF`` bytes and
read as a JWT only once its header parameters are right; the signature check is one verify of a
key the caller chose, among the four algorithms Gatepass verifies anyway (``publickeys.jwk``).
A proof's ``jti`` is used once while its ``iat`` is acceptable (Redis ``SET NX``, or the table of
used client assertions).

A tenant may also require a server nonce in each proof (§8): a proof without the current one is
answered ``use_dpop_nonce`` with a fresh nonce in the ``DPoP-Nonce`` header, and the client
signs a new proof with it. The nonce is an HMAC of the tenant and a ``NONCE_PERIOD`` window
under a key derived from the server secret, so every process makes and accepts the same ones
with nothing stored; the current and the previous window's are accepted.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import jwt

from gatepass.oauth.errors import OAuthError
from gatepass.publickeys.jwk import SUPPORTED, parse_key
from gatepass.text import is_plain

TYPE = "dpop+jwt"
MAX_PROOF = 4096  # bytes: a proof with an RSA-4096 key is about 1.3 KiB
MAX_AGE = 60  # seconds: a proof made longer ago than this is refused
AHEAD = 5  # seconds of clock skew allowed for a proof made "in the future"
MAX_JTI = 100
ALGORITHMS = list(SUPPORTED)
NONCE_PERIOD = 300  # seconds: a nonce works in its window and the next one
MAX_NONCE = 100


class InvalidDPoPProofError(OAuthError):
    """RFC 9449 §5: the proof is missing something, malformed or does not verify."""

    error = "invalid_dpop_proof"
    status = 400


class UseDPoPNonceError(OAuthError):
    """RFC 9449 §8: the proof must carry the server's nonce, given in ``DPoP-Nonce``."""

    error = "use_dpop_nonce"
    status = 400

    def __init__(self, nonce: str) -> None:
        super().__init__(
            "Authorization server requires nonce in DPoP proof",
            headers=((b"dpop-nonce", nonce.encode()),),
        )


@dataclass(frozen=True, slots=True)
class Proof:
    jkt: str  # the key's RFC 7638 thumbprint, what a bound token carries in cnf.jkt
    jti: str
    iat: int
    nonce: str | None = None  # the server nonce it carries, if any


@dataclass(frozen=True, slots=True)
class Nonces:
    """Server nonces for DPoP proofs (§8), the same in every process of a deployment."""

    key: bytes  # a subkey of the server secret (``credential_secrets.derive_key``)

    def current(self, tenant_id: int, now: float | None = None) -> str:
        return self._make(tenant_id, int((time.time() if now is None else now) // NONCE_PERIOD))

    def check(self, proof: Proof, tenant_id: int, now: float | None = None) -> None:
        """``use_dpop_nonce`` with the current nonce unless ``proof`` carries a fresh one."""
        window = int((time.time() if now is None else now) // NONCE_PERIOD)
        given = proof.nonce or ""
        if not any(
            hmac.compare_digest(given, self._make(tenant_id, w)) for w in (window, window - 1)
        ):
            raise UseDPoPNonceError(self._make(tenant_id, window))

    def _make(self, tenant_id: int, window: int) -> str:
        mac = hmac.new(self.key, f"{tenant_id}:{window}".encode(), hashlib.sha256).digest()
        return f"{window:x}." + base64.urlsafe_b64encode(mac[:18]).decode()


def verify(
    proof: str, *, method: str, url: str, access_token: str | None = None, now: float | None = None
) -> Proof:
    """The proof's key thumbprint if ``proof`` is a good DPoP proof of a ``method`` request to
    ``url`` (and, given ``access_token``, made for that token); else ``invalid_dpop_proof``."""
    if not proof or len(proof) > MAX_PROOF or not proof.isascii():
        raise InvalidDPoPProofError("the DPoP proof is missing or too large")
    key, alg, jkt = header_key(proof.partition(".")[0])
    try:
        claims = jwt.decode(
            proof,
            key,
            algorithms=[alg],
            options={"require": ["jti", "htm", "htu", "iat"], "verify_aud": False},
            leeway=AHEAD,
        )
    except jwt.PyJWTError:
        raise InvalidDPoPProofError("the DPoP proof's signature or claims are not valid") from None
    _check_claims(claims, method, url, access_token, time.time() if now is None else now)
    nonce = claims.get("nonce")
    if nonce is not None and (not isinstance(nonce, str) or len(nonce) > MAX_NONCE):
        raise InvalidDPoPProofError("the DPoP proof's nonce is not valid")
    return Proof(jkt, claims["jti"], int(claims["iat"]), nonce)


@functools.lru_cache(maxsize=1024)
def header_key(segment: str) -> tuple[Any, str, str]:
    """The public key, algorithm and thumbprint a proof's header segment names. A client sends
    the same header (its key) with each proof, so this is kept: its parse, key import and
    thumbprint were half a proof's cost. A refused header is not kept (nor costs more than
    before); ``jwt.decode`` still reads the whole proof, this header included, as it is."""
    try:
        header = jwt.get_unverified_header(segment + ".e30.")  # the header alone
    except jwt.PyJWTError:
        raise InvalidDPoPProofError("the DPoP proof is not a JWT") from None
    key, jwk = _key(header)
    return key, str(header["alg"]), thumbprint(jwk)


def _key(header: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    if header.get("typ") != TYPE:
        raise InvalidDPoPProofError(f"the DPoP proof's typ must be {TYPE}")
    alg, jwk = header.get("alg"), header.get("jwk")
    if alg not in SUPPORTED or not isinstance(jwk, dict) or not isinstance(jwk.get("kty"), str):
        raise InvalidDPoPProofError(
            f"the DPoP proof needs a public jwk and an alg of {', '.join(SUPPORTED)}"
        )
    try:
        key = parse_key(jwk)  # refuses private members and symmetric keys
    except (jwt.PyJWTError, ValueError, TypeError, KeyError):
        raise InvalidDPoPProofError("the DPoP proof's jwk is not a usable public key") from None
    if alg not in key.algorithms:
        raise InvalidDPoPProofError("the DPoP proof's alg does not fit its key")
    return key.key, jwk


def _check_claims(
    claims: dict[str, Any], method: str, url: str, access_token: str | None, now: float
) -> None:
    jti, iat = claims["jti"], claims["iat"]
    if not isinstance(jti, str) or not 0 < len(jti) <= MAX_JTI or not is_plain(jti):
        raise InvalidDPoPProofError("the DPoP proof's jti is not valid")
    if isinstance(iat, bool) or not isinstance(iat, int | float):
        raise InvalidDPoPProofError("the DPoP proof's iat is not a number")
    if not now - MAX_AGE <= iat <= now + AHEAD:
        raise InvalidDPoPProofError("the DPoP proof is too old or made in the future")
    if claims["htm"] != method:
        raise InvalidDPoPProofError("the DPoP proof was made for another method")
    if not isinstance(claims["htu"], str) or normalized(claims["htu"]) != normalized(url):
        raise InvalidDPoPProofError("the DPoP proof was made for another URL")
    if access_token is not None and claims.get("ath") != token_hash(access_token):
        raise InvalidDPoPProofError("the DPoP proof was made for another access token")


def normalized(url: str) -> str:
    """``url`` as RFC 9449 §4.3 compares it: no query or fragment, scheme and host in lower
    case, the scheme's default port left out (RFC 3986 §6.2.2, §6.2.3)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return ""
    scheme, host = parts.scheme.lower(), (parts.hostname or "")
    default = {"https": 443, "http": 80}.get(scheme)
    netloc = host if port is None or port == default else f"{host}:{port}"
    if ":" in host:  # an IPv6 literal
        netloc = f"[{host}]" if port is None or port == default else f"[{host}]:{port}"
    return urlunsplit((scheme, netloc, parts.path or "/", "", ""))


def token_hash(access_token: str) -> str:
    """``ath``: the base64url SHA-256 of the access token (§4.2)."""
    digest = hashlib.sha256(access_token.encode("ascii", "replace")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def thumbprint(jwk: dict[str, Any]) -> str:
    """The key's RFC 7638 SHA-256 thumbprint (joserfc's, imported on first use: only DPoP
    requests need it)."""
    from joserfc.jwk import thumbprint as rfc7638  # noqa: PLC0415

    return str(rfc7638(jwk))
