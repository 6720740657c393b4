"""Checking console passwords (``gatepass.users.passwords``): never inside a database
transaction, a few at a time.

A password check is deliberately slow (tens of milliseconds of CPU and memory). Run inside a
transaction it would hold a pooled connection for that long, so a burst of sign-ins could starve
every other request of connections; run without a bound it would starve them of CPU. So the
callers read the stored hash in a short transaction and close it, take a slot here, check, give
the slot back, and write in a second short transaction. A sign-in that finds every slot taken is
refused at once rather than queued: a queue would only turn a burst into a longer outage.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager


class HashSlots:
    """How many password checks this process runs at once (threads, not the event loop)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._free = threading.BoundedSemaphore(size)

    def all_taken(self) -> bool:
        """Whether a check starting now would find no slot free (one may free meanwhile)."""
        if self._free.acquire(blocking=False):
            self._free.release()
            return False
        return True

    @contextmanager
    def slot(self) -> Iterator[bool]:
        """Take a slot if one is free at once (yields True), else yields False; never waits."""
        taken = self._free.acquire(blocking=False)
        try:
            yield taken
        finally:
            if taken:
                self._free.release()
