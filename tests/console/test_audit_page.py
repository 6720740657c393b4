"""The audit-log page: what was done in the console shows up, filters narrow it, pages page."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.console.conftest import Console
from tests.factories import CATALOG, Factory

pytestmark = pytest.mark.e2e


def test_console_actions_are_in_the_audit_log_and_filters_narrow_it(
    console: Console, factory: Factory
) -> None:
    page = console.page
    billing = factory.client(console.tenant, name="Billing sync")
    for number in range(55):  # more than one page of events
        factory.client(console.tenant, name=f"filler {number}")
    console.sign_in_as_admin(factory)
    page.get_by_label("Actions for Billing sync").click()
    page.get_by_role("button", name="Revoke", exact=True).click()
    page.get_by_role("dialog").get_by_role("button", name="Revoke").click()
    expect(page.get_by_role("row").filter(has_text="Billing sync")).to_contain_text("Revoked")

    page.get_by_role("link", name="Audit log").click()
    expect(page.get_by_role("heading", name="Audit log")).to_be_visible()
    rows = page.get_by_role("row")
    expect(rows.nth(1)).to_contain_text("client.revoke")
    expect(rows.nth(1)).to_contain_text(console.admin)
    expect(rows.nth(1)).to_contain_text(billing.client_id)
    expect(rows.nth(2)).to_contain_text("session.sign_in")
    assert billing.secret not in page.content()
    console.screenshot("audit-log")

    page.get_by_role("link", name="Older events").click()
    expect(page).to_have_url(re.compile(r"cursor="))
    expect(page.get_by_role("row").filter(has_text="client.create").first).to_be_visible()
    expect(page.get_by_role("row").filter(has_text="client.revoke")).to_have_count(0)

    page.goto(console.tenant_url("audit"))
    page.get_by_label("Credential").fill(billing.client_id)
    page.get_by_role("button", name="Filter").click()
    actions = page.locator("tbody tr td:nth-child(3) code").all_inner_texts()
    assert actions == ["client.revoke", "client.create"]
    # details read as text: a list as its items, nothing as "none", never a Python repr
    created = page.locator("tbody tr").nth(1).locator("td:nth-child(3) .help").inner_text()
    assert created == f"name: Billing sync; scopes: {', '.join(CATALOG)}; groups: none"

    page.get_by_label("Action").fill("session.")
    page.get_by_label("Credential").fill("")
    page.get_by_label("Actor").fill(console.admin)
    page.get_by_role("button", name="Filter").click()
    assert page.locator("tbody tr td:nth-child(3) code").all_inner_texts() == ["session.sign_in"]

    console.expect_error(r"422")
    page.goto(console.tenant_url("audit?since=yesterday"))
    expect(page.get_by_role("alert")).to_contain_text("dates look like 2026-11-22")


def test_the_audit_log_needs_a_session(console: Console) -> None:
    console.page.goto(console.tenant_url("audit"))
    expect(console.page.get_by_role("button", name="Sign in")).to_be_visible()
