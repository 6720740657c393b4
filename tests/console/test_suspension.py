"""Suspend and resume in a real browser, for OAuth clients and API keys alike: each asks first,
shows the new status, and takes effect where the credential is used."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.apikeys.support import verifier
from tests.console.conftest import Console, assert_refused, assert_works, key_becomes
from tests.console.pages import confirm, row
from tests.console.test_api_keys import make_key
from tests.factories import Factory

pytestmark = pytest.mark.e2e


def test_a_client_is_suspended_and_resumed_from_its_row_menu(
    console: Console, factory: Factory
) -> None:
    page = console.page
    billing = factory.client(console.tenant, name="Billing sync")
    console.sign_in_as_admin(factory)

    confirm(
        page,
        "Billing sync",
        "Suspend",
        "Suspend “Billing sync”?",
        "Suspend",
        says="until you resume it",
    )
    expect(row(page, "Billing sync").get_by_text("Suspended", exact=True)).to_be_visible()
    assert_refused(console.server, billing)

    page.get_by_label("Actions for Billing sync").click()  # suspended: resume, not suspend
    menu = row(page, "Billing sync")
    expect(menu.get_by_role("button", name="Resume")).to_be_visible()
    expect(menu.get_by_role("button", name="Suspend")).to_have_count(0)
    expect(menu.get_by_role("button", name="Revoke", exact=True)).to_be_visible()
    page.get_by_label("Actions for Billing sync").click()

    confirm(page, "Billing sync", "Resume", "Resume “Billing sync”?", "Resume")
    expect(row(page, "Billing sync").get_by_text("Active", exact=True)).to_be_visible()
    assert_works(console.server, billing)


def test_a_key_is_suspended_and_resumed_from_its_row_menu(
    console: Console, factory: Factory
) -> None:
    page = console.page
    caller = verifier(factory, console.tenant)
    key = make_key(factory, console.tenant, "Nightly export")
    console.sign_in_as_admin(factory)
    page.goto(console.tenant_url("api-keys"))

    confirm(page, "Nightly export", "Suspend", "Suspend “Nightly export”?", "Suspend")
    expect(row(page, "Nightly export")).to_contain_text("Suspended")
    key_becomes(console.server, caller, key, "SUSPENDED")

    confirm(page, "Nightly export", "Resume", "Resume “Nightly export”?", "Resume")
    expect(row(page, "Nightly export")).to_contain_text("Active")
    key_becomes(console.server, caller, key, "VALID")
