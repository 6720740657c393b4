"""``/docs`` in a real browser: Swagger UI renders the management API from this server alone.

Swagger UI's script and styles are served by Gatepass itself (``gatepass.api.docs``). The test
records every request the page makes and fails if any goes to another origin, so docs that
loaded Swagger UI from a CDN (FastAPI's default, ``cdn.jsdelivr.net``) would fail it twice: the
request to the CDN is not same-origin, and the page's CSP (``script-src 'self'`` plus the hash
of its one inline script) makes the browser refuse that script, which Chromium logs as a console
error, and then no operation renders. The ``console`` fixture also fails the test at teardown on
any console error.
"""

from __future__ import annotations

import base64
import hashlib
import re
from urllib.parse import urlsplit

import pytest
import requests
from playwright.sync_api import Request, expect

from tests.console.conftest import Console

pytestmark = pytest.mark.e2e

INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)
# Reported by the page itself, so that a refused resource is caught even if the browser
# stopped logging CSP violations to the console.
REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.cspViolation(`${event.violatedDirective} refused ${event.blockedURI}`);
});
"""


def directives(policy: str) -> dict[str, list[str]]:
    parsed = {}
    for directive in policy.split(";"):
        name, *values = directive.split()
        parsed[name] = values
    return parsed


def operations(document: dict[str, dict[str, dict[str, object]]]) -> int:
    methods = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}
    return sum(1 for item in document["paths"].values() for method in item if method in methods)


def test_docs_render_the_api_from_this_origin_only_under_a_strict_csp(console: Console) -> None:
    page = console.page
    origin = urlsplit(console.server.base_url)
    requested: list[str] = []
    violations: list[str] = []

    def record(request: Request) -> None:
        requested.append(request.url)

    def violation(text: str) -> None:
        violations.append(text)

    page.on("request", record)
    page.expose_function("cspViolation", violation)
    page.add_init_script(REPORT_VIOLATIONS)

    response = page.goto(console.url("/docs"))

    assert response is not None
    assert response.status == 200
    document = requests.get(console.url("/openapi.json"), timeout=5).json()
    expect(page.locator(".swagger-ui .info .title")).to_contain_text(document["info"]["title"])
    # Every operation of the OpenAPI document is on the page, under its tag.
    expect(page.locator(".opblock")).to_have_count(operations(document))
    expect(page.get_by_role("heading", name="OAuth clients")).to_be_visible()
    create_client = page.locator(".opblock-post", has_text="/api/v1/realms/{tenant}/clients")
    expect(create_client.first).to_contain_text("Create Client")
    create_client.first.locator(".opblock-summary").click()  # expanding runs more of Swagger UI
    expect(create_client.first.get_by_text("Request body")).to_be_visible()

    # The page's CSP, as docs.py sets it: same origin only, and of inline script just Swagger
    # UI's start-up by its hash (which must match the script the page carries).
    headers = response.all_headers()
    policy = directives(headers["content-security-policy"])
    inline = INLINE_SCRIPT.findall(response.text())
    assert len(inline) == 1
    digest = base64.b64encode(hashlib.sha256(inline[0].encode()).digest()).decode()
    assert policy == {
        "default-src": ["'none'"],
        "script-src": ["'self'", f"'sha256-{digest}'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'none'"],
    }
    assert "unsafe-inline" not in headers["content-security-policy"]
    assert "unsafe-eval" not in headers["content-security-policy"]
    assert headers["cache-control"] == "no-store"
    assert headers["x-content-type-options"] == "nosniff"

    # Everything the page loaded came from this server: the page, Swagger UI, the document.
    assert console.url("/docs/static/swagger-ui-bundle.js") in requested
    assert console.url("/docs/static/swagger-ui.css") in requested
    assert console.url("/openapi.json") in requested
    elsewhere = [
        url
        for url in requested
        if urlsplit(url).scheme != "data"
        and (urlsplit(url).scheme, urlsplit(url).netloc) != (origin.scheme, origin.netloc)
    ]
    assert not elsewhere, f"the docs page called other origins: {elsewhere}"

    assert not violations, f"CSP violations: {violations}"
    assert not console.errors, f"the browser console logged errors: {console.errors}"
