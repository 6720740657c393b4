"""A client's public keys, for ``private_key_jwt`` client authentication (RFC 7523 §2.2,
OpenID Connect Core §9), held as a JWKS (RFC 7517 §5).

Only public asymmetric keys of the four algorithms Gatepass verifies are taken: a private
member (``d``, ``p``, ...) or a symmetric ``oct`` key is refused, so a private key pasted by
mistake is never stored. The assertions already used are remembered here too, in the database,
for processes without Redis: each insert purges its client's expired ones, and an hourly job
(``gatepass.schedule``) those of clients no longer sending any.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from jwt import PyJWK
from jwt.exceptions import PyJWTError
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError

from gatepass.clients.models import UsedAssertion
from gatepass.db import Database, utcnow
from gatepass.errors import InvalidInputError
from gatepass.jobs.runner import JobContext

MAX_KEYS = 5
MIN_RSA_BITS = 2048
PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})
# What each kind of key may sign with: (kty, crv) -> algorithms
ALGORITHMS: dict[tuple[str, str | None], tuple[str, ...]] = {
    ("RSA", None): ("RS256", "PS256"),
    ("EC", "P-256"): ("ES256",),
    ("OKP", "Ed25519"): ("EdDSA",),
}
SUPPORTED = ("ES256", "RS256", "PS256", "EdDSA")
PURGE_JOB = "clients.used_assertions"
PURGE_INTERVAL = 3600


@dataclass(frozen=True, slots=True)
class ClientKey:
    kid: str | None
    algorithms: tuple[str, ...]
    key: Any  # a public key of ``cryptography``


def checked_jwks(value: object) -> str:
    """The JWKS as the JSON text to store, or ``InvalidInputError`` saying what is wrong."""
    keys = value.get("keys") if isinstance(value, dict) else None
    if not isinstance(keys, list) or not 1 <= len(keys) <= MAX_KEYS:
        raise InvalidInputError(f'jwks must be {{"keys": [...]}} with 1-{MAX_KEYS} public keys')
    for jwk in keys:
        _check_key(jwk)
    kids = [jwk.get("kid") for jwk in keys]
    if len(keys) > 1 and (None in kids or len(set(kids)) != len(kids)):
        raise InvalidInputError("each key of a jwks with several keys needs its own kid")
    return json.dumps({"keys": keys}, separators=(",", ":"))


def _check_key(jwk: object) -> None:
    if not isinstance(jwk, dict) or not isinstance(jwk.get("kty"), str):
        raise InvalidInputError("each key in jwks must be a JWK object with a kty")
    if jwk["kty"] == "oct" or PRIVATE_MEMBERS & jwk.keys():
        raise InvalidInputError("jwks must hold public keys only (no private or symmetric key)")
    if not isinstance(jwk.get("kid", ""), str):
        raise InvalidInputError("a key's kid must be a string")
    try:
        key = parse_key(jwk)
    except (PyJWTError, ValueError, TypeError, KeyError):
        raise InvalidInputError(
            "a key in jwks is not a usable public key: RSA (2048 bits or more), EC P-256 or"
            f" Ed25519, for {', '.join(SUPPORTED)}"
        ) from None
    if jwk["kty"] == "RSA" and key.key.key_size < MIN_RSA_BITS:
        raise InvalidInputError(f"an RSA key must have at least {MIN_RSA_BITS} bits")


def parse_key(jwk: dict[str, Any]) -> ClientKey:
    allowed = ALGORITHMS.get((jwk["kty"], jwk.get("crv") if jwk["kty"] != "RSA" else None))
    alg = jwk.get("alg")
    if allowed is None or (alg is not None and alg not in allowed):
        raise ValueError("unsupported key type or algorithm")
    return ClientKey(jwk.get("kid"), (alg,) if alg else allowed, PyJWK(jwk).key)


def parse_jwks(text: str | None) -> tuple[ClientKey, ...]:
    """The stored keys (checked when stored), ready to verify with."""
    return tuple(parse_key(jwk) for jwk in json.loads(text)["keys"]) if text else ()


def remember_assertion(db: Database, client_pk: int, jti: str, expires_at: datetime) -> bool:
    """True the first time ``jti`` is seen for the client; its expired ones are purged."""
    try:
        with db.transaction() as session:
            session.execute(
                delete(UsedAssertion).where(
                    UsedAssertion.client_pk == client_pk, UsedAssertion.expires_at <= utcnow()
                )
            )
            session.add(UsedAssertion(client_pk=client_pk, jti=jti, expires_at=expires_at))
    except IntegrityError:
        return False
    return True


def purge_used_assertions(ctx: JobContext) -> int:
    """Forget every used assertion past its expiry (a replay of it is refused for its ``exp``
    anyway); how many."""
    with ctx.db.transaction() as session:
        result = session.execute(delete(UsedAssertion).where(UsedAssertion.expires_at <= ctx.now))
    return int(getattr(result, "rowcount", 0) or 0)
