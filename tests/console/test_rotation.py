"""Rotation in a real browser with a grace period chosen in the dialog: the old secret (or key)
keeps working for it, beside the new one; "No" stops it at once (see test_credentials)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from playwright.sync_api import expect

from tests.apikeys.support import verifier
from tests.console.conftest import Console, assert_refused, assert_works, key_becomes, key_code
from tests.console.pages import key_dialog, reveal_dialog, row
from tests.console.test_api_keys import make_key
from tests.factories import Factory

pytestmark = pytest.mark.e2e


def open_dialog(console: Console, name: str, action: str, title: str) -> None:
    page = console.page
    page.get_by_label(f"Actions for {name}").click()
    row(page, name).get_by_role("button", name=action, exact=True).click()
    expect(page.get_by_role("dialog", name=title)).to_be_visible()


def rotate_with_grace(console: Console, name: str, grace: str) -> None:
    """Rotate the client's secret from its row menu, keeping the old one ``grace``."""
    title = f"Rotate the secret of “{name}”?"
    open_dialog(console, name, "Rotate secret", title)
    dialog = console.page.get_by_role("dialog", name=title)
    dialog.get_by_label("The current secret keeps working").select_option(label=grace)
    dialog.get_by_role("button", name="Rotate secret").click()


def test_a_rotated_client_secret_keeps_working_for_the_grace_chosen(
    console: Console, factory: Factory
) -> None:
    page = console.page
    billing = factory.client(console.tenant, name="Billing sync")
    console.sign_in_as_admin(factory)
    rotate_with_grace(console, "Billing sync", "for 24 hours")

    shown = reveal_dialog(page, "Billing sync")
    rotated = shown.get_by_label("Secret key", exact=True).input_value()
    assert rotated != billing.secret
    assert_works(console.server, replace(billing, secret=rotated))
    assert_works(console.server, billing)  # still within its 24 hours


def test_a_regenerated_key_s_old_value_keeps_working_for_the_grace_chosen(
    console: Console, factory: Factory
) -> None:
    page = console.page
    caller = verifier(factory, console.tenant)
    old = make_key(factory, console.tenant, "Nightly export")
    console.sign_in_as_admin(factory)
    page.goto(console.tenant_url("api-keys"))
    open_dialog(console, "Nightly export", "Regenerate", "Regenerate “Nightly export”?")
    dialog = page.get_by_role("dialog", name="Regenerate “Nightly export”?")
    dialog.get_by_label("The existing key keeps working").select_option(label="for 1 hour")
    dialog.get_by_role("button", name="Regenerate").click()

    new = key_dialog(page, "Nightly export").get_by_label("API key", exact=True).input_value()
    key_becomes(console.server, caller, new, "VALID")
    assert key_code(console.server, caller, old) == "VALID"


def test_the_edit_page_lists_each_version_and_retires_unused_older_ones(
    console: Console, factory: Factory
) -> None:
    page = console.page
    billing = factory.client(console.tenant, name="Billing sync")
    console.sign_in_as_admin(factory)
    rotate_with_grace(console, "Billing sync", "for 7 days")
    reveal_dialog(page, "Billing sync").get_by_role("button", name="Done").click()

    page.goto(console.tenant_url(f"credentials/{billing.client_id}/edit"))
    versions = page.get_by_role("table").filter(has_text="Last used")
    expect(versions.get_by_role("row")).to_have_count(3)  # heading, old, new
    page.get_by_label("End older secrets unused for").select_option(label="15 minutes")
    page.get_by_role("button", name="Retire unused older secrets").click()

    # The old secret was never used: it ends now; the button goes with the last older one.
    expect(page.get_by_role("button", name="Retire unused older secrets")).to_have_count(0)
    assert_refused(console.server, billing)
