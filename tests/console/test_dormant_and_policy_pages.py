"""The Dormant credentials page and the Credential policy form, in Chromium: reached from the
navigation, the report with its CSV download, the form's errors shown in it, and what a viewer
is offered."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import update

from gatepass.clients.models import OAuthClient
from gatepass.db import utcnow
from gatepass.tenants import service as tenants
from tests.console.conftest import Console
from tests.console.pages import row
from tests.factories import Factory

pytestmark = pytest.mark.e2e


def age(factory: Factory, client_id: str, days: int) -> None:
    """Make the client look created ``days`` ago (and never used since)."""
    with factory.db.transaction() as session:
        session.execute(
            update(OAuthClient)
            .where(OAuthClient.client_id == client_id)
            .values(created_at=utcnow() - timedelta(days=days))
        )


def test_the_dormant_report_lists_unused_credentials_and_downloads_them(
    console: Console, factory: Factory, tmp_path: Path
) -> None:
    page = console.page
    idle = factory.client(console.tenant, name="Old nightly export")
    fresh = factory.client(console.tenant, name="Busy sync")
    age(factory, idle.client_id, 40)
    console.sign_in_as_admin(factory)
    page.get_by_role("link", name="Dormant credentials").click()
    expect(page.get_by_role("heading", name="Dormant credentials")).to_be_visible()
    page.get_by_label("Unused for (days)").fill("30")
    page.get_by_role("button", name="Show").click()
    listed = row(page, "Old nightly export")
    expect(listed).to_contain_text(idle.client_id)
    expect(listed).to_contain_text("Never")
    expect(page.get_by_role("row").filter(has_text="Busy sync")).to_have_count(0)
    console.screenshot("dormant-credentials")

    with page.expect_download() as download:
        page.get_by_role("link", name="Download CSV").click()
    saved = tmp_path / "dormant.csv"
    download.value.save_as(saved)
    text = saved.read_text()
    assert idle.client_id in text
    assert fresh.client_id not in text
    assert idle.secret not in text

    console.expect_error(r"422")
    page.get_by_label("Unused for (days)").fill("0")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_role("alert")).to_contain_text("days must be 1 to 3650")


def test_an_admin_sets_the_credential_policy_and_sees_errors_in_the_form(
    console: Console, factory: Factory
) -> None:
    page = console.page
    console.sign_in_as_admin(factory)
    page.get_by_role("link", name="Credential policy").click()
    expect(page.get_by_role("heading", name="Credential policy")).to_be_visible()
    page.get_by_label("Maximum lifetime in days (optional)").fill("90")
    page.get_by_label("Dormant after this many days unused (optional)").fill("3")
    page.get_by_label("Suspend dormant credentials").check()
    console.expect_error(r"422")
    page.get_by_role("button", name="Save policy").click()
    expect(page.get_by_role("alert")).to_contain_text("dormant after must be 7 to 3650 days")
    expect(page.get_by_label("Maximum lifetime in days (optional)")).to_have_value("90")
    with factory.db.read() as session:
        assert tenants.get_tenant(session, console.tenant).credential_policy == {}

    page.get_by_label("Dormant after this many days unused (optional)").fill("60")
    page.get_by_label("When a secret is reported leaked").select_option("suspend")
    page.get_by_role("button", name="Save policy").click()
    expect(page.get_by_role("status")).to_contain_text("The credential policy is saved.")
    expect(page.get_by_label("Suspend dormant credentials")).to_be_checked()
    expect(page.get_by_label("When a secret is reported leaked")).to_have_value("suspend")
    console.screenshot("credential-policy")
    with factory.db.read() as session:
        stored = tenants.get_tenant(session, console.tenant).credential_policy
    assert (stored["max_lifetime_days"], stored["dormant_after_days"]) == (90, 60)
    assert stored["auto_suspend_dormant"] is True
    assert stored["leak_action"] == "suspend"


def test_an_admin_trusts_an_issuer_and_sees_a_wrong_one_refused(
    console: Console, factory: Factory
) -> None:
    page = console.page
    console.sign_in_as_admin(factory)
    page.get_by_role("link", name="Credential policy").click()
    field = page.get_by_label("Trusted issuers (JSON)")
    console.expect_error(r"422")
    field.fill(json.dumps([{"issuer": "http://token.example.com"}]))
    page.get_by_role("button", name="Save trusted issuers").click()
    expect(page.get_by_role("alert")).to_contain_text("must use https")
    expect(field).to_contain_text("http://token.example.com")  # what was typed, kept

    github = "https://token.actions.githubusercontent.com"
    field.fill(json.dumps([{"issuer": github, "name": "GitHub Actions"}]))
    page.get_by_role("button", name="Save trusted issuers").click()
    expect(page.get_by_role("status")).to_contain_text("The trusted issuers are saved.")
    expect(field).to_contain_text(github)
    with factory.db.read() as session:
        stored = tenants.get_tenant(session, console.tenant).trusted_issuers
    assert [(i["issuer"], i["name"]) for i in stored] == [(github, "GitHub Actions")]


def test_a_viewer_sees_the_dormant_report_but_not_the_policy(
    console: Console, factory: Factory
) -> None:
    page = console.page
    viewer = console.email("vic")
    factory.user(console.tenant, email=viewer, role="viewer")
    console.sign_in(viewer)
    expect(page.get_by_role("link", name="Dormant credentials")).to_be_visible()
    expect(page.get_by_role("link", name="Credential policy")).to_have_count(0)
    console.expect_error(r"403")
    page.goto(console.tenant_url("policy"))
    expect(page.get_by_role("heading", name="Credential policy")).to_have_count(0)
