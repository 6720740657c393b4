"""Reading and driving console pages the way a person does: by roles, labels and names."""

from __future__ import annotations

from playwright.sync_api import Locator, Page, expect

from tests.http.support import poll


def row(page: Page, name: str) -> Locator:
    return page.get_by_role("row").filter(has=page.locator("td:first-child", has_text=name))


def reveal_dialog(page: Page, name: str) -> Locator:
    return page.get_by_role("dialog", name=f"OAuth client credentials for “{name}”")


def copy(page: Page, dialog: Locator, label: str) -> str:
    """Click the "Copy" button next to ``label`` and read back what reached the clipboard."""
    field = page.get_by_label(label, exact=True)  # queried inside each row of the dialog
    button = dialog.locator(".copy-row").filter(has=field).get_by_role("button")
    expect(button).to_have_text("Copy")
    page.evaluate("navigator.clipboard.writeText('')")
    button.click()
    copied: str = poll(lambda: page.evaluate("navigator.clipboard.readText()"), bool)
    return copied


def confirm(
    page: Page, menu_for: str, action: str, title: str, submit: str, *, says: str = ""
) -> None:
    """Open the row menu of ``menu_for``, pick ``action`` and confirm in the dialog it opens
    (which must say ``says``, when given)."""
    page.get_by_label(f"Actions for {menu_for}").click()
    row(page, menu_for).get_by_role("button", name=action, exact=True).click()
    dialog = page.get_by_role("dialog", name=title)
    expect(dialog).to_be_visible()
    if says:
        expect(dialog).to_contain_text(says)
    dialog.get_by_role("button", name=submit, exact=True).click()
    expect(dialog).to_be_hidden()


def key_dialog(page: Page, name: str) -> Locator:
    return page.get_by_role("dialog", name=f"API key for “{name}”")


def shown_once(page: Page, dialog: Locator, secret: str) -> None:
    """Close the one-time dialog; the secret must be gone from the page, and stay gone on reload."""
    dialog.get_by_role("button", name="Done").click()
    expect(page.locator("dialog.reveal")).to_have_count(0)  # removed from the page, not hidden
    assert secret not in page.content()
    page.reload()
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    expect(page.locator("dialog.reveal")).to_have_count(0)
    assert secret not in page.content()
