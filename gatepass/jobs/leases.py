"""A lease per job in the database: a node runs a job only while it holds the job's lease.

Taking it is one conditional ``UPDATE`` (the lease is free or has expired, and the job is due),
so of nodes racing for it exactly one changes the row: PostgreSQL re-checks the condition on
the row the winner wrote before it updates (READ COMMITTED), SQLite runs one writer at a time.
The row is made by the first ``INSERT``; a node losing that race gets an ``IntegrityError``.
A lease outlasts a run; it is released when the run ends, or expires if its node died.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import Enum

from sqlalchemy import ColumnElement, or_, select, update
from sqlalchemy.exc import IntegrityError

from gatepass.db import Database, utcnow
from gatepass.jobs.models import JobLease


class Refusal(Enum):
    NOT_DUE = "not due"
    HELD = "running elsewhere"


def take(
    db: Database, name: str, *, holder: str, lease: timedelta, due_before: datetime | None
) -> Refusal | None:
    """Take ``name``'s lease for ``holder`` if it is free and the job last ran before
    ``due_before`` (``None``: whenever it last ran); ``None`` if taken, else why not."""
    now = utcnow()
    with db.transaction() as session:
        row = session.get(JobLease, name)
        if row is not None and row.expires_at > now:
            return Refusal.HELD  # no UPDATE (nor its write lock) on every look at a busy job
        if row is not None:
            taken = session.execute(
                update(JobLease)
                .where(JobLease.name == name, *_free(now, due_before))
                .values(holder=holder, expires_at=now + lease)
                .execution_options(synchronize_session=False)
            )
            if getattr(taken, "rowcount", 0) == 1:
                return None
            session.refresh(row)  # as the winner of a race left it
            return Refusal.HELD if row.expires_at > now else Refusal.NOT_DUE
    return _first(db, name, holder=holder, until=now + lease)


def _free(now: datetime, due_before: datetime | None) -> list[ColumnElement[bool]]:
    where = [JobLease.expires_at <= now]
    if due_before is not None:
        where.append(or_(JobLease.last_run_at.is_(None), JobLease.last_run_at <= due_before))
    return where


def _first(db: Database, name: str, *, holder: str, until: datetime) -> Refusal | None:
    """The job's first lease ever: made here, unless another node made it first."""
    try:
        with db.transaction() as session:
            session.add(JobLease(name=name, holder=holder, expires_at=until))
    except IntegrityError:
        return Refusal.HELD
    return None


def release(db: Database, name: str, *, holder: str, result: str) -> None:
    """End ``holder``'s run: the lease is free, the run recorded (no-op if it was lost)."""
    now = utcnow()
    with db.transaction() as session:
        session.execute(
            update(JobLease)
            .where(JobLease.name == name, JobLease.holder == holder)
            .values(holder="", expires_at=now, last_run_at=now, last_result=result[:200])
            .execution_options(synchronize_session=False)
        )


def all_leases(db: Database) -> dict[str, JobLease]:
    with db.read() as session:
        return {row.name: row for row in session.scalars(select(JobLease))}
