"""The console shows (or emails) a new secret only to a role that could grant all it holds.

The matrix drives the console's own HTML forms over HTTP, against the app with its real sign-in,
session cookie and CSRF token: each role, each way a secret appears (create, rotate, regenerate,
emailed as a one-time link, personal keys under Settings), each set of held permissions. A refusal
is a readable 403 page that names the permission; nothing stored changes, no secret is shown, no
mail is sent. A few browser cases check what a credentials manager is offered at all.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import product
from typing import Any

import httpx2
import pytest
from playwright.sync_api import expect
from starlette.testclient import TestClient

from gatepass import provisioning
from gatepass.apikeys.kind import API_KEY
from gatepass.app import create_app
from gatepass.credentials import lifecycle
from gatepass.settings import Settings
from tests import conftest as suite
from tests.api.routes import audit_after, audit_mark, snapshot
from tests.api.test_reveal_rule import HELD, ISSUING, MAY_SEE, make_target, versions
from tests.console import conftest as browser_tests
from tests.console.conftest import PASSWORD, Console, Mailbox
from tests.console.pages import row
from tests.factories import ACTOR, Factory
from tests.http.support import tenant_session

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
SHOWN = re.compile(r'id="reveal-(?:secret|key)" readonly value="(gp(?:cs|k)_[0-9A-Za-z]+)"')
ROLES = ("admin", "credentials_manager", "viewer")
RECIPIENT = "integrator@partner.example"

# Each test has a database, mailbox and server of its own: the matrix makes tenant ``acme`` in
# every test, and checks that no mail at all was sent.
settings = suite.settings
console_server = browser_tests.own_server


@dataclass(frozen=True)
class Action:
    """One way the console makes a secret appear."""

    name: str
    kind: str  # client or api_key: what it makes a secret for
    makes: bool  # creates the credential (else: a new secret for an existing one)
    emailed: bool = False
    personal: bool = False

    def path(self, target: str) -> str:
        base = "/console/acme"
        if self.personal:
            return f"{base}/settings/keys" + ("" if self.makes else f"/{target}/regenerate")
        if self.kind == "client":
            return f"{base}/credentials" + ("" if self.makes else f"/{target}/rotate")
        return f"{base}/api-keys" + ("" if self.makes else f"/{target}/regenerate")


ACTIONS = (
    Action("create client", "client", makes=True),
    Action("create client, emailed", "client", makes=True, emailed=True),
    Action("rotate client", "client", makes=False),
    Action("create key", "api_key", makes=True),
    Action("create key, emailed", "api_key", makes=True, emailed=True),
    Action("regenerate key", "api_key", makes=False),
    Action("regenerate key, emailed", "api_key", makes=False, emailed=True),
    Action("create personal key", "api_key", makes=True, personal=True),
    Action("regenerate personal key", "api_key", makes=False, personal=True),
)


@dataclass(frozen=True)
class Case:
    action: Action
    role: str
    held: str


MATRIX = [
    pytest.param(Case(action, role, held), id=f"{action.name}-{role}-{held}")
    for action, role, held in product(ACTIONS, ROLES, HELD)
]


@pytest.fixture
def http(settings: Settings, mailbox: Mailbox) -> Iterator[TestClient]:
    """The app over HTTP (in process), able to send mail to the test's own SMTP server."""
    with_mail = settings.model_copy(
        update={
            "smtp_host": "127.0.0.1",
            "smtp_port": mailbox.port,
            "smtp_security": "none",
            "smtp_from": "Gatepass <gatepass@acme.test>",
        }
    )
    with TestClient(create_app(with_mail), base_url="http://testserver") as client:
        yield client


def sign_in(http: TestClient, email: str) -> str:
    """Sign in through the console's form; returns the session's CSRF token, read from a page."""
    form = http.get("/console/sign-in", params={"tenant": "acme"})
    token = CSRF.search(form.text)
    assert token is not None, form.text
    data = {"email": email, "password": PASSWORD, "tenant": "acme", "csrf_token": token[1]}
    signed_in = http.post("/console/sign-in", data=data, follow_redirects=False)
    assert signed_in.status_code == 303, signed_in.text
    page = http.get("/console/acme/settings")
    csrf = CSRF.search(page.text)
    assert csrf is not None, page.text
    return csrf[1]


def owner_with_role(factory: Factory, email: str, role: str) -> None:
    """A user who made things as an admin and holds ``role`` now."""
    with tenant_session(factory, "acme") as (session, tenant):
        provisioning.set_role(session, tenant, email, role=role, actor=ACTOR)


def prepare(factory: Factory, case: Case, email: str) -> str:
    """The credential the action works on (none for a create); returns its ID."""
    if not case.action.personal:
        return "" if case.action.makes else make_target(factory, case.action.kind, HELD[case.held])
    target = (
        "" if case.action.makes else make_target(factory, "api_key", HELD[case.held], owner=email)
    )
    owner_with_role(factory, email, case.role)
    return target


def form_of(case: Case, csrf: str) -> dict[str, Any]:
    data: dict[str, Any] = {"csrf_token": csrf}
    if case.action.makes:
        data.update(name="made in the console", scopes=list(HELD[case.held]))
    if case.action.emailed:
        data["email_to"] = RECIPIENT
    return data


@pytest.mark.parametrize("case", MATRIX)
def test_console_matrix(http: TestClient, factory: Factory, mailbox: Mailbox, case: Case) -> None:
    factory.tenant("acme")
    email = f"{case.role.replace('_', '-')}@acme.example.com"
    # A personal key to regenerate is made while its owner is an admin, then the role changes.
    factory.user("acme", email=email, role="admin" if case.action.personal else case.role)
    target = prepare(factory, case, email)
    csrf = sign_in(http, email)
    before, mark = snapshot(factory, "acme"), audit_mark(factory)
    held_versions = versions(factory, case.action.kind, target) if target else []

    answer = http.post(case.action.path(target), data=form_of(case, csrf), follow_redirects=False)

    if case.held in MAY_SEE[case.role]:
        assert answer.status_code == 303, answer.text
        shown_or_sent(http, answer, case, mailbox)
        return
    refused(answer, case)
    assert "gatepass_reveal" not in http.cookies
    assert snapshot(factory, "acme") == before
    if target:
        assert versions(factory, case.action.kind, target) == held_versions
    assert [e.action for e in audit_after(factory, mark) if e.action in ISSUING] == []
    assert mailbox.messages == []


def shown_or_sent(http: TestClient, answer: httpx2.Response, case: Case, mailbox: Mailbox) -> None:
    page = http.get(answer.headers["location"])
    if case.action.emailed:
        assert len(mailbox.wait_for(1)) == 1
        assert RECIPIENT in page.text
        assert SHOWN.search(page.text) is None
        return
    shown = SHOWN.search(page.text)
    assert shown is not None, page.text
    assert shown[1].startswith("gpcs_" if case.action.kind == "client" else "gpk_")


def refused(answer: httpx2.Response, case: Case) -> None:
    """A readable page saying why, with no secret on it."""
    assert answer.status_code == 403, answer.text
    assert "text/html" in answer.headers["content-type"]
    assert SHOWN.search(answer.text) is None
    assert not re.search(r"gp(cs|k)_[0-9A-Za-z]{20,}", answer.text)
    if case.role == "viewer":  # refused the page itself, whatever the credential holds
        return
    assert re.search(r'<p class="error" role="alert">[^<]*tenant:admin', answer.text), answer.text


# --- personal keys under Settings: the owner's own only --------------------------------------


def test_settings_cannot_make_or_regenerate_someone_else_s_key(
    http: TestClient, factory: Factory
) -> None:
    factory.tenant("acme")
    factory.user("acme", email="dee@acme.example.com", role="credentials_manager")
    factory.user("acme", email="ada@acme.example.com", role="admin")
    theirs = make_target(factory, "api_key", ("nql",), owner="dee@acme.example.com")
    csrf = sign_in(http, "ada@acme.example.com")
    before = snapshot(factory, "acme")
    held_versions = versions(factory, "api_key", theirs)

    regenerated = http.post(
        f"/console/acme/settings/keys/{theirs}/regenerate",
        data={"csrf_token": csrf},
        follow_redirects=False,
    )
    from_the_keys_page = http.post(
        f"/console/acme/api-keys/{theirs}/regenerate",
        data={"csrf_token": csrf},
        follow_redirects=False,
    )

    assert regenerated.status_code == 422, regenerated.text  # not one of hers: not found
    assert from_the_keys_page.status_code == 403, from_the_keys_page.text
    assert "only its owner" in from_the_keys_page.text
    assert versions(factory, "api_key", theirs) == held_versions
    assert snapshot(factory, "acme") == before


# --- in the browser: what a credentials manager is offered -----------------------------------


@pytest.mark.e2e
@pytest.mark.parametrize("kind", ["client", "api_key"])
def test_a_manager_is_not_offered_a_secret_it_may_not_see(
    console: Console, factory: Factory, kind: str
) -> None:
    page = console.page
    if kind == "client":
        factory.client(console.tenant, scopes=("nql", "tenant:admin"), name="Root automation")
        factory.client(console.tenant, scopes=("nql",), name="Billing sync")
        listing, menu_item, form_action = "credentials", "Rotate secret", "rotate"
    else:
        make_target(factory, "api_key", ("nql",), tenant=console.tenant)
        root = make_target(factory, "api_key", ("nql", "tenant:admin"), tenant=console.tenant)
        with tenant_session(factory, console.tenant) as (session, tenant):
            lifecycle.get(session, tenant, API_KEY, root).name = "Root automation"
        listing, menu_item, form_action = "api-keys", "Regenerate", "regenerate"
    factory.user(console.tenant, email=console.email("cam"), role="credentials_manager")
    console.sign_in(console.email("cam"))
    page.goto(console.tenant_url(listing))

    plain = "Billing sync" if kind == "client" else "target key"
    page.get_by_label(f"Actions for {plain}").click()
    expect(row(page, plain).get_by_role("button", name=menu_item, exact=True)).to_be_visible()
    page.get_by_label(f"Actions for {plain}").click()  # closes its menu
    page.get_by_label("Actions for Root automation").click()
    root_row = row(page, "Root automation")
    expect(root_row.get_by_role("button", name="Revoke", exact=True)).to_be_visible()
    expect(root_row.get_by_role("button", name=menu_item, exact=True)).to_have_count(0)

    # A form posted anyway (as a forged or stale page would) gets a readable refusal.
    console.expect_error("status of 403")
    ident = root_row.locator("code").first.inner_text() if kind == "client" else root
    csrf = page.locator('input[name="csrf_token"]').first.input_value()
    page.evaluate(
        """([action, csrf]) => {
            const form = document.createElement("form");
            form.method = "post";
            form.action = action;
            const input = document.createElement("input");
            input.type = "hidden"; input.name = "csrf_token"; input.value = csrf;
            form.append(input);
            document.body.append(form);
            form.submit();
        }""",
        [f"/console/{console.tenant}/{listing}/{ident}/{form_action}", csrf],
    )
    expect(page.get_by_role("alert")).to_contain_text("tenant:admin")
    expect(page.get_by_role("link", name="Go back")).to_be_visible()
    expect(page.locator("dialog.reveal")).to_have_count(0)
