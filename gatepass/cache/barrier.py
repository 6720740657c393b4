"""Misses of the key filter, answered after one shared feed read that began after they arrived.

A made-up key must be as cheap as a real one, yet a key committed by another process a moment
ago must still verify at once. So a key the filter does not know waits, on the event loop, for
a feed read that begins after it arrived: every miss waiting when a read begins is answered when
it ends, and the misses that arrive meanwhile share the next read. A flood of made-up keys then
costs one read (one thread hop, one short query) per batch instead of one per request.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import anyio.to_thread


class ReadBarrier:
    """Shared reads of ``read`` (blocking; run in a worker thread), one at a time."""

    def __init__(self, read: Callable[[], None], loop: asyncio.AbstractEventLoop) -> None:
        self._read = read
        self.loop = loop  # the one event loop whose callers it serves
        self._next: asyncio.Future[bool] | None = None  # the waiters of the read to come
        self._reading = False

    async def wait(self) -> bool:
        """Return once a read that began after this call has ended: True if it succeeded."""
        if self._next is None:
            self._next = self.loop.create_future()
        waiting = self._next
        if not self._reading:
            self._reading = True
            self.loop.create_task(self._run())
        return await asyncio.shield(waiting)

    async def _run(self) -> None:
        try:
            while self._next is not None:
                batch, self._next = self._next, None  # each of these arrived before this read
                try:
                    await anyio.to_thread.run_sync(self._read)
                except Exception:  # the callers fall back to their own lookup
                    batch.set_result(False)
                else:
                    batch.set_result(True)
        finally:
            self._reading = False
