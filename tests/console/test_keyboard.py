"""The confirmation dialogs with the keyboard alone."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.console.conftest import Console, assert_works
from tests.factories import Factory

pytestmark = pytest.mark.e2e


def test_escape_closes_a_confirmation_without_acting_and_focus_returns(
    console: Console, factory: Factory
) -> None:
    page = console.page
    billing = factory.client(console.tenant, name="Billing sync")
    console.sign_in_as_admin(factory)
    menu = page.get_by_label("Actions for Billing sync")
    status = page.get_by_role("row").filter(has_text="Billing sync").get_by_text("Active")

    menu.focus()
    page.keyboard.press("Enter")  # opens the row menu
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Rotate secret")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Edit", exact=True)).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Suspend", exact=True)).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Revoke", exact=True)).to_be_focused()
    page.keyboard.press("Enter")

    dialog = page.get_by_role("dialog", name="Revoke “Billing sync”?")
    expect(dialog).to_be_visible()
    cancel = dialog.get_by_role("button", name="Cancel")
    confirm = dialog.get_by_role("button", name="Revoke", exact=True)
    expect(cancel).to_be_focused()
    page.keyboard.press("Tab")
    expect(confirm).to_be_focused()
    page.keyboard.press("Shift+Tab")
    expect(cancel).to_be_focused()

    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(menu).to_be_focused()
    page.reload()
    expect(status).to_be_visible()
    assert_works(console.server, billing)

    # "Revoke all" too: Escape leaves everything as it was, focus goes back to its button.
    revoke_all = page.get_by_role("button", name="Revoke all")
    revoke_all.focus()
    page.keyboard.press("Enter")
    everything = page.get_by_role("dialog", name="Revoke all credentials?")
    expect(everything).to_be_visible()
    expect(everything.get_by_role("button", name="Cancel")).to_be_focused()
    page.keyboard.press("Escape")
    expect(everything).to_be_hidden()
    expect(revoke_all).to_be_focused()

    # And the Cancel button, pressed with the keyboard, does the same.
    revoke_all.press("Enter")
    expect(everything).to_be_visible()
    page.keyboard.press("Enter")  # on Cancel, which has the focus
    expect(everything).to_be_hidden()
    expect(revoke_all).to_be_focused()
    page.reload()
    expect(status).to_be_visible()
    assert_works(console.server, billing)
