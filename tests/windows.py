"""Rate limits and throttles count in fixed windows that start at multiples of their period
(epoch seconds). A test that counts up to a limit and expects the next hit to be refused fails
when a window ends between its hits: the count starts again from zero. Such a test first waits
out the end of the current window if it is near."""

from __future__ import annotations

import time


def wait_for_a_fresh_window(period: int, margin: float = 15.0) -> None:
    """Return at once if more than ``margin`` seconds of the current ``period``-second window
    remain, else sleep until the next window has begun."""
    left = period - time.time() % period
    if left < margin:
        time.sleep(left + 0.05)
