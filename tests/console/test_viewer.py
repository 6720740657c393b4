"""A viewer reads the credentials but cannot change them, in the page or by a forged request."""

from __future__ import annotations

import pytest
import requests
from playwright.sync_api import expect

from tests.apikeys.support import verifier
from tests.console.conftest import Console, assert_works, key_code
from tests.console.test_api_keys import make_key
from tests.factories import Factory

pytestmark = pytest.mark.e2e


def test_viewer_sees_the_table_without_controls_and_a_forged_revoke_is_refused(
    console: Console, factory: Factory
) -> None:
    page = console.page
    billing = factory.client(console.tenant, name="Billing sync")
    factory.user(console.tenant, email=console.email("vic"), role="viewer")
    console.sign_in(console.email("vic"))

    expect(page.get_by_role("heading", name="API credentials")).to_be_visible()
    billing_row = page.get_by_role("row").filter(has_text="Billing sync")
    expect(billing_row).to_contain_text(billing.client_id)
    expect(billing_row.get_by_text("Active", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="New OAuth client credentials")).to_have_count(0)
    expect(page.get_by_role("button", name="Revoke all")).to_have_count(0)
    expect(page.get_by_label("Actions for Billing sync")).to_have_count(0)
    expect(page.locator("dialog")).to_have_count(0)  # no confirmation forms in the page either
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()

    cookie = console.session_cookie()
    assert cookie is not None
    csrf = page.locator("input[name=csrf_token]").first.get_attribute("value")
    assert csrf
    http = requests.Session()
    http.cookies.set("gatepass_session", str(cookie["value"]))
    forged = {
        f"/console/{console.tenant}/credentials/{billing.client_id}/edit": {
            "csrf_token": csrf,
            "name": "Forged",
        },
        f"/console/{console.tenant}/credentials/{billing.client_id}/suspend": {"csrf_token": csrf},
        f"/console/{console.tenant}/credentials/{billing.client_id}/resume": {"csrf_token": csrf},
        f"/console/{console.tenant}/credentials/{billing.client_id}/revoke": {"csrf_token": csrf},
        f"/console/{console.tenant}/credentials/{billing.client_id}/rotate": {"csrf_token": csrf},
        f"/console/{console.tenant}/credentials/{billing.client_id}/delete": {"csrf_token": csrf},
        f"/console/{console.tenant}/credentials/all/revoke-all": {"csrf_token": csrf},
        f"/console/{console.tenant}/credentials": {
            "csrf_token": csrf,
            "name": "Forged",
            "scopes": "nql",
        },
    }
    for path, form in forged.items():
        answer = http.post(console.url(path), data=form, allow_redirects=False, timeout=5)
        assert answer.status_code == 403, (path, answer.status_code)
        assert "gatepass_reveal" not in answer.cookies
    for form_page in ("credentials/new", f"credentials/{billing.client_id}/edit"):
        shown = http.get(console.tenant_url(form_page), allow_redirects=False, timeout=5)
        assert shown.status_code == 403, form_page
    # The session itself still works, so the 403s were about the role, not a dead session.
    assert http.get(console.tenant_url("credentials"), timeout=5).status_code == 200

    assert_works(console.server, billing)
    page.reload()
    expect(billing_row.get_by_text("Active", exact=True)).to_be_visible()
    expect(page.get_by_role("row").filter(has_text="Forged")).to_have_count(0)


def test_viewer_reads_api_keys_without_controls_and_forged_key_actions_are_refused(
    console: Console, factory: Factory
) -> None:
    page = console.page
    key = make_key(factory, console.tenant, "Kiosk")
    caller = verifier(factory, console.tenant)
    factory.user(console.tenant, email=console.email("vic"), role="viewer")
    console.sign_in(console.email("vic"))
    page.get_by_role("link", name="API keys (read-only)").click()
    expect(page.get_by_role("row").filter(has_text="Kiosk")).to_contain_text("Active")
    expect(page.get_by_role("link", name="New API key")).to_have_count(0)
    expect(page.get_by_role("button", name="Revoke all")).to_have_count(0)
    expect(page.locator("dialog")).to_have_count(0)
    expect(page.get_by_role("link", name="Users")).to_have_count(0)

    key_id = page.get_by_role("row").filter(has_text="Kiosk").locator(".help").last.inner_text()
    csrf = page.locator("input[name=csrf_token]").first.input_value()
    for path in (
        f"/console/{console.tenant}/api-keys/{key_id}/regenerate",
        f"/console/{console.tenant}/api-keys/{key_id}/edit",
        f"/console/{console.tenant}/api-keys/{key_id}/suspend",
        f"/console/{console.tenant}/api-keys/{key_id}/resume",
        f"/console/{console.tenant}/api-keys/{key_id}/revoke",
        f"/console/{console.tenant}/api-keys/{key_id}/delete",
        f"/console/{console.tenant}/api-keys/all/revoke-all",
        f"/console/{console.tenant}/api-keys",
        f"/console/{console.tenant}/settings/keys",
    ):
        answer = page.request.post(
            console.url(path), form={"csrf_token": csrf, "name": "Forged"}, max_redirects=0
        )
        assert answer.status == 403, (path, answer.status)
    assert key_code(console.server, caller, key) == "VALID"
