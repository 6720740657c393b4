"""What the console review found, fixed: "Revoke all" says what it revokes and can keep what
verifies keys or manages Gatepass, each revoked credential shows in its own history, the emailed
link names its credential, permissions read by label (management ones apart), a personal key
with no permission is warned about, and nothing is cut off or overflows on a phone."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, expect

from tests.apikeys.support import verifier
from tests.console.conftest import Console, Mailbox, assert_refused, assert_works, key_becomes
from tests.console.pages import copy, key_dialog, reveal_dialog, row
from tests.console.test_api_keys import make_key
from tests.factories import Factory

pytestmark = pytest.mark.e2e

LINK = re.compile(r"(https?://\S+/console/link#[A-Za-z0-9_-]+)")
PAGES = (
    "credentials",
    "credentials/new",
    "api-keys",
    "api-keys/new",
    "audit",
    "users",
    "permissions",
    "settings",
    "settings/keys/new",
)
PHONE = {"width": 390, "height": 844}
# the elements reaching past the right edge of a 390 px page, outside a scrolling table
WIDE = """() => [...document.querySelectorAll("body *")]
  .filter((e) => e.getBoundingClientRect().right > 390 && !e.closest(".table-wrap"))
  .map((e) => `${e.tagName}.${e.className}`).slice(0, 8)"""


def test_revoke_all_clients_counts_and_keeps_the_management_ones(
    console: Console, factory: Factory
) -> None:
    page = console.page
    billing = factory.client(console.tenant, scopes=("nql",), name="Billing sync")
    reporting = factory.client(console.tenant, scopes=("workflows",), name="Reporting")
    gateway = verifier(factory, console.tenant)
    robot = factory.client(console.tenant, scopes=("credentials:manage",), name="Robot")
    console.sign_in_as_admin(factory)

    page.get_by_role("button", name="Revoke all").click()
    dialog = page.get_by_role("dialog", name="Revoke all credentials?")
    keep = dialog.get_by_label("Keep credentials that verify API keys or manage Gatepass")
    expect(keep).to_be_checked()
    expect(dialog).to_contain_text("This revokes 2 OAuth clients")
    keep.uncheck()
    expect(dialog).to_contain_text("This revokes 4 OAuth clients")
    keep.check()
    expect(dialog).to_contain_text("This revokes 2 OAuth clients")
    console.screenshot("revoke-all")
    dialog.get_by_role("button", name="Revoke all").click()
    expect(dialog).to_be_hidden()

    for name in ("Billing sync", "Reporting"):
        expect(row(page, name).get_by_text("Revoked", exact=True)).to_be_visible()
    for name in ("resource server", "Robot"):
        expect(row(page, name).get_by_text("Active", exact=True)).to_be_visible()
    assert_refused(console.server, billing)
    assert_refused(console.server, reporting)
    assert_works(console.server, gateway)
    assert_works(console.server, robot)

    # Each revoked client's own history shows its revoke; a kept one's does not.
    page.get_by_role("link", name="Audit log").click()
    page.get_by_label("Credential").fill(billing.client_id)
    page.get_by_role("button", name="Filter").click()
    events = page.get_by_role("row")
    expect(events.nth(1)).to_contain_text("client.revoke")
    expect(events.nth(1)).to_contain_text("revoke all")
    expect(events.nth(1)).to_contain_text(console.admin)
    page.get_by_label("Credential").fill(robot.client_id)
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_text("client.revoke", exact=True)).to_have_count(0)


def test_revoke_all_keys_unchecked_revokes_the_verifiers_too(
    console: Console, factory: Factory
) -> None:
    page = console.page
    watcher = verifier(factory, console.tenant, scopes=("nql",))  # checks the keys afterwards
    key = make_key(factory, console.tenant, "Kiosk")
    console.sign_in_as_admin(factory)
    page.goto(console.tenant_url("api-keys"))

    page.get_by_role("button", name="Revoke all").click()
    dialog = page.get_by_role("dialog", name="Revoke all API keys?")
    expect(dialog).to_contain_text("This revokes 1 API key:")
    dialog.get_by_label("Keep credentials that verify API keys or manage Gatepass").uncheck()
    expect(dialog).to_contain_text("This revokes 1 API key:")  # the verifier is a client
    dialog.get_by_role("button", name="Revoke all").click()
    expect(row(page, "Kiosk")).to_contain_text("Revoked")
    key_becomes(console.server, watcher, key, "REVOKED")


def test_the_emailed_link_names_the_key_and_what_happened_to_it(
    console: Console, factory: Factory, browser: Browser, module_mailbox: Mailbox
) -> None:
    page = console.page
    console.sign_in_as_admin(factory)
    page.goto(console.tenant_url("api-keys/new"))
    page.get_by_label("Name").fill("Partner feed")
    page.get_by_label("NQL", exact=True).check()
    page.get_by_label("Email to (optional)").fill("lee@partner.example")
    page.get_by_role("button", name="Create").click()
    emailed = page.get_by_role("dialog", name="Emailed a one-time link for “Partner feed”")
    emailed.get_by_role("button", name="Done").click()
    key_id = row(page, "Partner feed").locator("td").nth(1).locator(".help").inner_text()

    created = mail_about(module_mailbox, "Partner feed", "New")
    body = " ".join(created.get_content().split())
    assert f"created API key “Partner feed” (key ID {key_id})" in body
    recipient = browser.new_context().new_page()
    recipient.goto(link_of(created))
    about = recipient.locator("[data-about]")
    expect(about).to_have_text(f"New API key “Partner feed” (key ID {key_id}), just created.")
    recipient.get_by_role("button", name="Show the secret").click()
    expect(recipient.locator("[data-summary]")).to_contain_text(key_id)
    shown = recipient.get_by_label("API key", exact=True).input_value()
    assert shown not in body

    # Regenerated: the mail and the page say so.
    page.get_by_label("Actions for Partner feed").click()
    row(page, "Partner feed").get_by_role("button", name="Regenerate").click()
    dialog = page.get_by_role("dialog", name="Regenerate “Partner feed”?")
    dialog.get_by_label("Email to (optional)").fill("lee@partner.example")
    dialog.get_by_role("button", name="Regenerate").click()
    regenerated = mail_about(module_mailbox, "Partner feed", "Regenerated")
    assert f"regenerated the API key “Partner feed” (key ID {key_id})" in " ".join(
        regenerated.get_content().split()
    )
    again = browser.new_context().new_page()
    again.goto(link_of(regenerated))
    expect(again.locator("[data-about]")).to_contain_text("regenerated")
    expect(again.locator("[data-about]")).to_contain_text(key_id)
    again.context.close()
    recipient.context.close()


def mail_about(mailbox: Mailbox, name: str, fresh: str) -> object:
    subject = f"{fresh} API key “{name}” for Acme"
    mailbox.wait_for(1)
    found = [m for m in mailbox.messages if m["Subject"] == subject]
    if not found:  # the mail may still be on its way
        mailbox.wait_for(len(mailbox.messages) + 1)
        found = [m for m in mailbox.messages if m["Subject"] == subject]
    assert found, [m["Subject"] for m in mailbox.messages]
    return found[-1]


def link_of(message: object) -> str:
    found = LINK.search(message.get_content())  # type: ignore[attr-defined]
    assert found
    return found.group(1)


def test_permissions_read_by_label_with_management_ones_apart(
    console: Console, factory: Factory
) -> None:
    page = console.page
    factory.client(console.tenant, scopes=("credentials:read", "nql"), name="Reporting")
    console.sign_in_as_admin(factory)

    listed = row(page, "Reporting").locator("ul.granted li")
    expect(listed).to_have_text(["NQL", "Read API credentials Management"])
    expect(listed.nth(0)).to_have_attribute("title", "nql")
    expect(row(page, "Reporting")).not_to_contain_text("credentials:read")

    page.goto(console.tenant_url("credentials/new"))
    product = page.get_by_role("group", name="Permissions", exact=True)
    management = page.get_by_role("group", name="Management permissions")
    expect(product.get_by_label("NQL", exact=True)).to_be_visible()
    expect(product.get_by_label("Verify API keys")).to_have_count(0)
    expect(management.get_by_label("Verify API keys")).to_be_visible()
    expect(management.get_by_label("NQL", exact=True)).to_have_count(0)
    console.screenshot("credential-form")


def test_a_personal_key_without_permissions_is_warned_about_first(
    console: Console, factory: Factory
) -> None:
    page = console.page
    watcher = verifier(factory, console.tenant)
    console.sign_in_as_admin(factory)
    page.goto(console.tenant_url("settings/keys/new"))
    expect(page.get_by_text("with none, it can do nothing")).to_be_visible()  # before
    page.get_by_label("Name").fill("Scratch")
    page.get_by_label("Description").fill("Trying things")
    page.get_by_role("button", name="Create", exact=True).click()

    warning = page.get_by_role("alert")
    expect(warning).to_contain_text("A key with no permission can do nothing")
    expect(page.get_by_label("Name")).to_have_value("Scratch")  # what was typed is kept
    expect(page.locator("dialog.reveal")).to_have_count(0)  # nothing was created
    page.get_by_role("button", name="Create without permissions").click()
    dialog = key_dialog(page, "Scratch")
    key = dialog.get_by_label("API key", exact=True).input_value()
    dialog.get_by_role("button", name="Done").click()
    expect(row(page, "Scratch")).to_contain_text("—")
    key_becomes(console.server, watcher, key, "VALID")

    # Choosing a permission after the warning creates the key with it.
    page.goto(console.tenant_url("settings/keys/new"))
    page.get_by_label("Name").fill("Useful")
    page.get_by_label("Description").fill("Reports")
    page.get_by_role("button", name="Create", exact=True).click()
    page.get_by_label("NQL", exact=True).check()
    page.get_by_role("button", name="Create", exact=True).click()
    key_dialog(page, "Useful").get_by_role("button", name="Done").click()
    expect(row(page, "Useful")).to_contain_text("NQL")


def test_the_client_id_is_copied_from_the_table_and_stays_on_one_line(
    console: Console, factory: Factory
) -> None:
    page = console.page
    billing = factory.client(console.tenant, name="Billing sync")
    console.sign_in_as_admin(factory)
    page.set_viewport_size(PHONE)
    page.reload()

    cell = row(page, "Billing sync").locator("code", has_text=billing.client_id)
    button = row(page, "Billing sync").get_by_role("button", name=f"Copy {billing.client_id}")
    page.evaluate("navigator.clipboard.writeText('')")
    button.click()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == billing.client_id
    assert one_line(cell.first)
    assert one_line(row(page, "Billing sync").locator("time").first)


def one_line(locator: object) -> bool:
    """The element's text fits one line box (no wrap): its height is under two lines."""
    return bool(
        locator.evaluate(  # type: ignore[attr-defined]
            "e => e.getBoundingClientRect().height < 2 * parseFloat(getComputedStyle(e).lineHeight"
            " === 'normal' ? '20' : getComputedStyle(e).lineHeight)"
        )
    )


def test_the_secret_dialogs_curl_box_shows_every_line(console: Console, factory: Factory) -> None:
    page = console.page
    console.sign_in_as_admin(factory)
    page.set_viewport_size(PHONE)
    page.goto(console.tenant_url("credentials/new"))
    page.get_by_label("Name").fill("Billing sync")
    page.get_by_role("button", name="Save and generate credentials").click()
    dialog = reveal_dialog(page, "Billing sync")
    curl = dialog.get_by_label("Get an access token")
    sizes = curl.evaluate(
        "e => ({rows: e.value.split('\\n').length, sh: e.scrollHeight, ch: e.clientHeight,"
        " sw: e.scrollWidth, cw: e.clientWidth, ox: getComputedStyle(e).overflowX})"
    )
    assert sizes["sh"] <= sizes["ch"] + 1, sizes  # every line in view, none cut off
    assert sizes["ox"] in ("auto", "scroll"), sizes  # long lines scroll sideways
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    secret = copy(page, dialog, "Secret key")
    assert secret in copy(page, dialog, "Get an access token")


def test_no_page_overflows_a_phone_screen(console: Console, factory: Factory) -> None:
    page = console.page
    factory.client(
        console.tenant,
        scopes=("nql", "workflows", "campaigns", "credentials:manage"),
        name="A rather long integration name for the billing synchronisation",
    )
    make_key(factory, console.tenant, "Kiosk")
    console.sign_in_as_admin(factory)
    make_key(factory, console.tenant, "Ada's laptop", owner=console.admin)
    page.set_viewport_size(PHONE)
    for path in PAGES:
        page.goto(console.tenant_url(path))
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"{path}: {width}px wide: {page.evaluate(WIDE)}"
        console.screenshot(f"phone-{path.replace('/', '-')}")
    page.goto(console.url("/console/link"))
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
