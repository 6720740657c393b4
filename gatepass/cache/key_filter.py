"""Which API-key digests exist: a made-up key is answered NOT_FOUND without a database query.

Each process holds the first 8 bytes of every secret's digest, sorted in an ``array`` (8 bytes
a key: about 8 MB at 1M keys), loaded at start-up in digest order through the unique index,
streamed in batches. Secrets created later are added from the change feed and its notices
(``cache.store``). A prefix shared with a real key is a false positive: the lookup then goes
to the database as before, so the filter can only save queries, never refuse a real key,
as long as it is ``ready``; until it is, every lookup goes to the database.
"""

from __future__ import annotations

import threading
from array import array
from bisect import bisect_left
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from gatepass.apikeys.models import ApiKey, ApiKeySecret

PREFIX = 8
BATCH = 20_000


def prefix(digest: bytes) -> int:
    return int.from_bytes(digest[:PREFIX], "big")


class KeyFilter:
    def __init__(self) -> None:
        self.sorted: array[int] = array("Q")
        self.added: set[int] = set()
        self.ready = False
        self._lock = threading.Lock()

    def may_exist(self, digest: bytes) -> bool:
        """False only when no stored secret has this digest (and the filter is ready)."""
        if not self.ready:
            return True
        value = prefix(digest)
        if value in self.added:
            return True
        values = self.sorted
        i = bisect_left(values, value)
        return i < len(values) and values[i] == value

    def add(self, digests: Iterable[bytes]) -> None:
        with self._lock:
            self.added.update(prefix(d) for d in digests)

    def fail(self) -> None:
        """A change could not be learnt: trust nothing until the next full load."""
        self.ready = False

    def load(self, session: Session) -> None:
        """Every stored digest, streamed in index order; additions made meanwhile are kept."""
        values: array[int] = array("Q")
        rows = session.execute(
            select(ApiKeySecret.digest)
            .order_by(ApiKeySecret.digest)
            .execution_options(yield_per=BATCH)
        )
        for (digest,) in rows:
            values.append(prefix(digest))
        self.sorted = values
        self.ready = True


def digests_of(session: Session, refs: Iterable[tuple[int, str]]) -> list[bytes]:
    """The digests of every secret of the named keys ((tenant id, key id) pairs)."""
    found: list[bytes] = []
    by_tenant: dict[int, list[str]] = {}
    for tenant_id, key_id in refs:
        by_tenant.setdefault(tenant_id, []).append(key_id)
    for tenant_id, key_ids in by_tenant.items():
        found += session.scalars(
            select(ApiKeySecret.digest)
            .join(ApiKey, ApiKey.id == ApiKeySecret.key_pk)
            .where(ApiKey.tenant_id == tenant_id, ApiKey.key_id.in_(key_ids))
        )
    return found
