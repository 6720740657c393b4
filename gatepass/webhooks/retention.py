"""Forgetting old webhook messages: those delivered or given up on more than
``GATEPASS_WEBHOOK_RETENTION_DAYS`` ago, with their delivery log. A pending message is never
forgotten, however old (a disabled endpoint's wait for it to be enabled again).

A background job (``gatepass.schedule``), hourly, a bounded batch per run so a run stays short.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, select

from gatepass.jobs.runner import JobContext
from gatepass.webhooks.models import WebhookAttempt, WebhookMessage

NAME = "webhooks.retention"
INTERVAL = 3600
BATCH = 5_000  # messages per run: a backlog goes over the next runs
ENDED = ("delivered", "failed")


def run(ctx: JobContext) -> int:
    """Delete a batch of ended messages older than the retention; how many."""
    cutoff = ctx.now - timedelta(days=ctx.settings.webhook_retention_days)
    with ctx.db.transaction() as session:
        ids = list(
            session.scalars(
                select(WebhookMessage.id)
                .where(WebhookMessage.status.in_(ENDED), WebhookMessage.occurred_at < cutoff)
                .order_by(WebhookMessage.id)
                .limit(BATCH)
            )
        )
        if ids:
            session.execute(delete(WebhookAttempt).where(WebhookAttempt.message_pk.in_(ids)))
            session.execute(delete(WebhookMessage).where(WebhookMessage.id.in_(ids)))
    return len(ids)
