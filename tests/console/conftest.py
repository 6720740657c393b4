"""Fixtures of the browser tests: ``gatepass serve`` as a real process, driven by Chromium.

A module's tests share one server per backend (``console_server``, on ``module_settings``), as
starting one takes seconds: each test keeps apart by its own data, a tenant of its own with a
unique slug and users whose emails name that tenant (``Console.tenant``, ``Console.email``). A
module whose tests need a server with no history binds ``console_server`` to ``own_server`` and
``settings`` to the suite's, and says why.

One Chromium (Debian's, never a downloaded one) is shared by the session; every test gets its own
browser context, so cookies, storage and permissions never leak from one test to the next. The
``console`` fixture records every browser console error, page error and console page response,
and fails the test at teardown if the console logged an error (a CSP violation included) or a
console page went out without its security headers.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    Playwright,
    Response,
    expect,
    sync_playwright,
)

from gatepass.settings import Settings
from tests.conftest import IN_CI
from tests.e2e import conftest as e2e
from tests.e2e.conftest import Serve, Server, Servers
from tests.factories import Credential, Factory
from tests.http.support import poll
from tests.mailbox import Mailbox, started_mailbox

# Fixtures shared with the e2e tests: ``gatepass serve`` on the test's database, and one
# database and secret key per module and backend.
serve = e2e.serve
module_settings = e2e.module_settings

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
PASSWORD = "correct horse battery"  # the factory's test account password
TIMEOUT_MS = 10_000


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    yield from started_mailbox()


@pytest.fixture(scope="module")
def module_mailbox() -> Iterator[Mailbox]:
    """The shared server's SMTP server: its console offers email as a configured one does."""
    yield from started_mailbox()


def with_mail(env: dict[str, str], mailbox: Mailbox) -> dict[str, str]:
    """``env`` plus email through ``mailbox``."""
    return {
        **env,
        "GATEPASS_SMTP_HOST": "127.0.0.1",
        "GATEPASS_SMTP_PORT": str(mailbox.port),
        "GATEPASS_SMTP_SECURITY": "none",
        "GATEPASS_SMTP_FROM": "Gatepass <gatepass@acme.test>",
    }


@pytest.fixture
def gatepass_env(settings: Settings, tmp_path: Path, mailbox: Mailbox) -> dict[str, str]:
    """The e2e environment, plus email through the test's own SMTP server."""
    return with_mail(e2e.base_env(settings, tmp_path), mailbox)


@pytest.fixture
def settings(module_settings: Settings) -> Settings:
    """The module's database and secret key, those of its shared server."""
    return module_settings


@pytest.fixture(scope="module")
def console_server(module_settings: Settings, module_mailbox: Mailbox) -> Iterator[Server]:
    """One ``gatepass serve`` for all the tests of a module, per backend."""
    directory = module_settings.data_dir
    servers = Servers(
        with_mail(e2e.base_env(module_settings, directory), module_mailbox), directory
    )
    yield servers.start()
    servers.stop()


@pytest.fixture
def own_server(serve: Serve) -> Server:
    """A server of the test's own, on the test's own database and mailbox."""
    return serve()


@pytest.fixture(scope="package")
def playwright_driver() -> Iterator[Playwright]:
    if not CHROMIUM.exists():
        reason = f"the console tests need Debian's Chromium at {CHROMIUM} (make browser)"
        if IN_CI:
            pytest.fail(f"CI=true: {reason}", pytrace=False)
        pytest.skip(reason)
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="package")
def browser(playwright_driver: Playwright) -> Iterator[Browser]:
    launched = playwright_driver.chromium.launch(executable_path=str(CHROMIUM), headless=True)
    yield launched
    launched.close()


@dataclass
class Console:
    """A browser page on one ``gatepass serve``, and what the browser reported while on it."""

    server: Server
    context: BrowserContext
    page: Page
    screenshots: bool
    tenant: str
    errors: list[str] = field(default_factory=list)
    documents: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    expected_errors: list[re.Pattern[str]] = field(default_factory=list)

    def url(self, path: str) -> str:
        return f"{self.server.base_url}{path}"

    def tenant_url(self, path: str) -> str:
        """The console page ``path`` of the test's tenant."""
        return self.url(f"/console/{self.tenant}/{path}")

    def email(self, name: str) -> str:
        """The email of user ``name``, unique to the test (no other tenant has it)."""
        return f"{name}@{self.tenant}.example.com"

    @property
    def admin(self) -> str:
        return self.email("ada")

    def other_tenant(self, factory: Factory, name: str) -> str:
        """Another tenant named ``name``, with a slug unique to the test."""
        return factory.tenant(f"{name.lower()}-{self.tenant}", name=name)

    def sign_in(self, email: str, password: str = PASSWORD) -> None:
        self.page.goto(self.url("/console"))
        self.page.get_by_label("Email").fill(email)
        self.page.get_by_label("Password").fill(password)
        self.page.get_by_role("button", name="Sign in").click()

    def sign_in_as_admin(self, factory: Factory) -> None:
        factory.user(self.tenant, email=self.admin, role="admin")
        self.sign_in(self.admin)
        expect(self.page.get_by_role("heading", name="API credentials")).to_be_visible()

    def screenshot(self, name: str) -> None:
        """Written in one backend only: the pages are the same on both."""
        if self.screenshots:
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            self.page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=True)

    def session_cookie(self) -> dict[str, object] | None:
        for cookie in self.context.cookies(self.server.base_url):
            if cookie.get("name") == "gatepass_session":
                return dict(cookie)
        return None

    def expect_error(self, pattern: str) -> None:
        """An error the browser is expected to log (e.g. a deliberate 4xx answer)."""
        self.expected_errors.append(re.compile(pattern))

    def unexpected_errors(self) -> list[str]:
        return [e for e in self.errors if not any(p.search(e) for p in self.expected_errors)]

    def unprotected_pages(self) -> list[str]:
        """Console pages the browser loaded without the headers every console page must carry."""
        bad = []
        for where, headers in self.documents:
            csp = headers.get("content-security-policy", "")
            if (
                "default-src 'none'" not in csp
                or "unsafe-inline" in csp
                or "unsafe-eval" in csp
                or headers.get("cache-control") != "no-store"
            ):
                bad.append(f"{where}: {headers}")
        return bad


@pytest.fixture
def console(
    browser: Browser, console_server: Server, settings: Settings, factory: Factory
) -> Iterator[Console]:
    """A fresh browser context on the module's server, for a tenant of the test's own (made
    here, named "Acme")."""
    tenant = factory.tenant(f"acme-{uuid.uuid4().hex[:12]}", name="Acme", unavailable=("spark",))
    server = console_server
    context = browser.new_context(base_url=server.base_url)
    context.set_default_timeout(TIMEOUT_MS)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.base_url)
    page = context.new_page()
    made = Console(
        server=server,
        context=context,
        page=page,
        screenshots=settings.effective_database_url.startswith("sqlite"),
        tenant=tenant,
    )
    page.on("console", lambda m: _console_error(made, m))
    page.on("pageerror", lambda exc: made.errors.append(f"page error: {exc}"))
    page.on("response", lambda r: _document(made, r))
    try:
        yield made
    finally:
        context.close()
    unexpected = made.unexpected_errors()
    assert not unexpected, f"the browser console logged errors: {unexpected}"
    unprotected = made.unprotected_pages()
    assert not unprotected, f"console pages without their security headers: {unprotected}"


def _console_error(console: Console, message: ConsoleMessage) -> None:
    if message.type == "error":
        console.errors.append(message.text)


def _document(console: Console, response: Response) -> None:
    if response.request.resource_type == "document" and "/console" in response.url:
        console.documents.append((f"{response.status} {response.url}", response.all_headers()))


def status_is(status: int) -> Callable[[requests.Response], bool]:
    return lambda response: response.status_code == status


def token_response(server: Server, credential: Credential) -> requests.Response:
    """client_credentials at the tenant's token endpoint, authenticated with HTTP Basic."""
    return requests.post(
        server.token_url(credential.tenant),
        data={"grant_type": "client_credentials"},
        auth=(credential.client_id, credential.secret),
        timeout=5,
    )


def assert_refused(server: Server, credential: Credential) -> None:
    """Refused once the change has reached the server's credential cache (promised within 1 s)."""
    response = poll(lambda: token_response(server, credential), status_is(401))
    assert response.status_code == 401, response.text
    assert response.json()["error"] == "invalid_client"


def assert_works(server: Server, credential: Credential) -> None:
    response = poll(lambda: token_response(server, credential), status_is(200))
    assert response.status_code == 200, response.text
    assert response.json()["token_type"].lower() == "bearer"


def key_code(server: Server, caller: Credential, key: str) -> str:
    """The verify endpoint's code for ``key`` (VALID, NOT_FOUND, REVOKED, ...)."""
    answer = requests.post(
        f"{server.base_url}/realms/{caller.tenant}/api-keys/verify",
        json={"key": key},
        auth=(caller.client_id, caller.secret),
        timeout=5,
    )
    assert answer.status_code == 200, answer.text
    code: str = answer.json()["code"]
    return code


def key_becomes(server: Server, caller: Credential, key: str, code: str) -> None:
    """The key answers ``code`` once the change has reached the server (promised within 1 s)."""
    assert poll(lambda: key_code(server, caller, key), lambda c: c == code) == code
