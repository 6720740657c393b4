"""Failed calls, counted in memory and written to the audit log about once a second.

A flood of failures (a wrong bearer token, a guessed password, a forged CSRF header) must not cost
a database write per request. The first failure of its row (see ``aggregate_key``) in this process
is written at once, so an operator sees it without delay; repeats of the same row are only counted
here, and a background thread adds the counts to the row every ``interval`` seconds (and on stop).
A row is per minute, so this process forgets a key once its minute has passed and been flushed.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from gatepass.audit.service import Actor, aggregate_key, record_failure
from gatepass.db import Database, utcnow
from gatepass.ops.background import Ticker

log = logging.getLogger(__name__)


@dataclass
class _Row:
    tenant_id: int
    actor: Actor
    action: str
    reason: str
    target_type: str
    target: str
    details: dict[str, Any]
    minute: str
    pending: int = 0  # failures counted here and not yet written


class FailureLog:
    def __init__(self, db: Database, *, interval: float = 1.0) -> None:
        self.db = db
        self.interval = interval
        self._rows: dict[str, _Row] = {}
        self._lock = threading.Lock()
        # one flush at a time, so that when flush() returns every count held before the call
        # is committed, even the ones a flush running meanwhile (the timer's) had taken
        self._flushing = threading.Lock()
        self._ticker = Ticker("gatepass-audit", interval, self.flush)

    def record(
        self,
        *,
        tenant_id: int,
        actor: Actor,
        action: str,
        reason: str,
        target_type: str = "",
        target: str = "",
        details: dict[str, Any] | None = None,
    ) -> None:
        """Count one failure; blocking (call it off the event loop). Writes only the first of a
        row's failures in this process; a database error there propagates to the caller."""
        now = utcnow()
        key = aggregate_key(tenant_id, actor, action, reason, now)
        with self._lock:
            row = self._rows.get(key)
            if row is not None:
                row.pending += 1
                return
            row = _Row(
                tenant_id, actor, action, reason, target_type, target, details or {}, _minute(now)
            )
            self._rows[key] = row
        try:
            with self.db.transaction() as session:
                self._write(session, row, 1)
        except BaseException:
            with self._lock:  # not written: the next failure of this row tries again
                if self._rows.get(key) is row:
                    del self._rows[key]
                    pending = row.pending
                else:
                    pending = 0
            if pending:
                log.warning("audit: %d failure(s) not counted", pending)
            raise

    def flush(self) -> None:
        """Write every count held here, and forget rows whose minute has passed."""
        with self._flushing:
            self._flush()

    def _flush(self) -> None:
        current = _minute(utcnow())
        with self._lock:
            due = [(row, row.pending) for row in self._rows.values() if row.pending]
            for row, _ in due:
                row.pending = 0
            for key in [k for k, row in self._rows.items() if row.minute < current]:
                del self._rows[key]
        if not due:
            return
        try:
            with self.db.transaction() as session:
                for row, count in due:
                    self._write(session, row, count)
        except Exception:
            with self._lock:  # keep the counts for the next try if their rows are still here
                lost = 0
                present = {id(kept) for kept in self._rows.values()}
                for row, count in due:
                    if id(row) in present:
                        row.pending += count
                    else:
                        lost += count
            if lost:
                log.warning("audit: %d failure(s) not counted", lost)
            raise

    @staticmethod
    def _write(session: Any, row: _Row, count: int) -> None:
        record_failure(
            session,
            tenant_id=row.tenant_id,
            actor=row.actor,
            action=row.action,
            reason=row.reason,
            target_type=row.target_type,
            target=row.target,
            details=row.details,
            count=count,
            minute=row.minute,
        )

    # -- the background thread -----------------------------------------------------------

    def start(self) -> None:
        self._ticker.start()

    def stop(self) -> None:
        self._ticker.stop()
        self._ticker.guarded()  # what was counted since the last tick


def _minute(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M")
