"""``gatepass demo``: the first-run setup that ``make run`` performs, once."""

from __future__ import annotations

import re

from argon2 import PasswordHasher
from starlette.testclient import TestClient

from gatepass.settings import Settings
from tests.cli.harness import PUBLIC_URL, Cli, dump_tables

SEED_000 = {
    "remote_actions": "Remote Actions API",
    "enrichment": "Enrichment API",
    "data_management": "Data management",
    "workflows": "Workflows API",
    "campaigns": "Campaigns API",
    "nql": "NQL API",
    "spark": "Spark API",
}


def field(out: str, label: str) -> str:
    match = re.search(rf"^\s*{label}\s+(\S+)\s*$", out, re.MULTILINE)
    assert match, f"no {label!r} line in:\n{out}"
    return match.group(1)


def test_demo_creates_the_seed_000_tenant_an_admin_and_a_client(
    cli: Cli, settings: Settings, client: TestClient
) -> None:
    out = cli.ok("demo")

    password = field(out, "password")
    client_id = field(out, "client ID")
    secret = field(out, "client secret")
    endpoint = f"{PUBLIC_URL}/realms/demo/protocol/openid-connect/token"
    assert f"curl -s -X POST {endpoint}" in out
    assert f"-u '{client_id}:{secret}'" in out
    assert "grant_type=client_credentials" in out

    catalog = {
        p["name"]: p for p in cli.json("permission", "list", "--tenant", "demo") if not p["builtin"]
    }
    assert {name: p["label"] for name, p in catalog.items()} == SEED_000
    assert [n for n, p in catalog.items() if not p["available"]] == ["spark"]

    [admin] = cli.json("user", "list", "--tenant", "demo")
    assert (admin["email"], admin["role"], admin["status"]) == (
        field(out, "console administrator"),
        "admin",
        "active",
    )
    [row] = dump_tables(settings.effective_database_url)["users"]
    [stored] = [v for v in row if isinstance(v, str) and v.startswith("$argon2")]
    assert PasswordHasher().verify(stored, password)

    [demo_client] = cli.json("client", "list", "--tenant", "demo")
    assert demo_client["client_id"] == client_id
    assert sorted(demo_client["scopes"]) == sorted(set(SEED_000) - {"spark"})
    response = client.post(
        "/realms/demo/protocol/openid-connect/token",
        data={"grant_type": "client_credentials"},
        auth=(client_id, secret),
    )
    assert response.status_code == 200, response.text


def test_second_demo_run_does_nothing_and_shows_no_secret(cli: Cli, settings: Settings) -> None:
    first = cli.ok("demo")
    before = dump_tables(settings.effective_database_url)

    again = cli.ok("demo")

    assert dump_tables(settings.effective_database_url) == before
    for label in ("password", "client secret"):
        assert field(first, label) not in again
    assert "curl" not in again
    assert [t["slug"] for t in cli.json("tenant", "list")] == ["demo"]


def test_demo_does_nothing_once_a_tenant_exists(cli: Cli, settings: Settings, acme: str) -> None:
    before = dump_tables(settings.effective_database_url)

    out = cli.ok("demo")

    assert "password" not in out
    assert dump_tables(settings.effective_database_url) == before
