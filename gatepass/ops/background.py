"""A background thread of a server process that does one piece of work every so often.

The audit failure log, the job runner and webhook delivery each run one. The work is guarded:
an exception (a database outage) is logged by its type, never with its message (which could
hold data), and the thread goes on to the next tick.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)


class Ticker:
    """Calls ``work`` every ``interval`` seconds from a daemon thread, from ``start`` to
    ``stop``; ``stop`` waits up to ``join_timeout`` seconds for a call in progress."""

    def __init__(
        self, name: str, interval: float, work: Callable[[], object], *, join_timeout: float = 5
    ) -> None:
        self.name, self.interval, self.work = name, interval, work
        self.join_timeout = join_timeout
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.join_timeout)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.guarded()

    def guarded(self) -> None:
        """One call of ``work``; a failure is logged and dropped."""
        try:
            self.work()
        except Exception as exc:  # the thread must survive a database outage
            log.warning("%s: %s failed", self.name, type(exc).__name__)
