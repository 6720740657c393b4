"""Emailing a link when a stored name would break a mail header (U+2028, U+0085, CR/LF).

Tenant names with such characters are refused at creation now, but rows made before may hold
them: the test writes one straight into the database. The mail must still leave, with one-line
headers, and no "emailed" audit may exist for a mail that did not leave.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import update

from gatepass.tenants.models import Tenant
from tests import conftest as suite
from tests.console import conftest as browser_tests
from tests.console.conftest import Console, Mailbox
from tests.console.test_email_link import actions, email_new_key, link_in
from tests.factories import Factory

pytestmark = pytest.mark.e2e

# Each test has a database, mailbox and server of its own: it reads every mail and audit row
# there is.
settings = suite.settings
console_server = browser_tests.own_server

BREAKING = ["Acme\u2028Corp", "Acme\x85Corp", "Acme\r\nBcc: eve@evil.example"]


@pytest.mark.parametrize("name", BREAKING)
def test_a_tenant_name_that_breaks_a_header_still_sends_a_clean_mail(
    console: Console, factory: Factory, mailbox: Mailbox, name: str
) -> None:
    console.sign_in_as_admin(factory)
    with factory.db.transaction() as session:
        session.execute(update(Tenant).where(Tenant.slug == console.tenant).values(name=name))
    email_new_key(console, "Partner feed", "lee@partner.example")

    dialog = console.page.get_by_role("dialog")
    expect(dialog).to_contain_text("lee@partner.example")
    mail = mailbox.wait_for(1)[0]
    for header, value in mail.items():
        assert not any(c in str(value) for c in "\r\n\x85\u2028\u2029"), (header, value)
    assert mail["Bcc"] is None
    assert mail["To"] == "lee@partner.example"
    assert link_in(mailbox)
    assert actions(factory) == [("apikey.email", "user", console.admin)]
