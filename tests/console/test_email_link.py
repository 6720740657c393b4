"""Emailing a new key (seed 003, done safely): the mail holds a one-time link, never the secret.

A real SMTP server (aiosmtpd) receives the mail; the recipient opens the link in a browser of
their own, with no session.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select, update

from gatepass.audit.models import AuditEvent
from gatepass.db import utcnow
from gatepass.deliveries.models import SecretDelivery
from tests import conftest as suite
from tests.apikeys.support import verifier
from tests.console import conftest as browser_tests
from tests.console.conftest import (
    SCREENSHOTS,
    Console,
    Mailbox,
    key_becomes,
    key_code,
    token_response,
)
from tests.console.pages import copy, key_dialog
from tests.console.test_api_keys import make_key
from tests.factories import Credential, Factory

pytestmark = pytest.mark.e2e

# Each test has a database, mailbox and server of its own: the tests read every mail, delivery
# and audit row there is, and one stops the mail server.
settings = suite.settings
console_server = browser_tests.own_server

LINK = re.compile(r"(https?://\S+/console/link#[A-Za-z0-9_-]+)")


def email_new_key(console: Console, name: str, recipient: str) -> None:
    page = console.page
    page.goto(console.tenant_url("api-keys/new"))
    page.get_by_label("Name").fill(name)
    page.get_by_label("NQL", exact=True).check()
    page.get_by_label("Email to (optional)").fill(recipient)
    page.get_by_role("button", name="Create").click()


def link_in(mailbox: Mailbox) -> str:
    body = mailbox.wait_for(1)[-1].get_content()
    found = LINK.search(body)
    assert found, body
    return found.group(1)


def open_link(browser: Browser, link: str) -> Page:
    """The recipient's own browser: no session, nothing shared with the sender's."""
    page = browser.new_context().new_page()
    page.goto(link)
    expect(page.get_by_role("heading", name="A secret shared with you")).to_be_visible()
    assert "#" not in page.url  # the token left the address bar
    page.get_by_role("button", name="Show the secret").click()
    return page


def actions(factory: Factory) -> list[tuple[str, str, str]]:
    with factory.db.read() as session:
        rows = session.execute(
            select(AuditEvent.action, AuditEvent.actor_type, AuditEvent.actor)
            .where(AuditEvent.action.contains("email"))
            .order_by(AuditEvent.id)
        )
        return [tuple(r) for r in rows]  # type: ignore[misc]


def test_the_recipient_sees_the_key_once_through_the_link(
    console: Console, factory: Factory, mailbox: Mailbox, browser: Browser
) -> None:
    page = console.page
    caller = verifier(factory, console.tenant)
    console.sign_in_as_admin(factory)
    email_new_key(console, "Partner feed", "lee@partner.example")

    told = page.get_by_role("dialog", name="Emailed a one-time link for “Partner feed”")
    expect(told).to_contain_text("lee@partner.example")
    console.screenshot("emailed-dialog")

    mail = mailbox.wait_for(1)[0]
    assert mail["To"] == "lee@partner.example"
    assert mail["Subject"] == "New API key “Partner feed” for Acme"
    body = mail.get_content()
    link = link_in(mailbox)
    assert link.startswith(console.server.public_url)

    recipient = open_link(browser, link)
    shown = recipient.get_by_role("heading", name="API key for “Partner feed”")
    expect(shown).to_be_visible()
    recipient.context.grant_permissions(
        ["clipboard-read", "clipboard-write"], origin=console.server.base_url
    )
    key = copy(recipient, recipient.locator("main"), "API key")
    assert key.startswith("gpk_")
    assert key_code(console.server, caller, key) == "VALID"
    assert key not in body
    assert key not in page.content()  # the sender never saw it
    if console.screenshots:
        recipient.screenshot(path=str(SCREENSHOTS / "link-opened.png"))

    again = recipient.context.new_page()
    again.goto(link)
    again.get_by_role("button", name="Show the secret").click()
    expect(again.get_by_role("heading", name="Link no longer works")).to_be_visible()
    assert key not in again.content()
    recipient.context.close()

    with factory.db.read() as session:
        stored = session.scalars(select(SecretDelivery)).one()
        assert stored.sealed is None
        assert stored.opened_at is not None
    assert actions(factory) == [
        ("apikey.email", "user", console.admin),
        ("apikey.email_opened", "recipient", "lee@partner.example"),
    ]


def test_an_expired_link_reveals_nothing(
    console: Console, factory: Factory, mailbox: Mailbox, browser: Browser
) -> None:
    console.sign_in_as_admin(factory)
    email_new_key(console, "Late partner", "lee@partner.example")
    link = link_in(mailbox)
    with factory.db.transaction() as session:
        session.execute(update(SecretDelivery).values(expires_at=utcnow() - timedelta(minutes=1)))
    page = open_link(browser, link)
    expect(page.get_by_role("heading", name="Link no longer works")).to_be_visible()
    assert "gpk_" not in page.content()
    with factory.db.read() as session:
        assert session.scalars(select(SecretDelivery)).one().sealed is None  # erased too


def test_a_tampered_or_missing_token_reveals_nothing(
    console: Console, factory: Factory, mailbox: Mailbox, browser: Browser
) -> None:
    console.sign_in_as_admin(factory)
    email_new_key(console, "Partner feed", "lee@partner.example")
    link = link_in(mailbox)
    page = open_link(browser, link[:-3] + ("abc" if not link.endswith("abc") else "xyz"))
    expect(page.get_by_role("heading", name="Link no longer works")).to_be_visible()
    bare = browser.new_context().new_page()
    bare.goto(link.split("#")[0])
    expect(bare.get_by_text("This link is incomplete")).to_be_visible()
    expect(bare.get_by_role("button", name="Show the secret")).to_be_disabled()
    with factory.db.read() as session:  # the real link still works
        assert session.scalars(select(SecretDelivery)).one().sealed is not None


def test_when_the_mail_server_refuses_the_sender_gets_the_key_instead(
    console: Console, factory: Factory, mailbox: Mailbox
) -> None:
    page = console.page
    caller = verifier(factory, console.tenant)
    console.sign_in_as_admin(factory)
    mailbox.stop()
    email_new_key(console, "Partner feed", "lee@partner.example")
    dialog = key_dialog(page, "Partner feed")
    expect(dialog).to_contain_text("could not be sent")
    key = dialog.get_by_label("API key", exact=True).input_value()
    assert key_code(console.server, caller, key) == "VALID"
    with factory.db.read() as session:
        assert session.scalars(select(SecretDelivery)).all() == []
    assert [a for a, _, _ in actions(factory)] == ["apikey.email", "apikey.email_failed"]


def test_a_bad_recipient_is_refused_and_nothing_is_made(
    console: Console, factory: Factory, mailbox: Mailbox
) -> None:
    page = console.page
    console.sign_in_as_admin(factory)
    page.goto(console.tenant_url("api-keys/new"))
    page.get_by_label("Name").fill("Partner feed")
    page.get_by_label("Email to (optional)").evaluate(
        "e => e.type = 'text'"
    )  # skip the browser check
    page.get_by_label("Email to (optional)").fill("not an address")
    console.expect_error("422")
    page.get_by_role("button", name="Create").click()
    expect(page.get_by_role("alert")).to_contain_text("'Email to' must be an email address")
    expect(page.get_by_label("Name")).to_have_value("Partner feed")
    page.goto(console.tenant_url("api-keys"))
    expect(page.get_by_text("No API keys yet.")).to_be_visible()
    assert mailbox.messages == []


def test_oauth_client_credentials_can_be_emailed_too(
    console: Console, factory: Factory, mailbox: Mailbox, browser: Browser
) -> None:
    page = console.page
    console.sign_in_as_admin(factory)
    page.get_by_role("link", name="New OAuth client credentials").click()
    page.get_by_label("Name").fill("Partner sync")
    page.get_by_label("NQL", exact=True).check()
    page.get_by_label("Email to (optional)").fill("lee@partner.example")
    page.get_by_role("button", name="Save and generate credentials").click()
    expect(
        page.get_by_role("dialog", name="Emailed a one-time link for “Partner sync”")
    ).to_be_visible()
    assert (
        mailbox.wait_for(1)[0]["Subject"] == "New OAuth client credentials “Partner sync” for Acme"
    )

    recipient = open_link(browser, link_in(mailbox))
    expect(
        recipient.get_by_role("heading", name="OAuth client credentials for “Partner sync”")
    ).to_be_visible()
    client_id = recipient.get_by_label("Client ID", exact=True).input_value()
    secret = recipient.get_by_label("Secret key", exact=True).input_value()
    assert recipient.get_by_label("Token URL").input_value() == console.server.token_url(
        console.tenant
    )
    granted = token_response(console.server, Credential(console.tenant, client_id, secret))
    assert granted.status_code == 200, granted.text
    assert secret not in page.content()


def test_a_regenerated_key_can_be_emailed_and_the_old_one_stops(
    console: Console, factory: Factory, mailbox: Mailbox, browser: Browser
) -> None:
    page = console.page
    caller = verifier(factory, console.tenant)
    old = make_key(factory, console.tenant, "Partner feed")
    console.sign_in_as_admin(factory)
    page.goto(console.tenant_url("api-keys"))
    page.get_by_label("Actions for Partner feed").click()
    page.get_by_role("button", name="Regenerate", exact=True).click()
    asked = page.get_by_role("dialog", name="Regenerate “Partner feed”?")
    asked.get_by_label("Email to (optional)").fill("lee@partner.example")
    asked.get_by_role("button", name="Regenerate").click()
    expect(
        page.get_by_role("dialog", name="Emailed a one-time link for “Partner feed”")
    ).to_be_visible()
    key_becomes(console.server, caller, old, "REVOKED")

    recipient = open_link(browser, link_in(mailbox))
    new = recipient.get_by_label("API key", exact=True).input_value()
    assert new != old
    assert key_code(console.server, caller, new) == "VALID"
