"""Sending due webhooks from a server process: a small thread that calls ``deliver_due``.

Every ``GATEPASS_WEBHOOK_INTERVAL`` seconds each server process sends what is due; processes
share the work safely (``delivery.claim``). It is self-contained so that a job runner can call
``deliver_due`` instead.
"""

from __future__ import annotations

import logging
import threading

from gatepass.db import Database
from gatepass.settings import Settings
from gatepass.webhooks.delivery import deliver_due

log = logging.getLogger(__name__)


class Dispatcher:
    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.settings = settings
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self.settings.webhook_interval <= 0:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="gatepass-webhooks", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=15)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.wait(self.settings.webhook_interval):
            try:
                while deliver_due(self.db, self.settings) and not self._stop.is_set():
                    pass  # a full batch may leave more due: send on without waiting
            except Exception as exc:  # the thread must survive a database outage
                log.warning("webhook delivery failed: %s", type(exc).__name__)
