"""A client's public keys, for ``private_key_jwt`` client authentication (RFC 7523 §2.2,
OpenID Connect Core §9), held as a JWKS (RFC 7517 §5).

Only public asymmetric keys of the four algorithms Gatepass verifies are taken: a private
member (``d``, ``p``, ...) or a symmetric ``oct`` key is refused, so a private key pasted by
mistake is never stored. The assertions already used are remembered here too, in the database,
for processes without Redis: the unique (client, jti) pair refuses a second use. Expired rows
are purged by each process at most every ``PURGE_EVERY`` seconds, with the insert that follows,
and by an hourly job (``gatepass.schedule``). Purging on every insert cost a scan of the
client's rows per token: under load that made each token slower than the last.
"""

from __future__ import annotations

import json
import time
from datetime import datetime

from jwt.exceptions import PyJWTError
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError

from gatepass.clients.models import UsedAssertion
from gatepass.db import Database, utcnow
from gatepass.errors import InvalidInputError
from gatepass.jobs.runner import JobContext
from gatepass.publickeys.jwk import MIN_RSA_BITS, PRIVATE_MEMBERS, SUPPORTED, PublicKey, parse_key

MAX_KEYS = 5
PURGE_EVERY = 10.0  # seconds between two purges of expired rows by one process
_last_purge = [float("-inf")]  # monotonic time of this process's last purge
PURGE_JOB = "clients.used_assertions"
PURGE_INTERVAL = 3600


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
        parse_key(jwk)
    except (PyJWTError, ValueError, TypeError, KeyError):
        raise InvalidInputError(
            f"a key in jwks is not a usable public key: RSA ({MIN_RSA_BITS} bits or more), EC"
            f" P-256 or Ed25519, for {', '.join(SUPPORTED)}"
        ) from None


def key_ids(text: str | None) -> list[str]:
    """The key IDs of a stored JWKS, for an audit record (a key without one shows as ``-``)."""
    return [str(jwk.get("kid", "-")) for jwk in json.loads(text)["keys"]] if text else []


def parse_jwks(text: str | None) -> tuple[PublicKey, ...]:
    """The stored keys (checked when stored), ready to verify with."""
    return tuple(parse_key(jwk) for jwk in json.loads(text)["keys"]) if text else ()


def remember_assertion(db: Database, client_pk: int, jti: str, expires_at: datetime) -> bool:
    """True the first time ``jti`` is seen for the client (expired rows purged now and then)."""
    now = time.monotonic()
    purge = now - _last_purge[0] >= PURGE_EVERY
    if purge:
        _last_purge[0] = now  # two threads may both purge at once: harmless
    try:
        with db.transaction() as session:
            if purge:  # by the expiry index, across clients: only the rows past their expiry
                session.execute(delete(UsedAssertion).where(UsedAssertion.expires_at <= utcnow()))
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
