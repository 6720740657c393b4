"""What request handlers need, built once per process from the settings."""

from __future__ import annotations

import os
from dataclasses import dataclass

from gatepass import credential_secrets as cs
from gatepass.audit.failures import FailureLog
from gatepass.cache.store import CredentialCache
from gatepass.changes.bus import NoticeKey, Publisher, Subscriber
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


def build_services(settings: Settings) -> Services:
    passwords.configure(passwords.HashCost.of(settings))
    master = settings.master_key()
    pool = PoolLimits(settings.db_pool_size, settings.db_max_overflow, settings.db_pool_timeout)
    db = Database(settings.effective_database_url, pool)
    cipher = KeyCipher.from_master_key(master)
    cache = CredentialCache(
        db,
        public_url=settings.public_url,
        cipher=cipher,
        poll=settings.cache_poll_interval,
        flush_every=settings.last_used_flush_interval,
    )
    notice_key = NoticeKey.from_master_key(master)
    notices = Publisher(settings.redis_url, notice_key, local=cache.apply_notice)
    notices.attach(db)
    if settings.redis_url:
        cache.subscriber = Subscriber(settings.redis_url, notice_key, cache.apply_notice)
    limiter = RateLimiter(settings.redis_url, namespace=notice_key.namespace)
    failures = FailureLog(db)
    max_hashes = settings.max_password_hashes or os.cpu_count() or 1
    return Services(
        settings=settings,
        db=db,
        hasher=cs.SecretHasher.from_master_key(master),
        cipher=cipher,
        cache=cache,
        metrics=Metrics(),
        limiter=limiter,
        notices=notices,
        sign_ins=SignIns(limiter, failures, max_hashes=max_hashes),
        failures=failures,
    )
