"""Old webhook messages are forgotten with their delivery log, once ended and past the
retention; pending ones and recent ones are kept."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from gatepass.db import utcnow
from gatepass.jobs.runner import JobContext
from gatepass.settings import Settings
from gatepass.webhooks import retention
from gatepass.webhooks.models import WebhookAttempt, WebhookMessage
from tests.factories import Factory
from tests.webhooks.receiver import Receiver
from tests.webhooks.support import add_endpoint, attempts_of, deliver, in_acme, messages
from tests.webhooks.test_delivery import make_key


def age(factory: Factory, message_pk: int, *, days: int, status: str) -> None:
    with factory.db.transaction() as session:
        session.execute(
            update(WebhookMessage)
            .where(WebhookMessage.id == message_pk)
            .values(occurred_at=utcnow() - timedelta(days=days), status=status)
        )


def test_ended_messages_past_the_retention_go_with_their_log(
    acme: Factory, local_settings: Settings, receiver: Receiver
) -> None:
    add_endpoint(acme, receiver.url)
    for name in ("old-delivered", "old-failed", "old-pending", "recent", "at-the-edge"):
        make_key(acme, name)
    assert deliver(acme, local_settings) == 5
    old_delivered, old_failed, old_pending, recent, edge = (m.id for m in messages(acme))
    age(acme, old_delivered, days=31, status="delivered")
    age(acme, old_failed, days=40, status="failed")
    age(acme, old_pending, days=90, status="pending")  # a disabled endpoint's: still owed
    age(acme, edge, days=29, status="delivered")
    ctx = JobContext(db=acme.db, settings=local_settings, now=utcnow())

    assert retention.run(ctx) == 2
    assert retention.run(ctx) == 0

    assert [m.id for m in messages(acme)] == [old_pending, recent, edge]
    assert attempts_of(acme, old_delivered) == []
    assert len(attempts_of(acme, recent)) == 1
    with in_acme(acme) as (session, _):
        logged = set(session.scalars(select(WebhookAttempt.message_pk)))
    assert logged == {old_pending, recent, edge}


def test_the_retention_is_a_setting(
    acme: Factory, local_settings: Settings, receiver: Receiver
) -> None:
    add_endpoint(acme, receiver.url)
    make_key(acme, "week-old")
    deliver(acme, local_settings)
    [message] = messages(acme)
    age(acme, message.id, days=8, status="delivered")
    keep_a_week = local_settings.model_copy(update={"webhook_retention_days": 7})

    assert retention.run(JobContext(db=acme.db, settings=local_settings, now=utcnow())) == 0
    assert retention.run(JobContext(db=acme.db, settings=keep_a_week, now=utcnow())) == 1
