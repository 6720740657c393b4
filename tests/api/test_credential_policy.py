"""The credential policy through the management API and the CLI: set by an administrator, shown
with the tenant, enforced when credentials are created."""

from __future__ import annotations

from starlette.testclient import TestClient

from gatepass.settings import Settings
from tests.api.support import api, assert_problem, bearer_caller
from tests.cli.harness import Cli
from tests.factories import Factory

POLICY = {
    "max_lifetime_days": 30,
    "expiry_required": True,
    "default_rate_limit": {"limit": 100, "period": 60},
    "allowed_ips": ["10.0.0.7/8"],
    "dormant_after_days": 90,
    "auto_suspend_dormant": True,
}


def test_an_admin_sets_it_and_a_credential_must_keep_to_it(
    factory: Factory, client: TestClient
) -> None:
    factory.tenant()
    admin = bearer_caller(client, factory, "acme")
    manager = bearer_caller(client, factory, "acme", role="credentials_manager")

    denied = manager.request(client, "PATCH", api("acme"), json={"credential_policy": POLICY})
    assert_problem(denied, 403)
    shown = admin.request(client, "PATCH", api("acme"), json={"credential_policy": POLICY})
    assert shown.status_code == 200, shown.text
    expected = {**POLICY, "allowed_ips": ["10.0.0.0/8"], "leak_action": "revoke"}
    assert shown.json()["credential_policy"] == expected

    refused = admin.request(client, "POST", api("acme", "/api-keys"), json={"name": "job"})
    assert_problem(refused, 422)
    assert "expiry at most 30 days from now" in refused.json()["detail"]
    made = admin.request(
        client,
        "POST",
        api("acme", "/api-keys"),
        json={"name": "job", "expires_at": "2099-01-01T00:00:00Z"},
    )
    assert_problem(made, 422)  # 2099 is well past 30 days

    cleared = admin.request(client, "PATCH", api("acme"), json={"credential_policy": {}})
    assert cleared.json()["credential_policy"]["allowed_ips"] == []
    made = admin.request(client, "POST", api("acme", "/api-keys"), json={"name": "job"})
    assert made.status_code == 201, made.text


def test_the_cli_sets_and_shows_it(settings: Settings, factory: Factory) -> None:
    factory.tenant()
    cli = Cli.on(settings)
    shown = cli.json(
        "tenant", "policy", "acme", "--max-lifetime", "90d", "--default-rate-limit", "100/m",
        "--allow-ip", "10.0.0.0/8",
    )  # fmt: skip
    assert shown["max_lifetime_days"] == 90
    assert (shown["default_rate_limit"], shown["default_rate_period"]) == (100, 60)
    key = cli.json("apikey", "create", "--tenant", "acme", "--name", "job", "--expires-in", "30d")
    assert (key["rate_limit"], key["allowed_ips"]) == ("100/60s", ["10.0.0.0/8"])
    error = cli.fails("apikey", "create", "--tenant", "acme", "--name", "forever")
    assert "expiry at most 90 days from now" in error
    assert "whole days" in cli.fails("tenant", "policy", "acme", "--max-lifetime", "36h")
    dormant = cli.json(
        "tenant", "policy", "acme", "--dormant-after", "60d", "--auto-suspend-dormant"
    )
    assert (dormant["dormant_after_days"], dormant["auto_suspend_dormant"]) == (60, True)
    assert "7 to 3650 days" in cli.fails("tenant", "policy", "acme", "--dormant-after", "3d")
    assert "needs a dormancy period" in cli.fails(
        "tenant", "policy", "acme", "--auto-suspend-dormant"
    )
    assert cli.json("tenant", "policy", "acme")["allowed_ips"] == []


def test_a_wrong_dormancy_policy_is_refused_and_changes_nothing(
    factory: Factory, client: TestClient
) -> None:
    factory.tenant()
    admin = bearer_caller(client, factory, "acme")
    for wrong, field in (
        ({"dormant_after_days": 6}, "dormant_after_days"),
        ({"dormant_after_days": 3651}, "dormant_after_days"),
        ({"auto_suspend_dormant": True}, None),
    ):
        refused = admin.request(client, "PATCH", api("acme"), json={"credential_policy": wrong})
        assert_problem(refused, 422)
        if field is not None:
            assert field in refused.text
        else:
            assert "needs a dormancy period" in refused.json()["detail"]
    shown = admin.request(client, "GET", api("acme"))
    assert shown.json()["credential_policy"]["dormant_after_days"] is None
    assert shown.json()["credential_policy"]["auto_suspend_dormant"] is False
