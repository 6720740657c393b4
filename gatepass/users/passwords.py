"""Console passwords: argon2id hashes, with the cost the settings give.

The cost is a process-wide choice made once at startup (``configure``), from
``GATEPASS_PASSWORD_TIME_COST``, ``GATEPASS_PASSWORD_MEMORY_KIB`` and
``GATEPASS_PASSWORD_PARALLELISM``. The defaults are argon2-cffi's (RFC 9106's second
recommendation: 3 passes over 64 MiB, 4 lanes); production refuses less than OWASP's floor for
argon2id (2 passes over 19 MiB). A hash made with another cost still verifies, and is replaced
by one of the current cost at the next successful sign-in.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from gatepass.settings import PASSWORD_COST, Settings

MAX_PASSWORD = 1024


@dataclass(frozen=True)
class HashCost:
    time_cost: int = PASSWORD_COST[0]  # passes
    memory_kib: int = PASSWORD_COST[1]
    parallelism: int = PASSWORD_COST[2]  # lanes

    @classmethod
    def of(cls, settings: Settings) -> HashCost:
        return cls(
            settings.password_time_cost, settings.password_memory_kib, settings.password_parallelism
        )

    def hasher(self) -> PasswordHasher:
        return PasswordHasher(
            time_cost=self.time_cost, memory_cost=self.memory_kib, parallelism=self.parallelism
        )


DEFAULT = HashCost()


class _Current:
    hasher = DEFAULT.hasher()


def configure(cost: HashCost) -> None:
    """Hash (and rehash) with ``cost`` from now on in this process."""
    _Current.hasher = cost.hasher()
    _dummy_hash.cache_clear()


def current() -> HashCost:
    used = _Current.hasher
    return HashCost(used.time_cost, used.memory_cost, used.parallelism)


def hash_password(password: str) -> str:
    return _Current.hasher.hash(password)


def verify(stored: str | None, password: str) -> bool:
    """Whether ``password`` matches the ``stored`` hash. With no hash (no such account) a dummy
    hash is checked instead, so that both cases take as long, and the answer is False."""
    if len(password) > MAX_PASSWORD:
        password = password[:MAX_PASSWORD]  # still verify, so the timing says nothing
    try:
        return _Current.hasher.verify(stored or _dummy_hash(), password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


def rehashed(stored: str, password: str) -> str | None:
    """A new hash of ``password`` when ``stored`` was made with another cost, else None."""
    try:
        needs = _Current.hasher.check_needs_rehash(stored)
    except InvalidHashError:
        return None
    return _Current.hasher.hash(password[:MAX_PASSWORD]) if needs else None


@cache
def _dummy_hash() -> str:
    return _Current.hasher.hash(secrets.token_urlsafe(16))
