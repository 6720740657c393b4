"""The events other parts of Gatepass send: ``credential.expiring`` and ``credential.dormant``
from the reminders job, ``credential.leaked`` from a leak report, each received and verified by
a real receiver, without the secret."""

from __future__ import annotations

from gatepass import credential_secrets as cs
from gatepass.db import utcnow
from gatepass.leaks import service as leaks
from gatepass.leaks.reports import Report
from gatepass.settings import Settings
from tests.apikeys.support import create_key
from tests.factories import ACTOR, Factory
from tests.reminders.support import later, make_key, run_at
from tests.webhooks.receiver import Receiver
from tests.webhooks.support import add_endpoint, deliver, in_acme


def test_the_reminders_send_an_expiring_event(
    acme: Factory, local_settings: Settings, receiver: Receiver
) -> None:
    _, secret = add_endpoint(acme, receiver.url, ("credential.expiring",))
    ref = make_key(acme, by=ACTOR, expires_at=later(5), name="soon")

    run_at(local_settings, utcnow())
    deliver(acme, local_settings)

    (received,) = receiver.received
    data = received.verify(secret)["data"]
    assert (data["kind"], data["id"], data["name"]) == ("api_key", ref, "soon")
    assert data["days_left"] == 7
    assert data["actor"] == {"type": "system", "id": "jobs"}


def test_the_reminders_send_a_dormant_event(
    acme: Factory, local_settings: Settings, receiver: Receiver
) -> None:
    _, secret = add_endpoint(acme, receiver.url, ("credential.dormant",))
    with in_acme(acme) as (_, tenant):
        tenant.credential_policy = {"dormant_after_days": 7, "auto_suspend_dormant": True}
    ref = make_key(acme, by=ACTOR, name="idle")

    run_at(local_settings, later(8))
    deliver(acme, local_settings, later(8))

    (received,) = receiver.received
    data = received.verify(secret)["data"]
    assert (data["id"], data["last_used_at"], data["suspended"]) == (ref, None, True)
    assert data["days_unused"] == 7


def test_a_leak_report_sends_a_leaked_event_without_the_secret(
    acme: Factory, local_settings: Settings, receiver: Receiver
) -> None:
    _, signing_secret = add_endpoint(acme, receiver.url, ("credential.leaked",))
    key = create_key(acme, name="pasted")
    report = Report(cs.Plaintext(key.secret), "gatepass", "https://example.test/", "content")

    leaks.assess(acme.db, acme.hasher, [report], actor=leaks.system_actor("tests"))
    deliver(acme, local_settings)

    (received,) = receiver.received
    body = received.verify(signing_secret)
    assert body["type"] == "credential.leaked"
    assert body["data"]["name"] == "pasted"
    assert body["data"]["action"] == "revoked"
    assert key.secret.encode() not in received.body
    assert acme.hasher.digest(key.secret).hex().encode() not in received.body
