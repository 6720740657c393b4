"""Security headers and cookies of the console, and its Content-Security-Policy in the browser.

Every browser test also fails at teardown if the browser console logged an error (a CSP
violation included) or a console page went out without CSP and ``no-store`` (see conftest).
"""

from __future__ import annotations

import re

import pytest
import requests

from tests.console.conftest import Console
from tests.factories import Factory

pytestmark = pytest.mark.e2e

CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')


def assert_protected(
    headers: dict[str, str] | requests.structures.CaseInsensitiveDict[str],
) -> None:
    csp = headers["content-security-policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["default-src"] == "'none'"
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["form-action"] == "'self'"
    assert "unsafe-inline" not in csp
    assert "unsafe-eval" not in csp
    assert headers["cache-control"] == "no-store"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer"


def cookie_attributes(response: requests.Response, name: str) -> list[str]:
    """The attributes of the ``Set-Cookie`` for ``name``, lower-cased."""
    for header in response.raw.headers.getlist("set-cookie"):
        if header.startswith(f"{name}="):
            return [part.strip().lower() for part in header.split(";")[1:]]
    raise AssertionError(f"no Set-Cookie for {name}: {response.headers}")


def test_pages_and_cookies_carry_the_security_settings_and_the_browser_enforces_them(
    console: Console, factory: Factory
) -> None:
    factory.user(console.tenant, email=console.admin, role="admin")
    http = requests.Session()
    sign_in_page = http.get(console.url("/console/sign-in"), timeout=5)
    assert sign_in_page.status_code == 200
    assert_protected(sign_in_page.headers)
    assert {"httponly", "samesite=strict", "path=/console"} <= set(
        cookie_attributes(sign_in_page, "gatepass_sign_in")
    )
    match = CSRF_INPUT.search(sign_in_page.text)
    assert match is not None
    signed_in = http.post(
        console.url("/console/sign-in"),
        data={
            "email": console.admin,
            "password": "correct horse battery",
            "csrf_token": match[1],
        },
        allow_redirects=False,
        timeout=5,
    )
    assert signed_in.status_code == 303, signed_in.text
    assert_protected(signed_in.headers)
    session = cookie_attributes(signed_in, "gatepass_session")
    assert {"httponly", "samesite=lax", "path=/"} <= set(session)

    form = http.get(console.tenant_url("credentials/new"), timeout=5)
    assert form.status_code == 200
    assert_protected(form.headers)
    csrf = CSRF_INPUT.search(form.text)
    assert csrf is not None
    created = http.post(
        console.tenant_url("credentials"),
        data={"csrf_token": csrf[1], "name": "Billing sync", "scopes": "nql"},
        allow_redirects=False,
        timeout=5,
    )
    assert created.status_code == 303, created.text
    assert_protected(created.headers)
    reveal = cookie_attributes(created, "gatepass_reveal")
    assert {"httponly", "samesite=strict", f"path=/console/{console.tenant}"} <= set(reveal)
    max_age = next(int(a.split("=")[1]) for a in reveal if a.startswith("max-age="))
    assert 0 < max_age <= 300
    sealed = http.cookies["gatepass_reveal"]

    shown = http.get(console.tenant_url("credentials"), timeout=5)
    assert_protected(shown.headers)
    secret = re.search(r'id="reveal-secret" readonly value="(gpcs_[0-9A-Za-z]+)"', shown.text)
    assert secret is not None
    assert secret[1] not in sealed
    assert "gatepass_reveal" not in http.cookies  # cleared by the page that showed it
    again = http.get(console.tenant_url("credentials"), timeout=5)
    assert secret[1] not in again.text

    # In the browser: the session cookie is out of the page's reach, and the CSP is enforced.
    page = console.page
    console.sign_in(console.admin)
    cookie = console.session_cookie()
    assert cookie is not None
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Lax"
    assert "gatepass_session" not in page.evaluate("document.cookie")

    listed = page.goto(console.tenant_url("credentials"))
    assert listed is not None
    assert_protected(listed.all_headers())

    # An injected inline script is refused, and the refusal reaches the console listener that
    # every browser test checks at teardown.
    with page.expect_console_message(lambda m: "Content Security Policy" in m.text) as refused:
        page.evaluate(
            """() => {
                const script = document.createElement("script");
                script.textContent = "window.injected = true";
                document.body.append(script);
            }"""
        )
    assert "script-src" in refused.value.text
    assert page.evaluate("window.injected === undefined")
    assert refused.value.text in console.errors
    console.expect_error(r"Content Security Policy")
