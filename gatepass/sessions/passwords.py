"""Checking console passwords: argon2id, never inside a database transaction, a few at a time.

A password check is deliberately slow (tens of milliseconds of CPU and memory). Run inside a
transaction it would hold a pooled connection for that long, so a burst of sign-ins could starve
every other request of connections; run without a bound it would starve them of CPU. So the
callers read the stored hash in a short transaction and close it, take a slot here, check, give
the slot back, and write in a second short transaction. A sign-in that finds every slot taken is
refused at once rather than queued: a queue would only turn a burst into a longer outage.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from gatepass.users.service import MAX_PASSWORD

_HASHER = PasswordHasher()


def verify(stored: str | None, password: str) -> bool:
    """Whether ``password`` matches the ``stored`` hash. With no hash (no such account) a dummy
    hash is checked instead, so that both cases take as long, and the answer is False."""
    if len(password) > MAX_PASSWORD:
        password = password[:MAX_PASSWORD]  # still verify, so the timing says nothing
    try:
        return _HASHER.verify(stored or _dummy_hash(), password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


def rehashed(stored: str, password: str) -> str | None:
    """A new hash of ``password`` when ``stored`` was made with weaker parameters, else None."""
    try:
        needs = _HASHER.check_needs_rehash(stored)
    except InvalidHashError:
        return None
    return _HASHER.hash(password[:MAX_PASSWORD]) if needs else None


@cache
def _dummy_hash() -> str:
    return _HASHER.hash(secrets.token_urlsafe(16))


class HashSlots:
    """How many password checks this process runs at once (threads, not the event loop)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._free = threading.BoundedSemaphore(size)

    @contextmanager
    def slot(self) -> Iterator[bool]:
        """Take a slot if one is free at once (yields True), else yields False; never waits."""
        taken = self._free.acquire(blocking=False)
        try:
            yield taken
        finally:
            if taken:
                self._free.release()
