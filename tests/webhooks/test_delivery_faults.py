"""Delivery holds up against a bad endpoint: one message's fault is its own failed attempt, a
receiver that trickles its answer is cut off at the deadline, and the address checked is the
one connected to, with the endpoint's host name in ``Host``."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import update

from gatepass.settings import Settings
from gatepass.webhooks import delivery
from gatepass.webhooks.models import WebhookEndpoint
from tests.factories import Factory
from tests.webhooks.receiver import Receiver
from tests.webhooks.support import add_endpoint, attempts_of, deliver, messages
from tests.webhooks.test_delivery import make_key


def test_a_message_that_cannot_be_sent_fails_alone_and_the_batch_goes_on(
    acme: Factory, local_settings: Settings, receiver: Receiver
) -> None:
    broken, _ = add_endpoint(acme, receiver.url)
    add_endpoint(acme, receiver.url)
    with acme.db.transaction() as session:  # a secret sealed under another master key
        session.execute(
            update(WebhookEndpoint)
            .where(WebhookEndpoint.endpoint_id == broken)
            .values(sealed_secret=b"\0" * 60)
        )
    make_key(acme, "one event, two endpoints")

    assert deliver(acme, local_settings) == 2

    first, second = messages(acme)
    [failed] = attempts_of(acme, first.id)
    assert (failed.succeeded, failed.status_code) == (False, None)
    assert first.status == "pending"  # retried later, with backoff
    assert [a.succeeded for a in attempts_of(acme, second.id)] == [True]
    assert receiver.types() == ["credential.created"]


@pytest.fixture
def trickling() -> Iterator[str]:
    """A receiver that answers one byte of its headers every 0.2 s, for up to 10 s."""
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve() -> None:
        connection, _ = listener.accept()
        with connection:
            connection.recv(65536)
            connection.sendall(b"HTTP/1.1 200 OK\r\nX-Slow: ")
            for _ in range(50):
                if stop.wait(0.2):
                    return
                connection.sendall(b"a")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}/hooks"
    stop.set()
    thread.join(timeout=5)
    listener.close()


def test_a_receiver_that_trickles_its_answer_is_cut_off_at_the_deadline(
    acme: Factory, local_settings: Settings, trickling: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(delivery, "DEADLINE", 1.0)  # each read is quick; the whole is not
    add_endpoint(acme, trickling)
    make_key(acme, "slow")

    deliver(acme, local_settings)

    [message] = messages(acme)
    [attempt] = attempts_of(acme, message.id)
    assert (attempt.succeeded, attempt.error) == (False, "TimeoutError")


def test_the_checked_address_is_connected_to_and_the_host_name_is_sent(
    acme: Factory, local_settings: Settings, receiver: Receiver
) -> None:
    by_name = receiver.url.replace("127.0.0.1", "localhost")
    add_endpoint(acme, by_name)
    make_key(acme, "named")

    deliver(acme, local_settings)

    [received] = receiver.received
    assert received.headers["host"] == by_name.split("/")[2]
