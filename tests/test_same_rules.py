"""The same input gets the same answer from the management API, the CLI and the console.

Each case is one credential to create (an OAuth client or an API key) on the edge of a rule of
``gatepass.credentials.rules``: a name, a description, a rate limit just inside or just outside
its bound. Every edge must accept what the others accept and refuse what they refuse, a refusal
must store nothing, and the CLI and the console must give the rule's own words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html import unescape

import pytest
from sqlalchemy import func, select
from starlette.testclient import TestClient

from gatepass.apikeys.models import ApiKey
from gatepass.clients.models import OAuthClient
from gatepass.credentials import rules
from gatepass.settings import Settings
from tests.api.support import api, bearer_caller
from tests.cli.harness import Cli
from tests.factories import Factory

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
ERROR = re.compile(r'<p class="error" role="alert">([^<]*)</p>')
PASSWORD = "correct horse battery"  # the factory's test account password
PERIOD_NAMES = {1: "second", 60: "minute", 3600: "hour", 86400: "day"}


@dataclass(frozen=True)
class Case:
    kind: str  # client or api_key
    name: str = "made on every edge"
    description: str = ""
    rate: tuple[int, int] | None = None  # requests, seconds (API keys only)
    refusal: str | None = None  # the rule's words, for a case every edge refuses
    tags: tuple[str, ...] = field(default=())

    def api_body(self) -> dict[str, object]:
        body: dict[str, object] = {"name": self.name, "description": self.description}
        if self.rate:
            body["rate_limit"] = {"limit": self.rate[0], "period": self.rate[1]}
        return body

    def cli_args(self) -> list[str]:
        noun = "client" if self.kind == "client" else "apikey"
        args = [noun, "create", "--tenant", "acme", "--name", self.name]
        args += ["--description", self.description]
        if self.rate:
            args += ["--rate-limit", f"{self.rate[0]}/{self.rate[1]}s"]
        return args

    def console_form(self) -> dict[str, str]:
        form = {"name": self.name, "description": self.description}
        if self.rate:
            form.update(rate_requests=str(self.rate[0]), rate_period=PERIOD_NAMES[self.rate[1]])
        return form


TOO_LONG_NAME = f"name is required (at most {rules.MAX_NAME} characters)"
TOO_LONG_TEXT = f"description must be at most {rules.MAX_DESCRIPTION} characters"
CASES = {
    f"{kind} {label}": case
    for kind in ("client", "api_key")
    for label, case in {
        "name at the bound": Case(kind, name="n" * rules.MAX_NAME),
        "name past the bound": Case(kind, name="n" * (rules.MAX_NAME + 1), refusal=TOO_LONG_NAME),
        "blank name": Case(kind, name="   ", refusal=TOO_LONG_NAME),
        "description at the bound": Case(kind, description="d" * rules.MAX_DESCRIPTION),
        "description past the bound": Case(
            kind, description="d" * (rules.MAX_DESCRIPTION + 1), refusal=TOO_LONG_TEXT
        ),
    }.items()
} | {
    "api_key rate limit at the bound": Case("api_key", rate=(rules.MAX_RATE_LIMIT, 86400)),
    "api_key rate limit past the bound": Case(
        "api_key", rate=(rules.MAX_RATE_LIMIT + 1, 86400), refusal=rules.RATE_LIMIT_RULE
    ),
    "api_key rate limit of none": Case("api_key", rate=(0, 60), refusal=rules.RATE_LIMIT_RULE),
}


def stored(factory: Factory, kind: str) -> int:
    model = OAuthClient if kind == "client" else ApiKey
    with factory.db.read() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def console_sign_in(http: TestClient) -> str:
    """Sign in through the console's form; the session's CSRF token."""
    form = http.get("/console/sign-in", params={"tenant": "acme"})
    token = CSRF.search(form.text)
    assert token is not None, form.text
    data = {"email": "ada@example.com", "password": PASSWORD, "tenant": "acme"}
    signed_in = http.post(
        "/console/sign-in", data={**data, "csrf_token": token[1]}, follow_redirects=False
    )
    assert signed_in.status_code == 303, signed_in.text
    page = http.get("/console/acme/settings")
    csrf = CSRF.search(page.text)
    assert csrf is not None, page.text
    return csrf[1]


@pytest.mark.parametrize("case", list(CASES.values()), ids=list(CASES))
def test_every_edge_gives_the_same_answer(
    client: TestClient, factory: Factory, settings: Settings, case: Case
) -> None:
    factory.tenant("acme")
    factory.user("acme")
    admin = bearer_caller(client, factory, "acme")
    cli = Cli.on(settings)
    path = "/clients" if case.kind == "client" else "/api-keys"

    before = stored(factory, case.kind)
    by_api = admin.request(client, "POST", api("acme", path), json=case.api_body())
    after_api = stored(factory, case.kind)
    by_cli = cli.run(*case.cli_args())
    after_cli = stored(factory, case.kind)
    csrf = console_sign_in(client)  # after the API call, which leaves no cookie behind
    console_path = (
        "/console/acme/credentials" if case.kind == "client" else "/console/acme/api-keys"
    )
    by_console = client.post(
        console_path, data={**case.console_form(), "csrf_token": csrf}, follow_redirects=False
    )
    after_console = stored(factory, case.kind)

    if case.refusal is None:
        assert by_api.status_code == 201, by_api.text
        assert by_cli.exit_code == 0, by_cli.stdout + by_cli.stderr
        assert by_console.status_code == 303, by_console.text
        assert "/sign-in" not in by_console.headers["location"], by_console.headers["location"]
        assert (after_api, after_cli, after_console) == (before + 1, before + 2, before + 3)
        return
    assert by_api.status_code == 422, by_api.text
    assert by_api.headers["content-type"].startswith("application/problem+json")
    assert by_cli.exit_code != 0
    assert case.refusal in " ".join((by_cli.stdout + by_cli.stderr).split())
    assert by_console.status_code == 422, by_console.text
    shown = ERROR.search(by_console.text)
    assert shown is not None, by_console.text
    assert case.refusal in unescape(shown[1])
    assert (after_api, after_cli, after_console) == (before, before, before)
