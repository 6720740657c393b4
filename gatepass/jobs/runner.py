"""Running jobs: the ``Job`` value, one pass over the due jobs, and the server's job thread.

A job is a name, an interval and a function of a ``JobContext`` returning how many things it did
(mails sent, credentials suspended, ...). Each pass takes a job's lease first (``leases``), so a
job runs on one node at a time and once per interval across all of them, whether the nodes run
the thread or cron runs ``gatepass jobs run-once``.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from gatepass.db import Database, utcnow
from gatepass.jobs import leases
from gatepass.ops.background import Ticker
from gatepass.settings import Settings

log = logging.getLogger(__name__)
TICK = 5.0  # seconds between the thread's looks for due jobs


@dataclass(frozen=True)
class JobContext:
    db: Database
    settings: Settings
    now: datetime


@dataclass(frozen=True)
class Job:
    name: str
    interval: int  # seconds between runs, across every node
    run: Callable[[JobContext], int]  # how many things it did
    lease: int = 900  # seconds: longer than a run; a node that dies holding it frees it then


@dataclass(frozen=True)
class Outcome:
    job: str
    did: int | None  # None: it did not run
    result: str  # "done", "failed: ...", "not due", "running elsewhere"


def holder_name() -> str:
    """This process, as lease rows name it: host, process id and a random part."""
    return f"{socket.gethostname()[:100]}:{os.getpid()}:{secrets.token_hex(4)}"


def run_due(
    db: Database, settings: Settings, jobs: Sequence[Job], *, holder: str, force: bool = False
) -> list[Outcome]:
    """Run each job of ``jobs`` that is due (``force``: due or not) and whose lease is free."""
    return [_run_one(db, settings, job, holder=holder, force=force) for job in jobs]


def _run_one(db: Database, settings: Settings, job: Job, *, holder: str, force: bool) -> Outcome:
    due_before = None if force else utcnow() - timedelta(seconds=job.interval)
    lease = timedelta(seconds=job.lease)
    refused = leases.take(db, job.name, holder=holder, lease=lease, due_before=due_before)
    if refused is not None:
        return Outcome(job.name, None, refused.value)
    did, result = None, "failed"
    try:
        did = job.run(JobContext(db=db, settings=settings, now=utcnow()))
        result = "done"
    except Exception as exc:  # a job's failure must not stop the others, nor the thread
        log.exception("job %s failed", job.name)
        result = f"failed: {type(exc).__name__}"
    finally:
        leases.release(db, job.name, holder=holder, result=result)
    return Outcome(job.name, did, result)


class JobRunner:
    """The server's job thread: every ``tick`` seconds, one pass over the due jobs."""

    def __init__(
        self, db: Database, settings: Settings, jobs: Sequence[Job], *, tick: float = TICK
    ) -> None:
        self.db, self.settings, self.jobs = db, settings, tuple(jobs)
        self.holder = holder_name()
        self._ticker = Ticker("gatepass-jobs", tick, self.run_pass)

    def start(self) -> None:
        self._ticker.start()

    def stop(self) -> None:
        self._ticker.stop()

    def run_pass(self) -> list[Outcome]:
        return run_due(self.db, self.settings, self.jobs, holder=self.holder)
