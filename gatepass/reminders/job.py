"""The reminder job: every notice due in every tenant, told (``service.deliver``)."""

from __future__ import annotations

import logging

from sqlalchemy import select

from gatepass.jobs.runner import JobContext
from gatepass.reminders import service
from gatepass.reminders.notices import Notice
from gatepass.tenants.models import Tenant

log = logging.getLogger(__name__)
NAME = "credentials.reminders"
INTERVAL = 3600  # seconds
# Things done in one run, at most: a mail takes some 15-35 ms (a connection each), so a run stays
# well inside its lease (15 minutes); what is left is told on the next run.
MAX_PER_RUN = 5000


def run(ctx: JobContext) -> int:
    return tell(ctx, due(ctx), limit=MAX_PER_RUN)


def tell(ctx: JobContext, notices: list[Notice], *, limit: int) -> int:
    """Tell ``notices`` until ``limit`` things are done; one that fails is logged and tried
    again next run."""
    did = 0
    for notice in notices:
        if did >= limit:
            log.info("reminders: %d done, the rest waits for the next run", did)
            break
        try:
            did += service.deliver(ctx.db, ctx.settings, notice)
        except Exception as exc:  # one credential's trouble must not stop the others
            log.warning("reminders: %s %s: %s", notice.kind, notice.ref, type(exc).__name__)
    return did


def due(ctx: JobContext) -> list[Notice]:
    with ctx.db.read() as session:
        tenants = list(session.scalars(select(Tenant).order_by(Tenant.id)))
        return [n for t in tenants for n in service.due_notices(session, t, ctx.now)]
