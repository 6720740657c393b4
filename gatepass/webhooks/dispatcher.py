"""Sending due webhooks from a server process: a ``Ticker`` that calls ``deliver_due``.

Every ``GATEPASS_WEBHOOK_INTERVAL`` seconds each server process sends what is due; processes
share the work safely (``delivery.claim``). ``gatepass webhook deliver`` does the same once.
"""

from __future__ import annotations

from gatepass.db import Database
from gatepass.ops.background import Ticker
from gatepass.settings import Settings
from gatepass.webhooks.delivery import deliver_due


class Dispatcher:
    def __init__(self, db: Database, settings: Settings) -> None:
        self.db, self.settings = db, settings
        interval = settings.webhook_interval
        self.ticker = Ticker("gatepass-webhooks", interval, self.send, join_timeout=15)

    def start(self) -> None:
        if self.settings.webhook_interval > 0:
            self.ticker.start()

    def stop(self) -> None:
        self.ticker.stop()

    def send(self) -> None:
        """Send what is due; a full batch may leave more due: send on without waiting."""
        while deliver_due(self.db, self.settings) and not self.ticker.stopping:
            pass
