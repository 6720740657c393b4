"""API keys in a real browser: create, the key shown once, regenerate, revoke, delete, viewers."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from gatepass.apikeys import service as apikeys
from gatepass.apikeys.kind import API_KEY
from gatepass.credentials import lifecycle
from gatepass.tenants import service as tenants
from tests.apikeys.support import verifier
from tests.console.conftest import Console, key_becomes, key_code
from tests.console.pages import confirm, copy, key_dialog, row, shown_once
from tests.factories import ACTOR, Factory

pytestmark = pytest.mark.e2e


def make_key(factory: Factory, tenant: str, name: str, owner: str | None = None) -> str:
    """An API key made through the service, as the CLI or the API would."""
    with factory.db.transaction() as session:
        _, secret = apikeys.create_key(
            session,
            tenants.get_tenant(session, tenant),
            apikeys.NewApiKey(name=name, owner_email=owner),
            actor=ACTOR,
            hasher=factory.hasher,
        )
        return secret.reveal()


def test_new_api_key_is_shown_once_and_the_copied_key_verifies(
    console: Console, factory: Factory
) -> None:
    page = console.page
    caller = verifier(factory, console.tenant)
    console.sign_in_as_admin(factory)
    page.get_by_role("link", name="API keys").click()
    page.get_by_role("link", name="New API key").click()
    expect(page.get_by_role("heading", name="New API key")).to_be_visible()
    page.get_by_label("Name").fill("Warehouse scanner")
    page.get_by_label("Description").fill("Handhelds at the Leeds depot")
    page.get_by_label("NQL", exact=True).check()
    expect(page.get_by_label("SPARK", exact=True)).to_be_disabled()  # unavailable, with reason
    page.get_by_label("emea", exact=True).check()
    page.get_by_label("Requests").fill("600")
    page.get_by_label("Per").select_option("minute")
    console.screenshot("new-api-key")
    page.get_by_role("button", name="Create").click()

    dialog = key_dialog(page, "Warehouse scanner")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("will not be shown again")
    console.screenshot("api-key-dialog")
    key = copy(page, dialog, "API key")
    assert key == dialog.get_by_label("API key", exact=True).input_value()
    assert key_code(console.server, caller, key) == "VALID"
    shown_once(page, dialog, key)

    listed = row(page, "Warehouse scanner")
    expect(listed).to_contain_text("NQL")
    expect(listed).to_contain_text("600 per minute")
    expect(listed).to_contain_text(console.admin)
    expect(listed).to_contain_text("Active")
    expect(listed).to_contain_text(key[-4:])  # the hint: prefix and last four characters
    console.screenshot("api-keys")

    # On a phone the page reflows: the navigation goes on top and only the table scrolls sideways.
    page.set_viewport_size({"width": 390, "height": 844})
    expect(page.get_by_role("link", name="New API key")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    console.screenshot("api-keys-phone")
    with factory.db.read() as session:
        made = lifecycle.list_all(session, tenants.get_tenant(session, console.tenant), API_KEY)
        assert [(k.name, [g.name for g in k.groups], k.rate_limit) for k in made] == [
            ("Warehouse scanner", ["emea"], 600)
        ]


def test_regenerate_revoke_and_delete_each_ask_first_and_take_effect(
    console: Console, factory: Factory
) -> None:
    page = console.page
    caller = verifier(factory, console.tenant)
    console.sign_in_as_admin(factory)
    page.goto(console.tenant_url("api-keys/new"))
    page.get_by_label("Name").fill("Nightly export")
    page.get_by_role("button", name="Create").click()
    dialog = key_dialog(page, "Nightly export")
    old = dialog.get_by_label("API key", exact=True).input_value()
    dialog.get_by_role("button", name="Done").click()

    confirm(
        page,
        "Nightly export",
        "Regenerate",
        "Regenerate “Nightly export”?",
        "Regenerate",
        says="Anything using the existing key will stop working, now or after the time you choose.",
    )
    dialog = key_dialog(page, "Nightly export")
    new = dialog.get_by_label("API key", exact=True).input_value()
    assert new != old
    dialog.get_by_role("button", name="Done").click()
    key_becomes(console.server, caller, old, "REVOKED")
    assert key_code(console.server, caller, new) == "VALID"

    confirm(page, "Nightly export", "Revoke", "Revoke “Nightly export”?", "Revoke")
    expect(row(page, "Nightly export")).to_contain_text("Revoked")
    key_becomes(console.server, caller, new, "REVOKED")

    confirm(
        page,
        "Nightly export",
        "Delete",
        "Delete “Nightly export”?",
        "Delete",
        says="This cannot be undone.",
    )
    expect(row(page, "Nightly export")).to_have_count(0)
    key_becomes(console.server, caller, new, "NOT_FOUND")


def test_cancel_leaves_the_key_alone(console: Console, factory: Factory) -> None:
    page = console.page
    caller = verifier(factory, console.tenant)
    key = make_key(factory, console.tenant, "Kiosk")
    console.sign_in_as_admin(factory)
    page.goto(console.tenant_url("api-keys"))
    page.get_by_label("Actions for Kiosk").click()
    row(page, "Kiosk").get_by_role("button", name="Delete", exact=True).click()
    asked = page.get_by_role("dialog", name="Delete “Kiosk”?")
    expect(asked).to_be_visible()
    page.keyboard.press("Escape")
    expect(asked).to_be_hidden()
    expect(row(page, "Kiosk")).to_contain_text("Active")
    assert key_code(console.server, caller, key) == "VALID"


def test_revoke_all_keys(console: Console, factory: Factory) -> None:
    page = console.page
    caller = verifier(factory, console.tenant)
    console.sign_in_as_admin(factory)
    made = []
    for name in ("Scanner A", "Scanner B"):
        page.goto(console.tenant_url("api-keys/new"))
        page.get_by_label("Name").fill(name)
        page.get_by_role("button", name="Create").click()
        dialog = key_dialog(page, name)
        made.append(dialog.get_by_label("API key", exact=True).input_value())
        dialog.get_by_role("button", name="Done").click()
    page.get_by_role("button", name="Revoke all").click()
    asked = page.get_by_role("dialog", name="Revoke all API keys?")
    asked.get_by_role("button", name="Revoke all").click()
    for name in ("Scanner A", "Scanner B"):
        expect(row(page, name)).to_contain_text("Revoked")
    for key in made:
        key_becomes(console.server, caller, key, "REVOKED")
