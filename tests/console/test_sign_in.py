"""Signing in and out of the console in a real browser."""

from __future__ import annotations

import re

import pytest
import requests
from playwright.sync_api import expect

from tests.console.conftest import Console
from tests.factories import Factory
from tests.windows import wait_for_a_fresh_window

pytestmark = pytest.mark.e2e


def test_wrong_password_and_unknown_email_get_the_same_answer_and_no_session(
    console: Console, factory: Factory
) -> None:
    factory.user(console.tenant, email=console.admin, role="admin")
    page = console.page
    console.expect_error(r"status of 401")  # the refused sign-in form answers 401

    console.sign_in(console.admin, "not the password")
    wrong_password = page.get_by_role("alert").inner_text()
    assert console.session_cookie() is None
    console.screenshot("sign-in-error")

    console.sign_in(console.email("nobody"), "not the password")
    unknown_email = page.get_by_role("alert").inner_text()
    assert console.session_cookie() is None

    assert wrong_password == unknown_email == "Wrong email or password."
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.goto(console.tenant_url("credentials"))
    expect(page).to_have_url(console.url(f"/console/sign-in?tenant={console.tenant}"))


def test_sign_in_reaches_credentials_of_its_tenant_and_sign_out_ends_the_session(
    console: Console, factory: Factory
) -> None:
    factory.user(console.tenant, email=console.admin, role="admin")
    globex = console.other_tenant(factory, "Globex")
    factory.client(globex, name="Globex app")
    page = console.page
    page.goto(console.url("/console"))
    expect(page).to_have_url(console.url("/console/sign-in"))
    expect(page.get_by_label("Email")).to_be_focused()
    console.screenshot("sign-in")

    console.sign_in(console.admin.title() + " ")
    expect(page.get_by_role("heading", name="API credentials")).to_be_visible()
    expect(page).to_have_url(console.tenant_url("credentials"))
    cookie = console.session_cookie()
    assert cookie is not None
    old_token = str(cookie["value"])
    expect(page.get_by_role("row").filter(has_text="Globex app")).to_have_count(0)
    page.goto(console.url(f"/console/{globex}/credentials"))  # a session opens its own tenant only
    expect(page).to_have_url(console.url(f"/console/sign-in?tenant={globex}"))
    page.goto(console.tenant_url("credentials"))

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(console.url("/console/sign-in"))
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    assert console.session_cookie() is None

    page.go_back()  # the credentials page again, from the history: no-store, so asked anew
    expect(page).to_have_url(console.url(f"/console/sign-in?tenant={console.tenant}"))
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    # The server forgot the session too: its old cookie no longer opens the page.
    stale = requests.get(
        console.tenant_url("credentials"),
        cookies={"gatepass_session": old_token},
        allow_redirects=False,
        timeout=5,
    )
    assert stale.status_code == 303
    assert stale.headers["location"] == f"/console/sign-in?tenant={console.tenant}"

    # An email with accounts in two tenants signs in where ``?tenant=`` says.
    factory.user(console.tenant, email=console.email("bob"), role="admin")
    factory.user(globex, email=console.email("bob"), role="viewer", password="globex password")
    page.goto(console.url(f"/console/sign-in?tenant={globex}"))
    page.get_by_label("Email").fill(console.email("bob"))
    page.get_by_label("Password").fill("globex password")
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(console.url(f"/console/{globex}/credentials"))
    expect(page.get_by_role("row").filter(has_text="Globex app")).to_have_count(1)
    expect(page.get_by_role("link", name="New OAuth client credentials")).to_have_count(0)


def test_an_email_in_several_organisations_chooses_among_those_its_password_opens(
    console: Console, factory: Factory
) -> None:
    page = console.page
    globex = console.other_tenant(factory, "Globex")
    initech = console.other_tenant(factory, "Initech")
    factory.user(console.tenant, email=console.admin, role="admin")
    factory.user(globex, email=console.admin, role="viewer")
    factory.user(initech, email=console.admin, role="viewer", password="another password 1")
    console.expect_error("status of 409")
    console.sign_in(console.admin)
    expect(page.get_by_role("alert")).to_contain_text("several organisations")
    choice = page.get_by_label("Organisation")
    offered = choice.locator("option").all_inner_texts()
    assert sorted(offered) == ["Acme", "Globex"]  # not initech: the password does not open it
    assert console.session_cookie() is None
    console.screenshot("sign-in-organisation")
    choice.select_option(label="Globex")
    page.get_by_label("Password").fill("correct horse battery")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("link", name="Credentials (read-only)")).to_be_visible()
    assert f"/console/{globex}/" in page.url


def test_an_email_in_several_organisations_with_one_matching_password_goes_straight_in(
    console: Console, factory: Factory
) -> None:
    globex = console.other_tenant(factory, "Globex")
    factory.user(console.tenant, email=console.admin, role="admin")
    factory.user(globex, email=console.admin, role="viewer", password="another password 1")
    console.sign_in(console.admin, "another password 1")
    expect(console.page.get_by_role("link", name="Credentials (read-only)")).to_be_visible()
    assert f"/console/{globex}/" in console.page.url


def test_unknown_console_pages_are_pages_not_json(console: Console, factory: Factory) -> None:
    page = console.page
    console.expect_error("404")
    answer = page.goto(console.tenant_url("no-such-page/at-all"))
    assert answer is not None
    assert answer.status == 404
    assert answer.headers["content-type"].startswith("text/html")
    expect(page.get_by_role("heading", name="Page not found")).to_be_visible()
    api = requests.get(console.url(f"/api/v1/realms/{console.tenant}/no-such-thing"), timeout=5)
    assert api.headers["content-type"] == "application/problem+json"


def test_unknown_and_real_emails_are_throttled_alike(console: Console, factory: Factory) -> None:
    """The 11th attempt in 5 minutes from one address is refused for an email with an account
    and for one without (429 with Retry-After), so the throttle tells a stranger nothing."""
    factory.user(console.tenant, email=console.admin, role="admin")
    answers: dict[str, list[int]] = {}
    wait_for_a_fresh_window(300, margin=30)  # the sign-in throttle's window
    for email in (console.admin, console.email("nobody")):
        http = requests.Session()
        form = http.get(console.url("/console/sign-in"), timeout=5).text
        statuses = []
        for _ in range(11):
            csrf = re.search(r'name="csrf_token" value="([^"]+)"', form)
            assert csrf is not None
            answer = http.post(
                console.url("/console/sign-in"),
                data={"email": email, "password": "not the password", "csrf_token": csrf[1]},
                allow_redirects=False,
                timeout=10,
            )
            statuses.append(answer.status_code)
            if answer.status_code == 429:
                assert int(answer.headers["retry-after"]) > 0
            form = answer.text
        answers[email] = statuses
    assert answers[console.admin] == [401] * 10 + [429]
    assert answers[console.email("nobody")] == [401] * 10 + [429]
