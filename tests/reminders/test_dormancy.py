"""Dormant credentials: told once per dormant period, suspended when the policy says so (then
refused by the token and verify endpoints), and suspended even without a mail server."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from gatepass import provisioning
from gatepass.audit.models import AuditEvent
from gatepass.clients.kind import CLIENT
from gatepass.credentials import lifecycle
from gatepass.credentials.policy import CredentialPolicy
from gatepass.settings import Settings
from gatepass.tenants.service import TenantSettings
from tests.apikeys.support import code_is, create_key, verifier, verify_until
from tests.factories import ACTOR, Factory
from tests.http.support import poll, post, status_is, tenant_session
from tests.reminders.support import (
    Mailbox,
    later,
    mailing,
    make_client,
    recorded,
    run_at,
    started_mailbox,
)

ADMINS = ["ada@example.com", "bob@example.com"]


def set_policy(factory: Factory, policy: CredentialPolicy) -> None:
    with tenant_session(factory, "acme") as (session, t):
        changes = TenantSettings(credential_policy=policy.stored())
        provisioning.update_settings(session, t, changes, actor=ACTOR, cipher=factory.cipher)


def test_a_dormant_credential_is_told_once_per_dormant_period(
    people: Factory, mailed: Settings, mailbox: Mailbox
) -> None:
    set_policy(people, CredentialPolicy(dormant_after_days=30))
    client_id = make_client(people, by=ACTOR)
    assert run_at(mailed, later(29)) == 0
    assert run_at(mailed, later(31)) == len(ADMINS)
    assert run_at(mailed, later(45)) == 0
    text = mailbox.messages[0].get_content()
    assert f"(client ID {client_id}) of Acme has not been used for 30 days" in text
    assert "never used; created" in text
    assert "suspend or revoke it" in text
    assert {r for r, _, _ in recorded(people)} == {"dormant"}


def test_without_a_dormancy_policy_nobody_is_told(
    people: Factory, mailed: Settings, mailbox: Mailbox
) -> None:
    make_client(people, by=ACTOR)
    assert run_at(mailed, later(400)) == 0
    assert mailbox.messages == []


def test_auto_suspend_stops_the_credential_everywhere_and_is_audited(
    people: Factory, settings: Settings, mailed: Settings, mailbox: Mailbox, client: TestClient
) -> None:
    checker = verifier(people)
    key = create_key(people, name="export")
    made = people.client("acme", name="billing")
    assert (
        post(client, b"grant_type=client_credentials", authorization=made.basic).status_code == 200
    )
    assert verify_until(client, checker, key.secret, code_is("VALID"))["code"] == "VALID"
    set_policy(people, CredentialPolicy(dormant_after_days=7, auto_suspend_dormant=True))

    # the verifier is dormant too: suspended with them, and resumed by an administrator
    assert run_at(mailed, later(8)) == 3 + 3 * len(ADMINS)
    with tenant_session(people, "acme") as (session, t):
        lifecycle.resume(session, t, CLIENT, checker.client_id, actor=ACTOR)
    assert run_at(mailed, later(9)) == 0  # told and suspended once: a resumed one stays
    answer = verify_until(client, checker, key.secret, code_is("SUSPENDED"))
    assert answer["code"] == "SUSPENDED"
    refused = poll(
        lambda: post(client, b"grant_type=client_credentials", authorization=made.basic),
        status_is(401),
    )
    assert refused.json()["error"] == "invalid_client"
    assert "suspended" in mailbox.messages[0].get_content()
    with people.db.read() as session:
        events = session.scalars(
            select(AuditEvent).where(AuditEvent.action.in_(["client.suspend", "apikey.suspend"]))
        ).all()
    assert {(e.actor_type, e.actor, e.target) for e in events} >= {
        ("system", "jobs", made.client_id),
        ("system", "jobs", key.key_id),
    }


def test_without_a_mail_server_dormant_credentials_are_still_suspended(
    people: Factory, settings: Settings
) -> None:
    set_policy(people, CredentialPolicy(dormant_after_days=7, auto_suspend_dormant=True))
    client_id = make_client(people, by=ACTOR)
    assert settings.smtp_host is None
    assert run_at(settings, later(8)) == 1
    assert run_at(settings, later(9)) == 0
    with tenant_session(people, "acme") as (session, t):
        assert lifecycle.get(session, t, CLIENT, client_id).status == "suspended"
    assert recorded(people) == [("dormant", 7, "")]


def test_a_mail_the_server_refuses_is_not_recorded_and_is_sent_next_run(
    people: Factory, mailed: Settings, mailbox: Mailbox, caplog: pytest.LogCaptureFixture
) -> None:
    set_policy(people, CredentialPolicy(dormant_after_days=7))
    client_id = make_client(people, by=ACTOR)
    mailbox.stop()
    with caplog.at_level(logging.WARNING, logger="gatepass.reminders"):
        assert run_at(mailed, later(8)) == 0
    assert recorded(people) == [("dormant", 7, "")]
    failures = [r.getMessage() for r in caplog.records if "was not sent" in r.getMessage()]
    assert len(failures) == len(ADMINS)
    assert f"oauth_client {client_id}" in failures[0]
    assert f"127.0.0.1:{mailbox.port} refused" in failures[0]
    again = started_mailbox()
    box = next(again)
    try:
        assert run_at(mailing(mailed, box), later(8.5)) == len(ADMINS)
        assert sorted(str(m["To"]) for m in box.messages) == ADMINS
    finally:
        again.close()
    assert sorted(r for _, _, r in recorded(people)) == ["", *ADMINS]
