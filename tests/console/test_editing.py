"""Editing credentials in a real browser: the form comes filled with what the credential holds,
saves only what changed, keeps a permission the editor could not grant, and refuses bad input
with the form again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from playwright.sync_api import expect

from gatepass.apikeys import service as apikeys
from gatepass.apikeys.kind import API_KEY
from gatepass.clients.kind import CLIENT
from gatepass.credentials import lifecycle
from gatepass.tenants import service as tenants
from tests.apikeys.support import verifier
from tests.console.conftest import Console, key_becomes, token_response
from tests.console.pages import row
from tests.factories import ACTOR, Factory
from tests.http.support import poll

pytestmark = pytest.mark.e2e


def stored(factory: Factory, tenant: str, kind: lifecycle.Kind[Any], ref: str) -> Any:
    with factory.db.read() as session:
        row_ = lifecycle.get(session, tenants.get_tenant(session, tenant), kind, ref)
        session.expunge_all()
        return row_


def test_a_client_is_edited_and_its_next_token_carries_the_change(
    console: Console, factory: Factory
) -> None:
    page = console.page
    expires = datetime.now(UTC) + timedelta(days=40)
    billing = factory.client(
        console.tenant, name="Billing sync", scopes=("nql",), expires_at=expires
    )
    console.sign_in_as_admin(factory)

    page.get_by_label("Actions for Billing sync").click()
    row(page, "Billing sync").get_by_role("link", name="Edit").click()
    expect(page.get_by_role("heading", name="Edit “Billing sync”")).to_be_visible()
    expect(page.get_by_label("Name")).to_have_value("Billing sync")
    expect(page.get_by_label("NQL", exact=True)).to_be_checked()
    expect(page.get_by_label("Expires on (optional)")).to_have_value(expires.date().isoformat())
    expect(page.get_by_label("Email to (optional)")).to_have_count(0)  # no secret is made

    page.get_by_label("Name").fill("Billing export")
    page.get_by_label("WORKFLOWS", exact=True).check()
    page.get_by_role("button", name="Save changes").click()

    expect(row(page, "Billing export")).to_have_count(1)
    client = stored(factory, console.tenant, CLIENT, billing.client_id)
    assert client.expires_at is not None
    kept = client.expires_at.replace(tzinfo=UTC)
    assert abs(kept - expires) < timedelta(seconds=1)  # the same date was not a change
    answer = poll(
        lambda: token_response(console.server, billing),
        lambda r: r.status_code == 200 and r.json()["scope"] == "nql workflows",
    )
    assert answer.json()["scope"] == "nql workflows"


def test_a_key_s_rate_limit_is_edited_and_bad_input_comes_back(
    console: Console, factory: Factory
) -> None:
    page = console.page
    caller = verifier(factory, console.tenant)
    with factory.db.transaction() as session:
        key, secret = apikeys.create_key(
            session,
            tenants.get_tenant(session, console.tenant),
            apikeys.NewApiKey(name="Nightly export", scopes=["nql"]),
            actor=ACTOR,
            hasher=factory.hasher,
        )
        key_id = key.key_id
    console.sign_in_as_admin(factory)
    page.goto(console.tenant_url(f"api-keys/{key_id}/edit"))

    console.expect_error("status of 422")  # the refused form answers 422
    page.get_by_label("Requests").fill("0")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_role("alert")).to_contain_text("rate limit must be")
    expect(page.get_by_label("Requests")).to_have_value("0")  # what was typed comes back

    page.get_by_label("Requests").fill("5")
    page.get_by_label("Allowed IP addresses (optional)").fill("intranet")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_role("alert")).to_contain_text("'intranet' is not an IP address")

    page.get_by_label("Per").select_option("minute")
    page.get_by_label("Allowed IP addresses (optional)").fill("127.0.0.1\n2001:db8::/32")
    page.get_by_role("button", name="Save changes").click()
    expect(row(page, "Nightly export")).to_have_count(1)
    shown = stored(factory, console.tenant, API_KEY, key_id)
    assert (shown.rate_limit, shown.rate_period) == (5, 60)
    assert shown.allowed_ips == "127.0.0.1/32 2001:db8::/32"
    # A verifier that does not say where the key came from is refused for a restricted key.
    key_becomes(console.server, caller, secret.reveal(), "IP_NOT_ALLOWED")


def test_a_manager_keeps_a_permission_it_could_not_grant(
    console: Console, factory: Factory
) -> None:
    page = console.page
    admin_client = factory.client(console.tenant, name="Automation", scopes=("nql", "tenant:admin"))
    factory.user(console.tenant, email=console.email("cam"), role="credentials_manager")
    console.sign_in(console.email("cam"))
    page.goto(console.tenant_url(f"credentials/{admin_client.client_id}/edit"))

    held = page.get_by_label("Administer the tenant", exact=True)
    expect(held).to_be_checked()
    expect(held).to_be_disabled()
    page.get_by_label("Description").fill("Runs the nightly jobs")
    page.get_by_role("button", name="Save changes").click()

    expect(row(page, "Automation")).to_have_count(1)
    client = stored(factory, console.tenant, CLIENT, admin_client.client_id)
    assert sorted(p.name for p in client.permissions) == ["nql", "tenant:admin"]
    assert client.description == "Runs the nightly jobs"


def test_an_unknown_credential_s_edit_page_is_not_found(console: Console, factory: Factory) -> None:
    console.sign_in_as_admin(factory)
    console.expect_error("status of 404")
    answer = console.page.goto(console.tenant_url("credentials/no-such-client/edit"))
    assert answer is not None
    assert answer.status == 404


def test_a_rate_period_the_form_does_not_name_is_shown_and_kept(
    console: Console, factory: Factory
) -> None:
    page = console.page
    with factory.db.transaction() as session:
        key, _ = apikeys.create_key(
            session,
            tenants.get_tenant(session, console.tenant),
            apikeys.NewApiKey(name="Burst", scopes=["nql"], rate_limit=apikeys.RateLimit(100, 30)),
            actor=ACTOR,
            hasher=factory.hasher,
        )
        key_id = key.key_id
    console.sign_in_as_admin(factory)
    page.goto(console.tenant_url(f"api-keys/{key_id}/edit"))

    expect(page.get_by_label("Requests")).to_have_value("100")
    expect(page.get_by_label("Per").locator("option:checked")).to_have_text("30 seconds")
    page.get_by_label("Requests").fill("50")
    page.get_by_role("button", name="Save changes").click()

    expect(row(page, "Burst")).to_have_count(1)
    shown = stored(factory, console.tenant, API_KEY, key_id)
    assert (shown.rate_limit, shown.rate_period) == (50, 30)
