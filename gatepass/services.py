"""What request handlers need, built once per process from the settings.

The one wiring point: the server builds its ``Services`` here, and the CLI opens its database and
derives its keys with the same functions, so both see the same pool, keys and change notices.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

from gatepass import credential_secrets as cs
from gatepass.audit.failures import FailureLog
from gatepass.cache.store import CredentialCache
from gatepass.changes.bus import Notice, NoticeKey, Publisher, Subscriber
from gatepass.db import Database, PoolLimits
from gatepass.ops.metrics import Metrics
from gatepass.ops.ratelimit import RateLimiter
from gatepass.sessions.signing_in import SignIns
from gatepass.settings import Settings
from gatepass.signing_keys.material import KeyCipher
from gatepass.users import passwords


@dataclass(frozen=True)
class Services:
    """What request handlers need, built once per process."""

    settings: Settings
    db: Database
    hasher: cs.SecretHasher
    cipher: KeyCipher
    cache: CredentialCache
    metrics: Metrics
    limiter: RateLimiter
    notices: Publisher
    sign_ins: SignIns
    failures: FailureLog  # failed calls, counted in memory and written about once a second


@dataclass(frozen=True)
class Keys:
    """What the server secret keys: secret hashes, signing keys at rest, change notices."""

    hasher: cs.SecretHasher
    cipher: KeyCipher
    notice: NoticeKey

    @classmethod
    def of(cls, settings: Settings) -> Keys:
        master = settings.master_key()
        return cls(
            hasher=cs.SecretHasher.from_master_key(master),
            cipher=KeyCipher.from_master_key(master),
            notice=NoticeKey.from_master_key(master),
        )


def open_database(settings: Settings) -> Database:
    pool = PoolLimits(settings.db_pool_size, settings.db_max_overflow, settings.db_pool_timeout)
    return Database(settings.effective_database_url, pool)


def announce_changes(
    settings: Settings, db: Database, key: NoticeKey, local: Callable[[Notice], None] | None = None
) -> Publisher:
    """Send the notices of what ``db`` commits over Redis (if configured) and to ``local``."""
    notices = Publisher(settings.redis_url, key, local=local)
    notices.attach(db)
    return notices


def build_services(settings: Settings) -> Services:
    passwords.configure(passwords.HashCost.of(settings))
    keys = Keys.of(settings)
    db = open_database(settings)
    cache = CredentialCache(
        db,
        public_url=settings.public_url,
        cipher=keys.cipher,
        poll=settings.cache_poll_interval,
        flush_every=settings.last_used_flush_interval,
    )
    notices = announce_changes(settings, db, keys.notice, local=cache.apply_notice)
    if settings.redis_url:
        cache.subscriber = Subscriber(settings.redis_url, keys.notice, cache.apply_notice)
    limiter = RateLimiter(settings.redis_url, namespace=keys.notice.namespace)
    failures = FailureLog(db)
    max_hashes = settings.max_password_hashes or os.cpu_count() or 1
    return Services(
        settings=settings,
        db=db,
        hasher=keys.hasher,
        cipher=keys.cipher,
        cache=cache,
        metrics=Metrics(),
        limiter=limiter,
        notices=notices,
        sign_ins=SignIns(limiter, failures, max_hashes=max_hashes),
        failures=failures,
    )
