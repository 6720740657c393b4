"""Emailed one-time links, at the service: sealed, found by a keyed hash, opened once, expiring."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import event, select, update

from gatepass.audit.models import AuditEvent
from gatepass.audit.service import Actor
from gatepass.db import utcnow
from gatepass.deliveries import service as deliveries
from gatepass.deliveries.models import SecretDelivery
from gatepass.errors import InvalidInputError
from gatepass.settings import Settings
from gatepass.tenants import service as tenants
from tests.factories import Factory

SECRET = "gpk_thesecretitself0123456789abcdef"
SENDER = Actor(kind="user", id="ada@example.com", source_ip="10.0.0.1")
OPENER = Actor(kind="recipient", id="", source_ip="10.0.0.2", user_agent="Mail client")


@pytest.fixture
def keys(settings: Settings) -> deliveries.DeliveryKeys:
    return deliveries.DeliveryKeys.from_master_key(settings.master_key())


def make(factory: Factory, keys: deliveries.DeliveryKeys, **changes: object) -> deliveries.Link:
    factory.tenant("acme")
    options: dict[str, object] = {
        "recipient": "Lee@Partner.example",
        "target_type": "api_key",
        "target": "ak_0123456789abcdef",
        "payload": {"kind": "api_key", "name": "Feed", "secret": SECRET},
        "lifetime": timedelta(hours=1),
        **changes,
    }
    with factory.db.transaction() as session:
        return deliveries.create_delivery(
            session,
            tenants.get_tenant(session, "acme"),
            actor=SENDER,
            keys=keys,
            **options,  # type: ignore[arg-type]
        )


def open_(factory: Factory, keys: deliveries.DeliveryKeys, token: str) -> deliveries.Opened | None:
    with factory.db.transaction() as session:
        return deliveries.open_delivery(session, token, keys=keys, actor=OPENER)


def stored(factory: Factory) -> SecretDelivery:
    with factory.db.read() as session:
        row = session.scalars(select(SecretDelivery)).one()
        session.expunge(row)
        return row


def test_the_store_holds_neither_the_secret_nor_the_token(
    factory: Factory, keys: deliveries.DeliveryKeys
) -> None:
    link = make(factory, keys)
    row = stored(factory)
    assert row.sealed is not None
    assert SECRET.encode() not in row.sealed
    assert link.token.encode() not in row.link_digest
    assert row.recipient == "lee@partner.example"
    with factory.db.read() as session:
        events = session.scalars(select(AuditEvent).where(AuditEvent.action.like("apikey.%"))).all()
    assert [e.action for e in events] == ["apikey.email"]
    assert SECRET not in repr(events[0].details)
    assert link.token not in repr(events[0].details)


def test_a_link_opens_once(factory: Factory, keys: deliveries.DeliveryKeys) -> None:
    link = make(factory, keys)
    opened = open_(factory, keys, link.token)
    assert opened is not None
    assert opened.payload["secret"] == SECRET
    assert opened.tenant_slug == "acme"
    assert open_(factory, keys, link.token) is None
    row = stored(factory)
    assert row.sealed is None
    assert row.opened_at is not None
    with factory.db.read() as session:
        opened_event = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "apikey.email_opened")
        ).one()
    assert (opened_event.actor_type, opened_event.actor) == ("recipient", "lee@partner.example")
    assert opened_event.source_ip == "10.0.0.2"


@pytest.mark.parametrize("token", ["", "short", "x" * 43, "y" * 500])
def test_wrong_tokens_open_nothing(
    factory: Factory, keys: deliveries.DeliveryKeys, token: str
) -> None:
    link = make(factory, keys)
    assert open_(factory, keys, token) is None
    assert open_(factory, keys, link.token) is not None  # the real one was not used up


def test_an_expired_link_is_erased_when_tried(
    factory: Factory, keys: deliveries.DeliveryKeys
) -> None:
    link = make(factory, keys)
    with factory.db.transaction() as session:
        session.execute(update(SecretDelivery).values(expires_at=utcnow() - timedelta(seconds=1)))
    assert open_(factory, keys, link.token) is None
    assert stored(factory).sealed is None


def test_another_server_secret_cannot_open_it(
    factory: Factory, keys: deliveries.DeliveryKeys
) -> None:
    link = make(factory, keys)
    other = deliveries.DeliveryKeys.from_master_key(b"another server secret, 32 chars long")
    assert open_(factory, other, link.token) is None
    assert open_(factory, keys, link.token) is not None


def test_a_cancelled_link_is_gone_and_audited(
    factory: Factory, keys: deliveries.DeliveryKeys
) -> None:
    link = make(factory, keys)
    with factory.db.transaction() as session:
        deliveries.cancel_delivery(
            session, link.token, keys=keys, actor=SENDER, reason="connection refused"
        )
    with factory.db.read() as session:
        assert session.scalars(select(SecretDelivery)).all() == []
        actions = [
            e.action
            for e in session.scalars(
                select(AuditEvent).where(AuditEvent.action.like("apikey.%")).order_by(AuditEvent.id)
            )
        ]
    assert actions == ["apikey.email", "apikey.email_failed"]
    assert open_(factory, keys, link.token) is None


@pytest.mark.parametrize("recipient", ["", "lee", "lee@", "two@at@example.com", "a b@example.com"])
def test_a_bad_recipient_stores_nothing(
    factory: Factory, keys: deliveries.DeliveryKeys, recipient: str
) -> None:
    with pytest.raises(InvalidInputError):
        make(factory, keys, recipient=recipient)
    with factory.db.read() as session:
        assert session.scalars(select(SecretDelivery)).all() == []
        assert (
            session.scalars(select(AuditEvent).where(AuditEvent.action.like("apikey.%"))).all()
            == []
        )


def test_two_opens_at_once_reveal_the_secret_once(
    factory: Factory, keys: deliveries.DeliveryKeys
) -> None:
    """The first open pauses after reading the link until the second has finished (or, where
    the database locks the row, for a while); exactly one of them gets the secret."""
    link = make(factory, keys)
    first_read, second_done = threading.Event(), threading.Event()
    first = threading.local()

    def pause(conn: object, cursor: object, statement: str, *args: object) -> None:
        if getattr(first, "on", False) and "FROM secret_deliveries" in statement:
            first.on = False
            first_read.set()
            second_done.wait(timeout=2)

    results: dict[str, deliveries.Opened | None] = {}

    def open_first() -> None:
        first.on = True
        results["first"] = open_(factory, keys, link.token)

    event.listen(factory.db.engine, "after_cursor_execute", pause)
    try:
        racing = threading.Thread(target=open_first)
        racing.start()
        assert first_read.wait(timeout=10)  # the first has read the link and waits
        results["second"] = open_(factory, keys, link.token)
        second_done.set()
        racing.join(timeout=10)
    finally:
        event.remove(factory.db.engine, "after_cursor_execute", pause)
    opened = [r for r in results.values() if r is not None]
    assert len(results) == 2
    assert len(opened) == 1
    assert opened[0].payload["secret"] == SECRET
    with factory.db.read() as session:
        events = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "apikey.email_opened")
        ).all()
    assert len(events) == 1
