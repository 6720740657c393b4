"""Change notices over Redis pub/sub: every process drops a changed entry within milliseconds.

The change feed in the database (``changes.feed``) stays the record of what changed and is polled
all the time, so a process that misses notices (Redis down, a reconnect, a slow subscriber) is
still at most one poll interval behind. Notices only make the common case faster.

A notice is sent after the transaction that wrote the change commits, never before, so a
process that reloads on receiving it sees the new state. Notices are authenticated with a key
derived from the server secret, and the channel's name is derived from it too, so deployments
sharing one Redis neither hear nor disturb each other.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from gatepass.credential_secrets import derive_key
from gatepass.db import Database

if TYPE_CHECKING:
    import redis

log = logging.getLogger("gatepass.cache")

PENDING = "gatepass.changes"  # Session.info key of the notices a transaction will send
VERSION = "1"
MAC_BYTES = 16
MAX_NOTICE = 400
SEND_TIMEOUT = 0.5  # seconds; a publish never holds a write longer than this
QUIET_AFTER_FAILURE = 1.0  # seconds without publish attempts after one failed
RECONNECT_DELAYS = (0.1, 0.25, 0.5, 1.0, 2.0)


@dataclass(frozen=True, slots=True)
class Notice:
    """One change: the same fields as a row of the change feed."""

    tenant_id: int
    kind: str
    ref: str


@dataclass(frozen=True)
class NoticeKey:
    """The channel name and message key of one deployment (both from the server secret).

    ``namespace`` names the deployment in a shared Redis (it reveals nothing of the secret).
    """

    namespace: str
    mac_key: bytes

    @classmethod
    def from_master_key(cls, master_key: bytes) -> NoticeKey:
        key = derive_key(master_key, b"gatepass change notices v1")
        return cls(namespace=hashlib.sha256(key).hexdigest()[:16], mac_key=key)

    @property
    def channel(self) -> str:
        return f"gatepass:changes:{self.namespace}"

    def encode(self, notice: Notice) -> bytes:
        body = f"{VERSION}|{notice.tenant_id}|{notice.kind}|{notice.ref}".encode()
        return body + b"|" + self._mac(body).encode()

    def decode(self, raw: bytes | str) -> Notice | None:
        """The notice in ``raw``, or ``None`` if it is malformed or not authentic."""
        data = raw.encode() if isinstance(raw, str) else raw
        if len(data) > MAX_NOTICE:
            return None
        body, sep, mac = data.rpartition(b"|")
        if not sep or not hmac.compare_digest(mac, self._mac(body).encode()):
            return None
        try:
            version, tenant, kind, ref = body.decode().split("|", 3)
        except (UnicodeDecodeError, ValueError):
            return None
        if version != VERSION or not tenant.isascii() or not tenant.isdigit() or not kind:
            return None
        return Notice(int(tenant), kind, ref)

    def _mac(self, body: bytes) -> str:
        return hmac.digest(self.mac_key, body, hashlib.sha256)[:MAC_BYTES].hex()


def pending(session: Session) -> list[Notice]:
    """The notices the session's current transaction will send when it commits."""
    notices: list[Notice] = session.info.setdefault(PENDING, [])
    return notices


def _redis(url: str, *, timeout: float | None) -> redis.Redis:
    # Imported only when Redis is configured: it weighs 6.5 MiB in every process.
    import redis  # noqa: PLC0415
    from redis.backoff import NoBackoff  # noqa: PLC0415
    from redis.retry import Retry  # noqa: PLC0415

    return redis.Redis.from_url(
        url,
        socket_connect_timeout=SEND_TIMEOUT,
        socket_timeout=timeout,
        retry=Retry(NoBackoff(), 1),  # one immediate retry replaces a connection Redis closed
        health_check_interval=10,
    )


def _redis_error() -> type[Exception]:
    from redis.exceptions import RedisError  # noqa: PLC0415 - see _redis

    return RedisError


class Publisher:
    """Sends the notices of committed transactions: to Redis, and straight to this process."""

    def __init__(
        self, url: str | None, key: NoticeKey, local: Callable[[Notice], None] | None = None
    ) -> None:
        self.key = key
        self.local = local
        self._redis = _redis(url, timeout=SEND_TIMEOUT) if url else None
        self._quiet_until = 0.0
        self.sent = 0
        self.failed = 0

    def attach(self, db: Database) -> None:
        """Send the notices of every transaction of ``db``'s sessions once it has committed."""
        event.listen(db.sessions, "after_commit", self._after_commit)
        event.listen(db.sessions, "after_soft_rollback", self._after_rollback)

    def _after_commit(self, session: Session) -> None:
        notices = session.info.pop(PENDING, None)
        if notices:
            self.send(notices)

    def _after_rollback(self, session: Session, previous: Any) -> None:
        if not previous.nested:  # a savepoint's rollback leaves the outer transaction's notices
            session.info.pop(PENDING, None)

    def send(self, notices: Iterable[Notice]) -> None:
        unique = list(dict.fromkeys(notices))
        if self.local is not None:
            for notice in unique:
                self.local(notice)
        if self._redis is None or time.monotonic() < self._quiet_until:
            return  # the other processes will read the change feed
        try:
            with self._redis.pipeline(transaction=False) as pipe:
                for notice in unique:
                    pipe.publish(self.key.channel, self.key.encode(notice))
                pipe.execute()
            self.sent += len(unique)
        except _redis_error() as exc:
            self.failed += len(unique)
            self._quiet_until = time.monotonic() + QUIET_AFTER_FAILURE
            log.warning(
                "change notice not sent (the change feed covers it): %s", type(exc).__name__
            )

    def close(self) -> None:
        if self._redis is not None:
            self._redis.close()


class Subscriber:
    """A thread that listens for notices and reconnects to Redis on its own after any failure."""

    def __init__(self, url: str, key: NoticeKey, deliver: Callable[[Notice], None]) -> None:
        self.url = url
        self.key = key
        self.deliver = deliver
        self.connected = threading.Event()
        self.received = 0
        self.rejected = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="gatepass-notices", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        failures = 0
        while not self._stop.is_set():
            try:
                self._listen()
                failures = 0
            except (_redis_error(), OSError) as exc:
                if self.connected.is_set() or failures == 0:
                    log.warning("change notices interrupted, reconnecting: %s", type(exc).__name__)
                self.connected.clear()
                delay = RECONNECT_DELAYS[min(failures, len(RECONNECT_DELAYS) - 1)]
                failures += 1
                self._stop.wait(delay)

    def _listen(self) -> None:
        client = _redis(self.url, timeout=None)
        pubsub = client.pubsub(ignore_subscribe_messages=True)  # type: ignore[no-untyped-call]
        try:
            pubsub.subscribe(self.key.channel)
            if not self.connected.is_set():
                log.info("change notices connected")
            self.connected.set()
            while not self._stop.is_set():
                message = pubsub.get_message(timeout=1.0)
                if message is None or message.get("type") != "message":
                    continue
                notice = self.key.decode(message["data"])
                if notice is None:
                    self.rejected += 1
                    continue
                self.received += 1
                self.deliver(notice)
        finally:
            pubsub.close()
            client.close()
