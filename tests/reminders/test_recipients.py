"""Who is told: the creator (an active user's email only), an API key's owner, the tenant's
active administrators; each once. And what the mail says: never a secret."""

from __future__ import annotations

from gatepass import provisioning
from gatepass.audit.service import Actor
from gatepass.settings import Settings
from tests.factories import ACTOR, Factory
from tests.http.support import tenant_session
from tests.reminders.support import (
    Mailbox,
    about,
    later,
    make_client,
    make_key,
    recorded,
    run_at,
    sent_to,
    user_actor,
)

ADMINS = ["ada@example.com", "bob@example.com"]


def test_the_creator_the_owner_and_the_admins_each_get_one_mail(
    people: Factory, mailed: Settings, mailbox: Mailbox
) -> None:
    manager = user_actor("cy@example.com", "credentials_manager")
    made_by_cy = make_key(people, by=manager, expires_at=later(5), name="service")
    owned_by_dee = make_key(people, by=ACTOR, owner="dee@example.com", expires_at=later(5))
    assert run_at(mailed, later(0)) == 6
    assert sorted(str(m["To"]) for m in about(mailbox, made_by_cy)) == [*ADMINS, "cy@example.com"]
    assert sorted(str(m["To"]) for m in about(mailbox, owned_by_dee)) == [
        *ADMINS,
        "dee@example.com",
    ]


def test_an_admin_who_created_it_is_told_once(
    people: Factory, mailed: Settings, mailbox: Mailbox
) -> None:
    make_client(people, by=user_actor("ada@example.com"), expires_at=later(5))
    run_at(mailed, later(0))
    assert sent_to(mailbox) == ADMINS


def test_creators_that_are_not_active_users_are_skipped(
    people: Factory, mailed: Settings, mailbox: Mailbox
) -> None:
    make_client(people, by=ACTOR, expires_at=later(5), name="by an operator")
    make_client(people, by=Actor(kind="client", id="gp-automation"), expires_at=later(5),
                name="by a client")  # fmt: skip
    make_client(people, by=user_actor("gone@example.com"), expires_at=later(5), name="gone")
    make_client(people, by=user_actor("cy@other.example"), expires_at=later(5), name="other")
    with tenant_session(people, "acme") as (session, t):
        provisioning.set_status(session, t, "bob@example.com", active=False, actor=ACTOR)
    run_at(mailed, later(0))
    assert sent_to(mailbox) == ["ada@example.com"] * 4


def test_a_tenant_without_anyone_to_tell_records_the_notice_only(
    acme: Factory, mailed: Settings, mailbox: Mailbox
) -> None:
    make_client(acme, by=ACTOR, expires_at=later(5))
    assert run_at(mailed, later(0)) == 0
    assert recorded(acme) == [("expiry", 7, "")]
    assert mailbox.messages == []


def test_the_mail_names_the_credential_and_the_tenant_and_holds_no_secret(
    people: Factory, mailed: Settings, mailbox: Mailbox
) -> None:
    made = people.client("acme", name="billing", expires_at=later(5))
    run_at(mailed, later(0))
    mail = mailbox.messages[0]
    text = mail.get_content()
    assert str(mail["Subject"]).startswith("OAuth client “billing” expires on ")
    assert "(Acme)" in str(mail["Subject"])
    assert f"“billing” (client ID {made.client_id}) of Acme" in text
    assert "http://testserver/console/acme/credentials" in text
    assert made.secret not in mail.as_string()
    assert made.secret[:12] not in mail.as_string()
