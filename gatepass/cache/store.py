"""The per-process credential cache and the threads that keep it honest.

Protocol requests read tenants and clients from memory. Two things drop what changed:

- with Redis configured, a notice sent after each committed change (``changes.bus``) reaches
  every process within milliseconds;
- always, a background thread polls the change feed every ``cache_poll_interval`` seconds, so a
  change is honoured by every process within about that interval even when notices are lost
  (Redis down or restarting).

If the database cannot be polled for ``STALE_AFTER`` seconds, cached entries stop being trusted
and every request goes back to the database (which then answers 503 while it is down), rather
than serving credentials that may have been revoked meanwhile.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import func, select, update

from gatepass.apikeys.models import ApiKey, ApiKeySecret
from gatepass.apikeys.verification import ApiKeyEntry, load_secret_state
from gatepass.apikeys.verification import load_entry as load_api_key
from gatepass.cache.barrier import MissRate, ReadBarrier
from gatepass.cache.entries import NO_CLIENT, ClientEntry, TenantEntry, load_client, load_tenant
from gatepass.cache.key_filter import KeyFilter, digests_of
from gatepass.changes import feed
from gatepass.changes.bus import Notice, Subscriber
from gatepass.changes.models import Change
from gatepass.clients.models import ClientSecret, OAuthClient
from gatepass.db import Database, utcnow
from gatepass.signing_keys.material import KeyCipher
from gatepass.tenants.models import Tenant
from gatepass.tokens.models import RevokedToken

log = logging.getLogger("gatepass.cache")

STALE_AFTER = 5.0
NEWEST_CHANGE = select(func.max(Change.id))
TENANT_TTL = 60.0
MAX_CLIENTS = 200_000
# Client IDs known not to exist, kept apart so that a flood of made-up IDs cannot push real
# clients out of the cache (a created client's change notice drops its ID from here).
MAX_UNKNOWN_CLIENTS = 50_000
GAP_PATIENCE = 10.0
# Tenants loaded (signing keys opened) before a process takes its first request.
WARM_TENANTS = 100
LAST_USED_RESOLUTION = 60.0
# A token revoked by a notice is remembered this long until the feed gives its real expiry.
NOTICE_TOKEN_TTL = 86400.0
# Misses of the key filter a second that make a process "flooded" (a made-up key an attempt):
# it then answers them from the filter as it was at the last feed read, if that read began at
# most FLOOD_TRUST seconds ago, and starts a read every FLOOD_REFRESH seconds in the background.
# A key committed by another process during a flood may so be NOT_FOUND for about FLOOD_REFRESH
# seconds there (never on the process that created it, which learns it before answering).
FLOOD_MISSES = 50
FLOOD_REFRESH = 0.02
FLOOD_TRUST = 0.1

K = TypeVar("K")
V = TypeVar("V")


class _Slots(Generic[K, V]):
    """A dict of cached values whose loads cannot resurrect an entry invalidated meanwhile."""

    def __init__(self, limit: int) -> None:
        self.values: dict[K, tuple[V, float]] = {}
        self.invalidated: dict[K, int] = {}
        self.counter = 0
        self.floor = 0
        self.limit = limit

    def get(self, key: K, fresh_after: float) -> tuple[bool, V | None]:
        hit = self.values.get(key)
        if hit is None or hit[1] < fresh_after:
            return False, None
        return True, hit[0]

    def put(self, key: K, value: V, started: int) -> None:
        if started < self.floor or self.invalidated.get(key, -1) > started:
            return  # changed while we were loading: the next request loads again
        if len(self.values) >= self.limit:
            self.values.pop(next(iter(self.values)))
        self.values[key] = (value, time.monotonic())

    def invalidate(self, key: K) -> None:
        # Mark first, then drop: a load finishing in between is either refused by the mark or
        # stored and then dropped (loads run in other threads than invalidations).
        self.counter += 1
        self.invalidated[key] = self.counter
        self.values.pop(key, None)
        if len(self.invalidated) > self.limit:
            self.invalidated.clear()
            self.floor = self.counter

    def cancel_loads(self) -> None:
        """Loads that started before now will not be stored (their data may be stale)."""
        self.counter += 1
        self.floor = self.counter

    def clear(self) -> None:
        self.counter += 1
        self.floor = self.counter
        self.values.clear()


class _UseLog:
    """Last uses of one kind of secret, to be written in a batch: at most one per minute each."""

    def __init__(self, secret_model: Any, owner_model: Any) -> None:
        self.secret_model = secret_model
        self.owner_model = owner_model
        self.pending: dict[int, tuple[int, float]] = {}
        self.recorded: dict[int, float] = {}

    def note(self, owner_pk: int, secret_id: int | None, now: float) -> None:
        """``secret_id`` None: the owner authenticated without a secret (a client's keys)."""
        slot = secret_id if secret_id is not None else -owner_pk  # row ids are positive
        if now - self.recorded.get(slot, 0.0) >= LAST_USED_RESOLUTION:
            self.recorded[slot] = now
            self.pending[slot] = (owner_pk, now)

    def write(self, session: Any) -> None:
        pending, self.pending = self.pending, {}
        for slot, (owner_pk, at) in pending.items():
            when = datetime.fromtimestamp(at, tz=UTC)
            secret, owner = self.secret_model, self.owner_model
            if slot > 0:
                session.execute(update(secret).where(secret.id == slot).values(last_used_at=when))
            session.execute(update(owner).where(owner.id == owner_pk).values(last_used_at=when))


class CredentialCache:
    def __init__(
        self,
        db: Database,
        *,
        public_url: str,
        cipher: KeyCipher,
        poll: float,
        flush_every: float = 15.0,
    ) -> None:
        self.db = db
        self.public_url = public_url
        self.cipher = cipher
        self.poll = poll
        self.flush_every = flush_every  # seconds between writes of last-use times
        self.tenants: _Slots[str, TenantEntry | None] = _Slots(10_000)
        self.clients: _Slots[tuple[int, str], ClientEntry] = _Slots(MAX_CLIENTS)
        self.unknown_clients: _Slots[tuple[int, str], None] = _Slots(MAX_UNKNOWN_CLIENTS)
        self.api_keys: _Slots[tuple[int, bytes], ApiKeyEntry | None] = _Slots(MAX_CLIENTS)
        self._digests: dict[tuple[int, str], set[bytes]] = {}
        # (tenant, key ID, secret ID) -> that secret's key: for tokens got by exchanging it
        self.key_secrets: _Slots[tuple[int, str, int], ApiKeyEntry | None] = _Slots(MAX_CLIENTS)
        self.key_filter = KeyFilter()
        self.revoked_jtis: dict[str, float] = {}
        self.last_poll_ok = time.monotonic()
        self._last_id = 0
        self._gaps: dict[int, float] = {}
        self._client_uses = _UseLog(ClientSecret, OAuthClient)
        self._key_uses = _UseLog(ApiKeySecret, ApiKey)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._sync = threading.RLock()  # one feed read at a time
        self._changes = threading.Lock()  # the poll thread and the notice thread both invalidate
        self.subscriber: Subscriber | None = None
        self._barrier: ReadBarrier | None = None  # made on the event loop that uses it
        self._misses = MissRate(FLOOD_MISSES)

    # -- reads (event loop thread) -------------------------------------------------------

    def _trusted_since(self) -> float:
        """Entries loaded before this moment are not trusted (polling has been failing)."""
        if time.monotonic() - self.last_poll_ok > STALE_AFTER:
            return float("inf")
        return 0.0

    def cached_tenant(self, slug: str) -> tuple[bool, TenantEntry | None]:
        hit, entry = self.tenants.get(
            slug, max(self._trusted_since(), time.monotonic() - TENANT_TTL)
        )
        expiry = entry.next_key_expiry if entry is not None else None
        if expiry is not None and expiry <= time.time():
            return False, None  # a retired key must leave the JWKS
        return hit, entry

    def cached_client(self, tenant_id: int, client_id: str) -> tuple[bool, ClientEntry | None]:
        """Whether the client's snapshot is cached, and it; a cached ``None``: no such client."""
        key, trusted = (tenant_id, client_id), self._trusted_since()
        hit, entry = self.clients.get(key, trusted)
        if hit:
            return hit, entry
        return self.unknown_clients.get(key, trusted)

    # -- loads (worker threads) ----------------------------------------------------------

    def load_tenant(self, slug: str) -> TenantEntry | None:
        started = self.tenants.counter
        with self.db.read() as session:
            entry = load_tenant(session, slug, public_url=self.public_url, cipher=self.cipher)
        self.tenants.put(slug, entry, started)
        return entry

    def load_client(self, tenant_id: int, client_id: str) -> ClientEntry | None:
        started, started_unknown = self.clients.counter, self.unknown_clients.counter
        with self.db.read() as session:
            entry = load_client(session, tenant_id, client_id)
        if entry is None:
            self.unknown_clients.put((tenant_id, client_id), None, started_unknown)
        else:
            self.clients.put((tenant_id, client_id), entry, started)
        return entry

    def cached_api_key(self, tenant_id: int, digest: bytes) -> tuple[bool, ApiKeyEntry | None]:
        """A cached snapshot; a cached ``None`` also for a digest no stored secret has."""
        return self.api_keys.get((tenant_id, digest), self._trusted_since())

    async def surely_absent(self, digest: bytes) -> bool:
        """No stored secret has this digest: the filter says so after a feed read begun after
        this call (shared with every miss waiting meanwhile; see ``gatepass.cache.barrier``). A key
        committed anywhere before the call has its change row committed with it, so that read
        teaches the filter its digest. While misses flood in, the last read serves if it began
        less than ``FLOOD_TRUST`` seconds ago (see ``FLOOD_MISSES``).
        False also when the filter or the read cannot tell: the caller then looks the digest up."""
        if self.key_filter.may_exist(digest) or self._trusted_since() > 0.0:
            return False
        loop = asyncio.get_running_loop()
        if self._barrier is None or self._barrier.loop is not loop:
            self._barrier = ReadBarrier(self.catch_up, loop)
        barrier = self._barrier
        now = time.monotonic()
        if self._misses.note(now) and now - barrier.current_as_of < FLOOD_TRUST:
            if now - barrier.current_as_of >= FLOOD_REFRESH:
                barrier.refresh()
            return True
        return await barrier.wait() and not self.key_filter.may_exist(digest)

    def load_api_key(self, tenant_id: int, digest: bytes) -> ApiKeyEntry | None:
        started = self.api_keys.counter
        with self.db.read() as session:
            entry = load_api_key(session, tenant_id, digest)
        if len(self._digests) >= MAX_CLIENTS:  # keep the key-id index bounded with the cache
            self._digests.clear()
            self.api_keys.clear()
        if entry is not None:
            self._digests.setdefault((tenant_id, entry.key_id), set()).add(digest)
        self.api_keys.put((tenant_id, digest), entry, started)
        return entry

    def cached_key_secret(
        self, tenant_id: int, key_id: str, secret_id: int
    ) -> tuple[bool, ApiKeyEntry | None]:
        return self.key_secrets.get((tenant_id, key_id, secret_id), self._trusted_since())

    def load_key_secret(self, tenant_id: int, key_id: str, secret_id: int) -> ApiKeyEntry | None:
        started = self.key_secrets.counter
        with self.db.read() as session:
            entry = load_secret_state(session, tenant_id, key_id, secret_id)
        self.key_secrets.put((tenant_id, key_id, secret_id), entry, started)
        return entry

    def note_key_use(self, key_pk: int, secret_id: int, now: float) -> None:
        self._key_uses.note(key_pk, secret_id, now)

    def is_revoked(self, jti: str) -> bool:
        return jti in self.revoked_jtis

    def mark_revoked(self, jti: str, expires_at: float) -> None:
        self.revoked_jtis[jti] = expires_at

    def note_use(self, client_pk: int, secret_id: int | None, now: float) -> None:
        """Remember a use; written to the database in batches, at most once a minute per secret
        (``secret_id`` None: per client, for a client authenticated with its keys)."""
        self._client_uses.note(client_pk, secret_id, now)

    # -- the background thread -----------------------------------------------------------

    def start(self) -> None:
        self._prime()
        self._thread = threading.Thread(target=self._run, name="gatepass-cache", daemon=True)
        self._thread.start()
        if self.subscriber is not None:
            self.subscriber.start()

    def stop(self) -> None:
        self._stop.set()
        if self.subscriber is not None:
            self.subscriber.stop()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._guard(self.flush_uses)

    def _prime(self) -> None:
        def prime() -> None:
            with self.db.read() as session:
                self._last_id = feed.newest_id(session)
                self._load_revoked(session)
                self.key_filter.load(session)  # after newest_id: later keys come by the feed
            self.last_poll_ok = time.monotonic()

        self._guard(prime)

    def warm(self) -> None:
        """Do before the first request what would otherwise make it slow: load the first
        ``WARM_TENANTS`` tenants (opening their signing keys, and signing once), and run each
        lookup of the protocol path once, on keys no row has, so that its SQL is compiled.
        A database that fails here only leaves the first requests to do it."""

        def warm() -> None:
            with self.db.read() as session:
                slugs = session.scalars(
                    select(Tenant.slug).order_by(Tenant.id).limit(WARM_TENANTS)
                ).all()
                load_client(session, NO_CLIENT, "")
                load_api_key(session, NO_CLIENT, b"")
            for slug in slugs:
                entry = self.load_tenant(slug)
                if entry is not None:
                    entry.signer.sign({})

        self._guard(warm)

    def _run(self) -> None:
        next_flush = time.monotonic() + self.flush_every
        next_prune = time.monotonic() + 600.0
        while not self._stop.wait(self.poll):
            self._guard(self.catch_up)
            now = time.monotonic()
            if now >= next_flush:
                next_flush = now + self.flush_every
                self._guard(self.flush_uses)
            if now >= next_prune:
                next_prune = now + 600.0
                self._guard(self._prune)

    def _guard(self, work: Callable[[], Any]) -> None:
        try:
            work()
        except Exception as exc:  # the thread must survive a database outage
            log.warning("cache maintenance failed: %s", type(exc).__name__)

    def catch_up(self) -> None:
        """A feed read, every ``poll`` seconds and for the misses of the key filter: when no
        change was committed since the last read (and none it saw missing is pending), one
        indexed query on a bare connection says so (~0.05 ms); otherwise the full poll, whose ORM
        session and query cost ~0.5 ms of CPU taken from the event loop."""
        with self._sync:
            if not self._gaps and self.key_filter.ready:
                with self.db.engine.connect() as connection:
                    newest = connection.execute(NEWEST_CHANGE).scalar() or 0
                if newest <= self._last_id:
                    self.last_poll_ok = time.monotonic()
                    return
            self._poll()

    def poll_once(self) -> None:
        with self._sync:
            self._poll()

    def _poll(self) -> None:
        now = time.monotonic()
        self._gaps = {i: t for i, t in self._gaps.items() if now - t < GAP_PATIENCE}
        with self.db.read() as session:
            rows = feed.read_since(session, self._last_id, tuple(self._gaps))
            expiries = self._token_expiries(session, rows)
            self.key_filter.add(digests_of(session, _new_key_refs(rows)))
        if not self.key_filter.ready:
            with self.db.read() as session:
                self.key_filter.load(session)
        with self._changes:
            for row in rows:
                self._invalidate(row.tenant_id, row.kind, row.ref, expiries.get(row.ref))
        self._advance([r.id for r in rows], now)
        self.last_poll_ok = time.monotonic()

    def apply_notice(self, notice: Notice) -> None:
        """Drop what a change notice names (from Redis, or from a commit in this process)."""
        self._learn_key(notice)
        with self._changes:
            self._invalidate(
                notice.tenant_id, notice.kind, notice.ref, time.time() + NOTICE_TOKEN_TTL
            )

    def _learn_key(self, notice: Notice) -> None:
        """A created or regenerated key's digests join the filter before its creator answers."""
        refs = _new_key_refs([notice])
        if not refs:
            return
        try:
            with self.db.read() as session:
                self.key_filter.add(digests_of(session, refs))
        except Exception as exc:  # the poll thread reloads the whole filter
            self.key_filter.fail()
            log.warning("key filter update failed: %s", type(exc).__name__)

    def _advance(self, ids: list[int], now: float) -> None:
        for change_id in ids:
            self._gaps.pop(change_id, None)
            if change_id > self._last_id:
                for missing in range(self._last_id + 1, change_id):
                    self._gaps.setdefault(missing, now)
                self._last_id = change_id

    @staticmethod
    def _token_expiries(session: Any, rows: list[feed.ChangeRow]) -> dict[str, float]:
        jtis = [row.ref for row in rows if row.kind == feed.KIND_TOKEN]
        if not jtis:
            return {}
        found = session.execute(
            select(RevokedToken.jti, RevokedToken.expires_at).where(RevokedToken.jti.in_(jtis))
        )
        return {jti: expires.timestamp() for jti, expires in found}

    def _invalidate(self, tenant_id: int, kind: str, ref: str, expires: float | None) -> None:
        if kind == feed.KIND_CLIENT and ref == feed.EVERY:
            self.clients.cancel_loads()
            self.unknown_clients.cancel_loads()
            for key in [k for k in list(self.clients.values) if k[0] == tenant_id]:
                self.clients.invalidate(key)
        elif kind == feed.KIND_CLIENT:
            self.clients.invalidate((tenant_id, ref))
            self.unknown_clients.invalidate((tenant_id, ref))
        elif kind == feed.KIND_APIKEY:
            self._invalidate_key(tenant_id, ref)
        elif kind == feed.KIND_TOKEN:
            if expires is not None:
                self.mark_revoked(ref, expires)
        else:
            for slug, (entry, _) in list(self.tenants.values.items()):
                if entry is None or entry.id == tenant_id:
                    self.tenants.invalidate(slug)

    def _invalidate_key(self, tenant_id: int, ref: str) -> None:
        # Loads still in flight were never recorded under the key id: cancel them all.
        self.api_keys.cancel_loads()
        named = [(tenant_id, ref)]
        if ref == feed.EVERY:
            named = [k for k in list(self._digests) if k[0] == tenant_id]
        for key_id in named:
            for digest in self._digests.pop(key_id, ()):
                self.api_keys.invalidate((tenant_id, digest))
        self.key_secrets.cancel_loads()
        for slot in [k for k in list(self.key_secrets.values) if k[0] == tenant_id]:
            if ref in (feed.EVERY, slot[1]):
                self.key_secrets.invalidate(slot)

    def _load_revoked(self, session: Any) -> None:
        rows = session.execute(
            select(RevokedToken.jti, RevokedToken.expires_at).where(
                RevokedToken.expires_at > utcnow()
            )
        )
        for jti, expires in rows:
            self.mark_revoked(jti, expires.timestamp())

    def flush_uses(self) -> None:
        logs = (self._client_uses, self._key_uses)
        if not any(log.pending for log in logs):
            return
        with self.db.transaction() as session:
            for use_log in logs:
                use_log.write(session)

    def _prune(self) -> None:
        now = time.time()
        self.revoked_jtis = {j: e for j, e in self.revoked_jtis.items() if e > now}
        with self.db.transaction() as session:
            feed.prune(session)


def _new_key_refs(changes: list[Any]) -> list[tuple[int, str]]:
    """(tenant id, key id) of each key a change names: it may have a new secret."""
    return [
        (c.tenant_id, c.ref) for c in changes if c.kind == feed.KIND_APIKEY and c.ref != feed.EVERY
    ]
