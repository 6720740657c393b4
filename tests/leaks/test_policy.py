"""The tenant's action on a leaked secret: set through the management API and the CLI."""

from __future__ import annotations

from starlette.testclient import TestClient

from gatepass.settings import Settings
from tests.api.support import api, assert_problem, bearer_caller
from tests.cli.harness import Cli
from tests.factories import Factory


def test_an_admin_chooses_suspend_and_nothing_else_is_taken(
    factory: Factory, client: TestClient
) -> None:
    factory.tenant()
    admin = bearer_caller(client, factory, "acme")
    assert admin.request(client, "GET", api("acme")).json()["credential_policy"]["leak_action"] == (
        "revoke"
    )

    for wrong in ("delete", "", None):
        body = {"credential_policy": {"leak_action": wrong}}
        assert_problem(admin.request(client, "PATCH", api("acme"), json=body), 422)
    body = {"credential_policy": {"leak_action": "suspend"}}
    shown = admin.request(client, "PATCH", api("acme"), json=body)

    assert shown.status_code == 200, shown.text
    assert shown.json()["credential_policy"]["leak_action"] == "suspend"
    assert admin.request(client, "GET", api("acme")).json()["credential_policy"]["leak_action"] == (
        "suspend"
    )


def test_the_cli_sets_it_and_refuses_another_action(settings: Settings, factory: Factory) -> None:
    factory.tenant()
    cli = Cli.on(settings)

    assert cli.json("tenant", "policy", "acme", "--leak-action", "suspend")["leak_action"] == (
        "suspend"
    )
    assert "revoke or suspend" in cli.fails("tenant", "policy", "acme", "--leak-action", "delete")
    assert cli.json("tenant", "policy", "acme")["leak_action"] == "revoke"
