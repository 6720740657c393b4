"""Lifecycle webhooks end to end: the change, the outbox, delivery to a real HTTP receiver that
checks each signature with the Standard Webhooks library, retries, giving up."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from gatepass.apikeys import service as apikeys
from gatepass.apikeys.kind import API_KEY
from gatepass.clients import service as clients
from gatepass.clients.kind import CLIENT
from gatepass.credentials import lifecycle, revoking
from gatepass.db import utcnow
from gatepass.settings import Settings
from gatepass.webhooks import delivery, outbox
from tests.factories import ACTOR, Factory
from tests.webhooks.receiver import Receiver
from tests.webhooks.support import add_endpoint, attempts_of, deliver, in_acme, messages

Make = Callable[[Factory, str], tuple[str, str]]


def make_client(factory: Factory, name: str) -> tuple[str, str]:
    with in_acme(factory) as (session, tenant):
        spec = clients.NewClient(name=name, scopes=["nql"])
        row, secret = clients.create_client(
            session, tenant, spec, actor=ACTOR, hasher=factory.hasher
        )
        return row.client_id, secret.reveal()


def make_key(factory: Factory, name: str) -> tuple[str, str]:
    with in_acme(factory) as (session, tenant):
        spec = apikeys.NewApiKey(name=name, scopes=["nql"])
        row, secret = apikeys.create_key(session, tenant, spec, actor=ACTOR, hasher=factory.hasher)
        return row.key_id, secret.reveal()


KINDS = [
    pytest.param((CLIENT, make_client, "oauth_client"), id="client"),
    pytest.param((API_KEY, make_key, "api_key"), id="api_key"),
]
LIFECYCLE = [
    "credential.created",
    "credential.updated",
    "credential.rotated",
    "credential.suspended",
    "credential.resumed",
    "credential.revoked",
    "credential.deleted",
]


def run_lifecycle(factory: Factory, kind: Any, ref: str) -> list[str]:
    """Every lifecycle step after creation, one transaction each; returns the new secrets."""
    with in_acme(factory) as (session, tenant):
        if kind is CLIENT:
            changes = clients.ClientChanges(description="edited")
            clients.edit_client(session, tenant, ref, changes, actor=ACTOR)
        else:
            apikeys.edit_key(
                session, tenant, ref, apikeys.ApiKeyChanges(description="edited"), actor=ACTOR
            )
    with in_acme(factory) as (session, tenant):
        _, rotated = lifecycle.rotate(
            session, tenant, kind, ref, grace=None, actor=ACTOR, hasher=factory.hasher
        )
    for step in (lifecycle.suspend, lifecycle.resume, lifecycle.revoke, lifecycle.delete):
        with in_acme(factory) as (session, tenant):
            step(session, tenant, kind, ref, actor=ACTOR)
    return [rotated.reveal()]


@pytest.mark.parametrize("case", KINDS)
def test_each_lifecycle_action_sends_one_signed_event(
    acme: Factory, local_settings: Settings, receiver: Receiver, case: tuple[Any, Make, str]
) -> None:
    kind, make, kind_name = case
    _, signing_secret = add_endpoint(acme, receiver.url)
    ref, secret = make(acme, "Reporting job")
    secrets = [secret, *run_lifecycle(acme, kind, ref)]

    assert deliver(acme, local_settings) == len(LIFECYCLE)

    assert receiver.types() == LIFECYCLE
    for request in receiver.received:
        body = request.verify(signing_secret)
        assert body["data"]["tenant"] == "acme"
        assert body["data"]["kind"] == kind_name
        assert body["data"]["id"] == ref
        assert body["data"]["name"] == "Reporting job"
        assert body["data"]["actor"] == {"type": "operator", "id": "tests"}
        for plaintext in secrets:
            digest = acme.hasher.digest(plaintext)
            assert plaintext.encode() not in request.body
            assert digest.hex().encode() not in request.body
        assert signing_secret.encode() not in request.body
    assert len({r.headers["webhook-id"] for r in receiver.received}) == len(LIFECYCLE)
    assert all(m.status == "delivered" and m.attempts == 1 for m in messages(acme))


def test_revoke_all_sends_one_revoked_event_per_credential(
    acme: Factory, local_settings: Settings, receiver: Receiver
) -> None:
    add_endpoint(acme, receiver.url, events=("credential.revoked",))
    refs = {make_key(acme, f"key {n}")[0] for n in range(3)}
    with in_acme(acme) as (session, tenant):
        assert revoking.revoke_all(session, tenant, API_KEY, actor=ACTOR) == 3

    assert deliver(acme, local_settings) == 3

    bodies = [r.json for r in receiver.received]
    assert {b["type"] for b in bodies} == {"credential.revoked"}
    assert {b["data"]["id"] for b in bodies} == refs
    assert {b["data"]["name"] for b in bodies} == {"key 0", "key 1", "key 2"}
    assert all(b["data"]["by"] == "revoke all" for b in bodies)
    assert len({r.headers["webhook-id"] for r in receiver.received}) == 3


def test_a_change_rolled_back_leaves_no_event(
    acme: Factory, local_settings: Settings, receiver: Receiver
) -> None:
    add_endpoint(acme, receiver.url)
    ref, _ = make_key(acme, "kept")
    deliver(acme, local_settings)
    receiver.received.clear()

    def revoke_then_fail() -> None:
        with in_acme(acme) as (session, tenant):
            lifecycle.revoke(session, tenant, API_KEY, ref, actor=ACTOR)
            raise RuntimeError("the request fails after the change")

    with pytest.raises(RuntimeError):
        revoke_then_fail()

    assert deliver(acme, local_settings) == 0
    assert receiver.received == []
    assert [m.event_type for m in messages(acme)] == ["credential.created"]


def test_a_failed_attempt_is_retried_after_a_backoff_with_the_same_id(
    acme: Factory, local_settings: Settings, receiver: Receiver
) -> None:
    _, signing_secret = add_endpoint(acme, receiver.url)
    receiver.statuses = [500]
    make_key(acme, "flaky")
    now = utcnow()

    assert deliver(acme, local_settings, now) == 1
    assert deliver(acme, local_settings, now + timedelta(seconds=4)) == 0  # not due yet
    assert deliver(acme, local_settings, now + timedelta(seconds=6)) == 1

    first, second = receiver.received
    assert first.headers["webhook-id"] == second.headers["webhook-id"]
    second.verify(signing_secret)
    (message,) = messages(acme)
    assert (message.status, message.attempts) == ("delivered", 2)
    log = attempts_of(acme, message.id)
    assert [(a.attempt, a.status_code, a.succeeded) for a in log] == [
        (1, 500, False),
        (2, 200, True),
    ]
    assert log[0].error == "HTTP 500"


def test_a_message_is_given_up_after_the_last_attempt(
    acme: Factory, local_settings: Settings, receiver: Receiver
) -> None:
    add_endpoint(acme, receiver.url)
    receiver.statuses = [503] * delivery.MAX_ATTEMPTS
    make_key(acme, "never answered")
    now = utcnow()
    for _ in range(delivery.MAX_ATTEMPTS):
        assert deliver(acme, local_settings, now) == 1
        now += timedelta(hours=9)  # past the longest backoff

    assert deliver(acme, local_settings, now) == 0
    (message,) = messages(acme)
    assert (message.status, message.attempts) == ("failed", delivery.MAX_ATTEMPTS)
    assert len(receiver.received) == delivery.MAX_ATTEMPTS


def test_a_receiver_that_is_down_is_logged_and_retried(
    acme: Factory, local_settings: Settings, receiver: Receiver
) -> None:
    down = receiver.url.replace("/hooks", "").rsplit(":", 1)[0] + ":9/hooks"  # discard port
    add_endpoint(acme, down)
    make_key(acme, "unreachable")
    now = utcnow()

    assert deliver(acme, local_settings, now) == 1

    (message,) = messages(acme)
    assert message.status == "pending"
    assert message.next_attempt_at > now
    (attempt,) = attempts_of(acme, message.id)
    assert attempt.status_code is None
    assert attempt.error == "ConnectError"


@pytest.mark.parametrize(
    "event", ["credential.expiring", "credential.dormant", "credential.leaked"]
)
def test_emit_sends_the_events_of_other_parts_of_gatepass(
    acme: Factory, local_settings: Settings, receiver: Receiver, event: str
) -> None:
    _, signing_secret = add_endpoint(acme, receiver.url)
    with in_acme(acme) as (session, tenant):
        subject = outbox.Subject(kind="api_key", id="ak_1", name="Reporting job")
        outbox.emit(session, tenant_id=tenant.id, event=event, credential=subject, data={"days": 7})

    assert deliver(acme, local_settings) == 1

    body = receiver.received[0].verify(signing_secret)
    assert body["type"] == event
    assert body["data"] == {
        "tenant": "acme",
        "kind": "api_key",
        "id": "ak_1",
        "name": "Reporting job",
        "days": 7,
    }


def test_emit_refuses_an_unknown_event_type(acme: Factory) -> None:
    subject = outbox.Subject(kind="api_key", id="ak_1", name="n")
    with pytest.raises(ValueError, match="unknown webhook event"), in_acme(acme) as (s, t):
        outbox.emit(s, tenant_id=t.id, event="credential.exploded", credential=subject, data={})


def test_endpoints_get_only_the_events_they_take_and_only_while_enabled(
    acme: Factory, local_settings: Settings, receiver: Receiver
) -> None:
    add_endpoint(acme, receiver.url, events=("credential.revoked",))
    ref, _ = make_key(acme, "quiet")
    with in_acme(acme) as (session, tenant):
        lifecycle.revoke(session, tenant, API_KEY, ref, actor=ACTOR)

    assert deliver(acme, local_settings) == 1
    assert receiver.types() == ["credential.revoked"]


def test_a_message_is_claimed_by_one_deliverer_only(acme: Factory, receiver: Receiver) -> None:
    add_endpoint(acme, receiver.url)
    make_key(acme, "once")
    now = utcnow()

    _, first = delivery.claim(acme.db, now, 10)
    _, second = delivery.claim(acme.db, now, 10)

    assert len(first) == 1
    assert second == []
    lease = timedelta(seconds=10 * delivery.DEADLINE + 60)  # all ten could take their deadline
    _, still = delivery.claim(acme.db, now + lease - timedelta(seconds=1), 10)
    _, later = delivery.claim(acme.db, now + lease + timedelta(seconds=1), 10)
    assert still == []
    assert [m.id for m, _ in later] == [m.id for m, _ in first]  # a lost claim runs out


def test_a_redirect_is_not_followed_and_counts_as_a_failure(
    acme: Factory, local_settings: Settings, receiver: Receiver
) -> None:
    add_endpoint(acme, receiver.url)
    receiver.statuses = [307]
    make_key(acme, "moved")

    assert deliver(acme, local_settings) == 1

    assert len(receiver.received) == 1
    (message,) = messages(acme)
    assert message.status == "pending"
    (attempt,) = attempts_of(acme, message.id)
    assert (attempt.status_code, attempt.error, attempt.succeeded) == (307, "HTTP 307", False)


def test_two_deliverers_at_once_send_each_message_once(
    acme: Factory, local_settings: Settings, receiver: Receiver
) -> None:
    add_endpoint(acme, receiver.url)
    for n in range(12):
        make_key(acme, f"key {n}")
    now = utcnow()

    def drain() -> None:
        while delivery.deliver_due(acme.db, local_settings, now=now, limit=3):
            pass

    workers = [threading.Thread(target=drain) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    ids = [r.headers["webhook-id"] for r in receiver.received]
    assert len(ids) == len(set(ids)) == 12
    assert all(m.status == "delivered" and m.attempts == 1 for m in messages(acme))
