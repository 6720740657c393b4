"""Personal API keys under the user's own Settings page (seed 002: "Personal PSK")."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from gatepass.apikeys import service as apikeys
from gatepass.apikeys.kind import API_KEY
from gatepass.credentials import lifecycle
from gatepass.pagination import PageRequest
from gatepass.tenants import service as tenants
from tests.apikeys.support import verifier
from tests.console.conftest import Console, key_becomes, key_code
from tests.console.pages import confirm, copy, key_dialog, row, shown_once
from tests.console.test_api_keys import make_key
from tests.factories import Factory

pytestmark = pytest.mark.e2e


def test_personal_psk_create_regenerate_delete(console: Console, factory: Factory) -> None:
    page = console.page
    caller = verifier(factory, console.tenant)
    factory.user(console.tenant, email=console.email("cam"), role="credentials_manager")
    console.sign_in(console.email("cam"))
    page.get_by_role("link", name="Settings").click()
    expect(page.get_by_role("heading", name="Personal PSK")).to_be_visible()
    expect(page.get_by_text("You have no personal keys.")).to_be_visible()
    page.get_by_role("link", name="New personal PSK").click()
    page.get_by_label("Name").fill("My laptop")
    page.get_by_label("Description").fill("Scripts I run by hand")
    expect(page.get_by_label("Administer the tenant", exact=True)).to_be_disabled()
    expect(page.get_by_text("Your role cannot hold this")).to_be_visible()
    page.get_by_label("NQL", exact=True).check()
    page.get_by_role("button", name="Create").click()

    dialog = key_dialog(page, "My laptop")
    key = copy(page, dialog, "API key")
    answer = key_code(console.server, caller, key)
    assert answer == "VALID"
    shown_once(page, dialog, key)
    expect(row(page, "My laptop")).to_contain_text("NQL")
    console.screenshot("settings")

    confirm(
        page,
        "My laptop",
        "Regenerate",
        "Regenerate “My laptop”?",
        "Regenerate",
        says="Anything using the existing key will stop working.",
    )
    dialog = key_dialog(page, "My laptop")
    renewed = dialog.get_by_label("API key", exact=True).input_value()
    dialog.get_by_role("button", name="Done").click()
    key_becomes(console.server, caller, key, "REVOKED")
    assert key_code(console.server, caller, renewed) == "VALID"

    confirm(page, "My laptop", "Delete", "Delete “My laptop”?", "Delete", says="cannot be undone")
    expect(page.get_by_text("You have no personal keys.")).to_be_visible()
    key_becomes(console.server, caller, renewed, "NOT_FOUND")


def test_settings_lists_only_ones_own_keys_and_refuses_anothers(
    console: Console, factory: Factory
) -> None:
    page = console.page
    factory.user(console.tenant, email=console.email("cam"), role="credentials_manager")
    factory.user(console.tenant, email=console.email("dee"), role="credentials_manager")
    make_key(factory, console.tenant, "Cam's key", owner=console.email("cam"))
    theirs = make_key(factory, console.tenant, "Dee's key", owner=console.email("dee"))
    caller = verifier(factory, console.tenant)
    console.sign_in(console.email("cam"))
    page.goto(console.tenant_url("settings"))
    expect(row(page, "Cam's key")).to_have_count(1)
    expect(row(page, "Dee's key")).to_have_count(0)

    # A forged post for someone else's key, with a valid CSRF token, is refused and changes nothing.
    csrf = page.locator("input[name=csrf_token]").first.input_value()
    with factory.db.read() as session:
        dees = (
            lifecycle.search(
                session,
                tenants.get_tenant(session, console.tenant),
                API_KEY,
                lifecycle.CredentialFilter(extra=apikeys.owner_filters(owner=console.email("dee"))),
                PageRequest(limit=5),
            )
            .items[0]
            .key_id
        )
    answer = page.request.post(
        console.tenant_url(f"settings/keys/{dees}/delete"), form={"csrf_token": csrf}
    )
    assert answer.status == 422
    assert "no personal API key" in answer.text()
    assert key_code(console.server, caller, theirs) == "VALID"


def test_a_viewer_cannot_create_personal_keys(console: Console, factory: Factory) -> None:
    page = console.page
    factory.user(console.tenant, email=console.email("vic"), role="viewer")
    console.sign_in(console.email("vic"))
    page.goto(console.tenant_url("settings"))
    expect(page.get_by_text("Your role is read-only")).to_be_visible()
    expect(page.get_by_role("link", name="New personal PSK")).to_have_count(0)
    console.expect_error("403")
    page.goto(console.tenant_url("settings/keys/new"))
    expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()
