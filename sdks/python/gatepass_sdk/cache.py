"""A small LRU cache whose entries expire: bounded in size and in time, never in process memory
longer than their TTL. Keys are digests, values immutable outcomes.

A lock guards each operation: WSGI servers share one verifier between threads, and the LRU
bookkeeping (``move_to_end``, eviction) is not safe to interleave. Uncontended, it costs tens of
nanoseconds, next to the microseconds of the lookup's hash."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class TtlCache(Generic[K, V]):
    __slots__ = ("_clock", "_entries", "_lock", "max_size")

    def __init__(self, max_size: int, *, clock: Callable[[], float] = time.monotonic) -> None:
        if max_size < 1:
            raise ValueError("max_size must be at least 1")
        self.max_size = max_size
        self._clock = clock
        self._entries: OrderedDict[K, tuple[float, V]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if entry[0] <= self._clock():
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return entry[1]

    def put(self, key: K, value: V, ttl: float) -> None:
        """Keep ``value`` for ``ttl`` seconds; a TTL of zero or less stores nothing."""
        with self._lock:
            self._store(key, value, ttl)

    def _store(self, key: K, value: V, ttl: float) -> None:
        if ttl <= 0:
            self._entries.pop(key, None)
            return
        self._entries[key] = (self._clock() + ttl, value)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_size:
            self._entries.popitem(last=False)

    def add(self, key: K, value: V, ttl: float) -> bool:
        """Keep ``value`` for ``ttl`` seconds unless ``key`` holds a live one: whether it was
        added. One step under the lock, so two threads never both add the same key."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and entry[0] > self._clock():
                return False
            self._store(key, value, ttl)
            return True

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
