"""Misses of the key filter, answered after one shared feed read that began after they arrived.

A made-up key must be as cheap as a real one, yet a key committed by another process a moment
ago must still verify at once. So a key the filter does not know waits, on the event loop, for
a feed read that begins after it arrived: every miss waiting when a read begins is answered when
it ends, and the misses that arrive meanwhile share the next read. A flood of made-up keys then
costs one read (one thread hop, one short query) per batch instead of one per request.

Under a flood even that wait is too dear (it is a database round trip per batch, and a batch is
small when the callers are few and fast), so ``MissRate`` tells the cache when a process is
flooded: it then answers from the filter as of the last read, as long as that read began a
moment ago, and starts the next read in the background (see ``CredentialCache.surely_absent``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import anyio.to_thread


class ReadBarrier:
    """Shared reads of ``read`` (blocking; run in a worker thread), one at a time."""

    def __init__(self, read: Callable[[], None], loop: asyncio.AbstractEventLoop) -> None:
        self._read = read
        self.loop = loop  # the one event loop whose callers it serves
        self._next: asyncio.Future[bool] | None = None  # the waiters of the read to come
        self._reading = False
        # when the last successful read began (monotonic): what was committed before it is known
        self.current_as_of = float("-inf")

    async def wait(self) -> bool:
        """Return once a read that began after this call has ended: True if it succeeded."""
        return await asyncio.shield(self._schedule())

    def refresh(self) -> None:
        """Start a read now unless one is running; nobody waits for it."""
        if not self._reading:
            self._schedule()

    def _schedule(self) -> asyncio.Future[bool]:
        if self._next is None:
            self._next = self.loop.create_future()
        waiting = self._next
        if not self._reading:
            self._reading = True
            self.loop.create_task(self._run())
        return waiting

    async def _run(self) -> None:
        try:
            while self._next is not None:
                batch, self._next = self._next, None  # each of these arrived before this read
                began = time.monotonic()
                try:
                    await anyio.to_thread.run_sync(self._read)
                except Exception:  # the callers fall back to their own lookup
                    batch.set_result(False)
                else:
                    self.current_as_of = max(self.current_as_of, began)
                    batch.set_result(True)
        finally:
            self._reading = False


class MissRate:
    """Whether at least ``limit`` misses arrived within the current or the previous second."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._start = float("-inf")
        self._count = 0
        self._previous = 0

    def note(self, now: float) -> bool:
        """Count one miss at ``now`` (monotonic seconds); True while the process is flooded."""
        elapsed = now - self._start
        if elapsed >= 1.0:
            self._previous = self._count if elapsed < 2.0 else 0
            self._start, self._count = now, 0
        self._count += 1
        return max(self._count, self._previous) >= self.limit
