"""API credentials in a real browser: create, the one-time secret, revoke, delete, rotate."""

from __future__ import annotations

import shlex
from dataclasses import replace
from datetime import UTC, datetime

import pytest
import requests
from playwright.sync_api import expect

from gatepass.clients.kind import CLIENT
from gatepass.credentials import lifecycle
from gatepass.tenants import service as tenants
from tests.console.conftest import Console, assert_refused, assert_works, token_response
from tests.console.pages import confirm, copy, reveal_dialog, row
from tests.e2e.conftest import verify
from tests.factories import Credential, Factory

pytestmark = pytest.mark.e2e

MARKUP = '<img src=x onerror="window.injected=1"> & "Co"'


def expiry_of(factory: Factory, tenant: str, client_id: str) -> datetime | None:
    with factory.db.read() as session:
        client = lifecycle.get(session, tenants.get_tenant(session, tenant), CLIENT, client_id)
        expires_at = client.expires_at
    if expires_at is not None and expires_at.tzinfo is None:  # SQLite keeps no offset
        expires_at = expires_at.replace(tzinfo=UTC)
    return expires_at


def run_curl(command: str) -> requests.Response:
    """Send the dialog's curl command (POST with -H and -d) the way curl would."""
    args = shlex.split(command.replace("\\\n", " "))
    assert args[:3] == ["curl", "-sX", "POST"], args
    headers = dict(args[i + 1].split(": ", 1) for i, a in enumerate(args) if a == "-H")
    body = "&".join(args[i + 1] for i, a in enumerate(args) if a == "-d")
    return requests.post(args[3], data=body, headers=headers, timeout=5)


def test_new_credential_shows_its_secret_once_and_the_secret_gets_tokens(
    console: Console, factory: Factory
) -> None:
    page = console.page
    console.sign_in_as_admin(factory)
    page.get_by_role("link", name="New OAuth client credentials").click()
    expect(page.get_by_role("heading", name="New OAuth client credentials")).to_be_visible()
    page.get_by_label("Name").fill("Billing sync")
    page.get_by_label("Description").fill("Nightly invoice export")
    expect(page.get_by_label("Administer the tenant", exact=True)).to_be_enabled()  # an admin's
    page.get_by_label("NQL", exact=True).check()
    page.get_by_label("emea", exact=True).check()
    page.get_by_label("Expires on").fill("2099-12-31")
    console.screenshot("new-credential")
    page.get_by_role("button", name="Save and generate credentials").click()

    dialog = reveal_dialog(page, "Billing sync")
    expect(dialog).to_be_visible()
    client_id = dialog.get_by_label("Client ID", exact=True).input_value()
    shown = dialog.get_by_label("Secret key", exact=True).input_value()
    assert shown.startswith("gpcs_")
    assert dialog.get_by_label("Token URL").input_value() == console.server.token_url(
        console.tenant
    )
    console.screenshot("secret-dialog")
    behind = row(page, "Billing sync")  # the table, behind the modal dialog
    expect(behind.locator("td").nth(5)).to_have_text("Never")  # "Last used", before any use

    secret = copy(page, dialog, "Secret key")
    assert secret == shown
    assert copy(page, dialog, "Client ID") == client_id
    granted = token_response(console.server, Credential(console.tenant, client_id, secret))
    assert granted.status_code == 200, granted.text
    claims = verify(console.server, console.tenant, granted.json()["access_token"])
    assert claims["client_id"] == client_id
    assert claims["scope"] == "nql"
    assert claims["groups"] == ["emea"]
    assert expiry_of(factory, console.tenant, client_id) == datetime(
        2099, 12, 31, 23, 59, 59, tzinfo=UTC
    )
    from_curl = run_curl(copy(page, dialog, "Get an access token"))
    assert from_curl.status_code == 200, from_curl.text

    dialog.get_by_role("button", name="Done").click()
    expect(page.locator("dialog.reveal")).to_have_count(0)  # removed from the page, not hidden
    assert secret not in page.content()
    page.reload()
    expect(page.get_by_role("heading", name="API credentials")).to_be_visible()
    expect(reveal_dialog(page, "Billing sync")).to_have_count(0)
    assert secret not in page.content()

    created = row(page, "Billing sync")
    expect(created).to_have_count(1)
    expect(created).to_contain_text(client_id)
    expect(created).to_contain_text("NQL")
    expect(created).to_contain_text("Nightly invoice export")
    expect(created).to_contain_text(console.admin)
    expect(created.get_by_text("Active", exact=True)).to_be_visible()
    console.screenshot("credentials")


def test_permissions_the_user_cannot_grant_are_disabled_with_the_reason(
    console: Console, factory: Factory
) -> None:
    """An unavailable permission (for everyone), and ``tenant:admin`` for a credentials manager."""
    page = console.page
    factory.user(console.tenant, email=console.email("mia"), role="credentials_manager")
    console.sign_in(console.email("mia"))
    page.get_by_role("link", name="New OAuth client credentials").click()
    refused = {"SPARK": "preview", "Administer the tenant": "Only an administrator can grant this"}
    for label, reason in refused.items():
        box = page.get_by_label(label, exact=True)
        expect(box).to_be_disabled()
        expect(box).to_have_accessible_description(reason)
        expect(page.locator(".check").filter(has=box)).to_contain_text(reason)
    for label in ("NQL", "WORKFLOWS", "CAMPAIGNS", "Manage API credentials"):
        expect(page.get_by_label(label, exact=True)).to_be_enabled()

    # A browser made to send them anyway (a box re-enabled by hand) gets an error, no credential:
    # 422 for the unavailable one, 403 for the one this role may not grant.
    console.expect_error(r"status of (422|403)")
    for label in refused:
        box = page.get_by_label(label, exact=True)
        box.evaluate("box => { box.disabled = false; box.checked = true; }")
        page.get_by_label("Name").fill("Sneaky")
        page.get_by_role("button", name="Save and generate credentials").click()
        expect(page.get_by_role("alert")).to_be_visible()
        expect(page.get_by_label("Name")).to_have_value("Sneaky")
        expect(page.get_by_label(label, exact=True)).to_be_disabled()  # and still refused
    page.goto(console.tenant_url("credentials"))
    expect(row(page, "Sneaky")).to_have_count(0)
    expect(page.get_by_text("No OAuth client credentials yet.")).to_be_visible()


def test_revoke_and_delete_through_the_row_menu(console: Console, factory: Factory) -> None:
    page = console.page
    billing = factory.client(console.tenant, name="Billing sync")
    reporting = factory.client(console.tenant, name="Old reporting")
    markup = factory.client(console.tenant, name=MARKUP)
    console.sign_in_as_admin(factory)
    # Names are text, never markup: in the table, in the menu's label and in the dialog's title.
    expect(page.locator("td:first-child").get_by_text(MARKUP, exact=True)).to_be_visible()
    page.get_by_label(f"Actions for {MARKUP}").click()
    page.get_by_role("row").filter(has=page.get_by_label(f"Actions for {MARKUP}")).get_by_role(
        "button", name="Revoke", exact=True
    ).click()
    expect(page.get_by_role("dialog", name=f"Revoke “{MARKUP}”?")).to_be_visible()
    page.keyboard.press("Escape")
    assert page.evaluate("window.injected === undefined")
    assert_works(console.server, markup)

    confirm(page, "Billing sync", "Revoke", "Revoke “Billing sync”?", "Revoke")
    expect(row(page, "Billing sync").get_by_text("Revoked", exact=True)).to_be_visible()
    expect(row(page, "Old reporting").get_by_text("Active", exact=True)).to_be_visible()
    assert_refused(console.server, billing)
    assert_works(console.server, reporting)

    page.get_by_label("Actions for Billing sync").click()  # a revoked credential: delete only
    menu = row(page, "Billing sync")
    expect(menu.get_by_role("button", name="Delete")).to_be_visible()
    expect(menu.get_by_role("button", name="Revoke", exact=True)).to_have_count(0)
    expect(menu.get_by_role("button", name="Rotate secret")).to_have_count(0)
    page.keyboard.press("Escape")
    page.get_by_label("Actions for Billing sync").click()  # closes the menu again

    confirm(page, "Old reporting", "Delete", "Delete “Old reporting”?", "Delete")
    expect(row(page, "Old reporting")).to_have_count(0)
    expect(row(page, "Billing sync")).to_have_count(1)
    assert_refused(console.server, reporting)


def test_rotate_shows_the_new_secret_once_and_revoke_all(
    console: Console, factory: Factory
) -> None:
    page = console.page
    billing = factory.client(console.tenant, name="Billing sync")
    reporting = factory.client(console.tenant, name="Reporting")
    console.sign_in_as_admin(factory)

    confirm(
        page,
        "Billing sync",
        "Rotate secret",
        "Rotate the secret of “Billing sync”?",
        "Rotate secret",
    )
    dialog = reveal_dialog(page, "Billing sync")
    expect(dialog).to_be_visible()
    assert dialog.get_by_label("Client ID", exact=True).input_value() == billing.client_id
    rotated = copy(page, dialog, "Secret key")
    assert rotated.startswith("gpcs_")
    assert rotated != billing.secret
    assert_refused(console.server, billing)
    assert_works(console.server, replace(billing, secret=rotated))
    dialog.get_by_role("button", name="Done").click()
    expect(page.locator("dialog.reveal")).to_have_count(0)  # removed from the page, not hidden
    page.reload()
    expect(page.get_by_role("heading", name="API credentials")).to_be_visible()
    assert rotated not in page.content()

    page.get_by_role("button", name="Revoke all").click()
    everything = page.get_by_role("dialog", name="Revoke all credentials?")
    expect(everything).to_be_visible()
    everything.get_by_role("button", name="Revoke all").click()
    expect(everything).to_be_hidden()
    for name in ("Billing sync", "Reporting"):
        expect(row(page, name).get_by_text("Revoked", exact=True)).to_be_visible()
    expect(page.get_by_text("Active", exact=True)).to_have_count(0)
    assert_refused(console.server, replace(billing, secret=rotated))
    assert_refused(console.server, reporting)
