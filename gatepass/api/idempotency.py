"""``Idempotency-Key`` for the management API's POST requests.

A retried create must not mint a second credential. The first request under a key claims the
key, does its work and stores its response in one transaction; a retry with the same key and the
same request gets that response again (``Idempotent-Replayed: true``), and the same key with a
different request is refused (422). Two concurrent requests with one key are serialised by the
claim's unique index: the second waits, then replays.

A create response holds a secret, so the stored response is sealed with AES-256-GCM under a key
derived from the server secret *and the Idempotency-Key itself*, which is stored only as a keyed
hash: the database and the server secret together cannot open it, only a retry can. Records
expire after 24 hours.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gatepass.api.problems import ProblemError
from gatepass.audit.service import Actor
from gatepass.credential_secrets import SecretHasher, derive_key
from gatepass.db import Database, utcnow
from gatepass.idempotency.models import IdempotencyRecord

LIFETIME = timedelta(hours=24)
MAX_KEY = 255
NONCE = 12


@dataclass(frozen=True)
class Outcome:
    status: int
    body: dict[str, Any]
    replayed: bool


Work = Callable[[Session], tuple[int, dict[str, Any]]]


@dataclass(frozen=True)
class IdempotencyStore:
    index: SecretHasher
    sealing_root: bytes

    @classmethod
    def from_master_key(cls, master_key: bytes) -> IdempotencyStore:
        return cls(
            index=SecretHasher(derive_key(master_key, b"gatepass idempotency index v1")),
            sealing_root=derive_key(master_key, b"gatepass idempotency sealing v1"),
        )

    def run(
        self,
        db: Database,
        *,
        tenant_id: int,
        actor: Actor,
        key: str | None,
        fingerprint: bytes,
        work: Work,
    ) -> Outcome:
        """Do ``work`` in a transaction once per key; replay its response for a retry."""
        if key is None:
            with db.transaction() as session:
                status, body = work(session)
            return Outcome(status, body, replayed=False)
        key = parse_key(key)
        if not actor.subject:
            raise ValueError("an Idempotency-Key needs an actor with a subject")
        # Bound to the never-reused subject: a client created later under a deleted client's ID
        # must not replay (and so read the secrets in) the deleted client's answers.
        key_hash = self.index.digest(f"{tenant_id}\x00{actor.subject}\x00{key}")
        for _ in range(3):
            try:
                with db.transaction() as session:
                    # Writing first takes SQLite's write lock before any read (no stale snapshot).
                    session.execute(
                        delete(IdempotencyRecord).where(IdempotencyRecord.expires_at <= utcnow())
                    )
                    claim = IdempotencyRecord(
                        tenant_id=tenant_id,
                        key_hash=key_hash,
                        fingerprint=fingerprint,
                        expires_at=utcnow() + LIFETIME,
                    )
                    session.add(claim)
                    session.flush()
                    status, body = work(session)
                    claim.status_code = status
                    claim.sealed_response = self._seal(key, key_hash, body)
                return Outcome(status, body, replayed=False)
            except IntegrityError:
                replay = self._replay(db, key, key_hash, fingerprint)
                if replay is not None:
                    return replay
        raise ProblemError(409, "conflict", "the request conflicted with another; retry it")

    def _replay(
        self, db: Database, key: str, key_hash: bytes, fingerprint: bytes
    ) -> Outcome | None:
        with db.read() as session:
            stored = session.scalar(
                select(IdempotencyRecord).where(IdempotencyRecord.key_hash == key_hash)
            )
        if stored is None or stored.expires_at <= utcnow():
            return None
        if not secrets.compare_digest(stored.fingerprint, fingerprint):
            raise ProblemError(
                422,
                "idempotency_key_reused",
                "this Idempotency-Key was already used for a different request",
            )
        return Outcome(stored.status_code, self._open(key, key_hash, stored.sealed_response), True)

    def _cipher(self, key: str) -> AESGCM:
        return AESGCM(derive_key(self.sealing_root, b"response " + key.encode()))

    def _seal(self, key: str, key_hash: bytes, body: dict[str, Any]) -> bytes:
        nonce = secrets.token_bytes(NONCE)
        plain = json.dumps(body, separators=(",", ":")).encode()
        return nonce + self._cipher(key).encrypt(nonce, plain, key_hash)

    def _open(self, key: str, key_hash: bytes, sealed: bytes) -> dict[str, Any]:
        plain = self._cipher(key).decrypt(sealed[:NONCE], sealed[NONCE:], key_hash)
        body: dict[str, Any] = json.loads(plain)
        return body


def parse_key(value: str) -> str:
    """The key itself; a structured-field string (``"abc"``) or a bare token are accepted."""
    key = value.strip()
    if len(key) >= 2 and key[0] == key[-1] == '"':
        key = key[1:-1]
    if not 1 <= len(key) <= MAX_KEY or not all(0x21 <= ord(c) <= 0x7E for c in key):
        raise ProblemError(
            400,
            "invalid_idempotency_key",
            f"Idempotency-Key must be 1-{MAX_KEY} visible ASCII characters",
        )
    return key


def fingerprint(method: str, path: str, payload: str) -> bytes:
    return hashlib.sha256(f"{method}\x00{path}\x00{payload}".encode()).digest()
