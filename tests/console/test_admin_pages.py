"""Administrators' pages: users and roles, and the permission catalog."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from gatepass.console.forms import ADMINS_ONLY
from gatepass.sessions.models import ConsoleSession
from gatepass.tenants import service as tenants
from gatepass.users.models import User
from tests.cli.harness import dump_tables
from tests.console.conftest import PASSWORD, Console
from tests.console.pages import confirm, row
from tests.factories import Factory

pytestmark = pytest.mark.e2e


def user_row(factory: Factory, email: str) -> User:
    with factory.db.read() as session:
        found = session.scalars(select(User).where(User.email == email)).one()
        session.expunge(found)
        return found


def test_add_user_change_role_and_disable(console: Console, factory: Factory) -> None:
    page = console.page
    bea = console.email("bea")
    console.sign_in_as_admin(factory)
    page.get_by_role("link", name="Users").click()
    expect(page.get_by_role("heading", name="Users")).to_be_visible()
    page.get_by_role("button", name="Add user").click()
    dialog = page.get_by_role("dialog", name="Add user")
    dialog.get_by_label("Email").fill(bea.title())  # mixed case, stored in lower case
    dialog.get_by_label("Name").fill("Bea Lopez")
    dialog.get_by_label("Role").select_option(label="Manage API credentials")
    dialog.get_by_label("Initial password").fill(PASSWORD)
    dialog.get_by_role("button", name="Add user").click()
    added = row(page, "Bea Lopez")
    expect(added).to_contain_text(bea)
    expect(added).to_contain_text("Manage API credentials")
    console.screenshot("users")
    assert user_row(factory, bea).role == "credentials_manager"

    page.get_by_label("Actions for Bea Lopez").click()
    added.get_by_role("button", name="Change role").click()
    change = page.get_by_role("dialog", name=f"Change the role of {bea}")
    change.get_by_label("Role").select_option(label="Viewer (read-only)")
    change.get_by_role("button", name="Save").click()
    expect(row(page, "Bea Lopez")).to_contain_text("Viewer")
    assert user_row(factory, bea).role == "viewer"

    # Bea signs in elsewhere; disabling her ends that session at once.
    other = console.context.browser.new_context()  # type: ignore[union-attr]
    theirs = other.new_page()
    theirs.goto(console.url("/console"))
    theirs.get_by_label("Email").fill(bea)
    theirs.get_by_label("Password").fill(PASSWORD)
    theirs.get_by_role("button", name="Sign in").click()
    expect(theirs.get_by_role("heading", name="API credentials")).to_be_visible()
    confirm(
        page,
        "Bea Lopez",
        "Disable",
        f"Disable {bea}?",
        "Disable",
        says="signed out at once",
    )
    expect(row(page, "Bea Lopez")).to_contain_text("Disabled")
    theirs.reload()
    expect(theirs.get_by_role("heading", name="Sign in")).to_be_visible()
    other.close()
    with factory.db.read() as session:
        disabled = user_row(factory, bea)
        assert disabled.status == "disabled"
        assert (
            session.scalars(
                select(ConsoleSession).where(ConsoleSession.user_id == disabled.id)
            ).all()
            == []
        )


def test_a_bad_new_user_is_refused_in_the_dialog_and_nothing_is_made(
    console: Console, factory: Factory
) -> None:
    page = console.page
    console.sign_in_as_admin(factory)
    page.goto(console.tenant_url("users"))
    page.get_by_role("button", name="Add user").click()
    dialog = page.get_by_role("dialog", name="Add user")
    dialog.get_by_label("Email").fill(console.admin)  # exists already
    dialog.get_by_label("Initial password").fill(PASSWORD)
    console.expect_error("422")
    dialog.get_by_role("button", name="Add user").click()
    reopened = page.get_by_role("dialog", name="Add user")
    expect(reopened).to_be_visible()
    expect(reopened.get_by_role("alert")).to_contain_text("already exists")
    with factory.db.read() as session:
        tenant = tenants.get_tenant(session, console.tenant)
        assert len(session.scalars(select(User).where(User.tenant_id == tenant.id)).all()) == 1


def test_the_last_admin_cannot_demote_themselves(console: Console, factory: Factory) -> None:
    page = console.page
    console.sign_in_as_admin(factory)
    page.goto(console.tenant_url("users"))
    page.get_by_label(f"Actions for {console.admin}").click()
    page.get_by_role("button", name="Change role").click()
    change = page.get_by_role("dialog", name=f"Change the role of {console.admin}")
    change.get_by_label("Role").select_option("viewer")
    console.expect_error("422")
    change.get_by_role("button", name="Save").click()
    expect(page.get_by_role("alert")).to_contain_text("last active admin")
    assert user_row(factory, console.admin).role == "admin"


def test_permissions_page_adds_and_relabels(console: Console, factory: Factory) -> None:
    page = console.page
    console.sign_in_as_admin(factory)
    page.get_by_role("link", name="Permissions").click()
    expect(row(page, "SPARK")).to_contain_text("Not available")
    page.get_by_role("button", name="New permission").click()
    dialog = page.get_by_role("dialog", name="New permission")
    dialog.get_by_label("Scope").fill("invoices:read")
    dialog.get_by_label("Label").fill("Read invoices")
    dialog.get_by_label("Description").fill("List and download invoices")
    dialog.get_by_role("button", name="Create").click()
    expect(row(page, "Read invoices")).to_contain_text("invoices:read")

    page.get_by_label("Actions for Read invoices").click()
    row(page, "Read invoices").get_by_role("button", name="Edit").click()
    edit = page.get_by_role("dialog", name="Edit “invoices:read”")
    edit.get_by_label("Label").fill("Invoices (read)")
    edit.get_by_role("button", name="Save").click()
    expect(row(page, "Invoices (read)")).to_contain_text("List and download invoices")
    console.screenshot("permissions")

    # The new permission is offered on the credential form at once.
    page.goto(console.tenant_url("credentials/new"))
    expect(page.get_by_label("Invoices (read)", exact=True)).to_be_enabled()


def test_only_admins_see_and_reach_users_and_permissions(
    console: Console, factory: Factory
) -> None:
    page = console.page
    factory.user(console.tenant, email=console.email("cam"), role="credentials_manager")
    console.sign_in(console.email("cam"))
    expect(page.get_by_role("link", name="API keys")).to_be_visible()
    expect(page.get_by_role("link", name="Users")).to_have_count(0)
    expect(page.get_by_role("link", name="Permissions")).to_have_count(0)
    page.goto(console.tenant_url("credentials/new"))
    expect(page.get_by_text(ADMINS_ONLY)).to_be_visible()  # tenant:admin is not theirs to grant
    console.expect_error("403")
    for path in ("users", "permissions"):
        page.goto(console.tenant_url(f"{path}"))
        expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()
    csrf = page.locator("input[name=csrf_token]").first.input_value()
    answer = page.request.post(
        console.tenant_url("users"),
        form={
            "csrf_token": csrf,
            "email": console.email("eve"),
            "role": "admin",
            "password": PASSWORD,
        },
    )
    assert answer.status == 403
    with factory.db.read() as session:
        assert session.scalars(select(User).where(User.email == console.email("eve"))).all() == []


def test_odd_form_values_get_a_clear_answer_and_change_nothing(
    console: Console, factory: Factory
) -> None:
    page = console.page
    console.sign_in_as_admin(factory)
    csrf = page.locator("input[name=csrf_token]").first.input_value()
    before = dump_tables(factory.settings.effective_database_url)
    refused = {
        f"/console/{console.tenant}/users": (
            {
                "email": console.email("bea"),
                "display_name": "B" * 300,
                "role": "viewer",
                "password": PASSWORD,
            },
            422,
            "at most 200",
        ),
        f"/console/{console.tenant}/permissions": (
            {"name": "reports", "label": "R" * 300},
            422,
            "at most 200",
        ),
        f"/console/{console.tenant}/users/²/disable": ({}, 404, "No such user"),
        f"/console/{console.tenant}/users/99999999999999999999999/disable": (
            {},
            404,
            "No such user",
        ),
        f"/console/{console.tenant}/api-keys": (
            {"name": "Kiosk", "rate_requests": "²"},
            422,
            "whole number",
        ),
    }
    for path, (form, status, says) in refused.items():
        answer = page.request.post(console.url(path), form={"csrf_token": csrf, **form})
        assert answer.status == status, (path, answer.status)
        assert says in answer.text(), path
    assert dump_tables(factory.settings.effective_database_url) == before
    audit = page.request.get(console.tenant_url("audit?since=0001-01-01&until=9999-12-31"))
    assert audit.status == 200
