"""Without ``--json`` every command prints readable tables or sentences, and never crashes."""

from __future__ import annotations

import pytest

from tests.cli.harness import Cli

BOX = ("┃", "│")


@pytest.fixture
def seeded(cli: Cli, acme: str) -> Cli:
    options = ["--client-id", "billing-sync", "--scope", "nql", "--group", "emea"]
    cli.ok("client", "create", "--tenant", "acme", "--name", "Billing sync", *options)
    return cli


TABLES = {
    "tenant create": (("tenant", "create", "beta", "--name", "Beta"), ["beta", "issuer"]),
    "tenant list": (("tenant", "list"), ["Tenants", "acme", "https://id.example.com/realms/acme"]),
    "tenant show": (("tenant", "show", "acme"), ["Acme Corp", "api://acme"]),
    "tenant set": (("tenant", "set", "acme", "--token-lifetime", "300"), ["300"]),
    "permission create": (
        ("permission", "create", "--tenant", "acme", "campaigns", "--label", "Campaigns API"),
        ["Campaigns API"],
    ),
    "permission list": (
        ("permission", "list", "--tenant", "acme"),
        ["NQL API", "api_keys:verify", "no: Not available"],
    ),
    "group create": (("group", "create", "--tenant", "acme", "apac"), ["apac"]),
    "group list": (("group", "list", "--tenant", "acme"), ["americas", "emea"]),
    "client create": (
        ("client", "create", "--tenant", "acme", "--name", "Reports", "--scope", "workflows"),
        ["Reports", "gpcs_", "/realms/acme/protocol/openid-connect/token", "shown only this once"],
    ),
    "client list": (
        ("client", "list", "--tenant", "acme"),
        ["OAuth clients of acme", "Billing sync", "billing-sync", "nql", "never", "active"],
    ),
    "client show": (
        ("client", "show", "--tenant", "acme", "billing-sync"),
        ["Client billing-sync", "Secret versions", "gpcs_…", "yes"],
    ),
    "client rotate-secret": (
        ("client", "rotate-secret", "--tenant", "acme", "billing-sync", "--grace", "1h"),
        ["billing-sync", "gpcs_", "shown only this once"],
    ),
    "user list": (("user", "list", "--tenant", "acme"), ["email", "role"]),
    "signing-key rotate": (("signing-key", "rotate", "--tenant", "acme"), ["ES256", "kid"]),
    "signing-key list": (("signing-key", "list", "--tenant", "acme"), ["ES256", "current"]),
}


@pytest.mark.parametrize(("args", "expected"), TABLES.values(), ids=TABLES.keys())
def test_tables(seeded: Cli, args: tuple[str, ...], expected: list[str]) -> None:
    out = seeded.ok(*args)

    assert any(mark in out for mark in BOX), f"no table in:\n{out}"
    assert not out.lstrip().startswith(("{", "[")), "JSON without --json"
    missing = [text for text in expected if text not in out]
    assert not missing, f"{missing} not in:\n{out}"


SENTENCES = {
    "client revoke": (
        ("client", "revoke", "--tenant", "acme", "billing-sync"),
        "Revoked client billing-sync.",
    ),
    "client revoke-all": (
        ("client", "revoke-all", "--tenant", "acme", "--yes"),
        "Revoked 1 client(s).",
    ),
    "client delete": (
        ("client", "delete", "--tenant", "acme", "billing-sync", "--yes"),
        "Deleted client billing-sync.",
    ),
    "user create": (
        (
            "user",
            "create",
            "--tenant",
            "acme",
            "--email",
            "new@acme.example",
            "--role",
            "admin",
            "--password-stdin",
        ),
        "new@acme.example",
    ),
    "migrate": (("migrate",), "Database is up to date"),
}


@pytest.mark.parametrize(("args", "expected"), SENTENCES.values(), ids=SENTENCES.keys())
def test_sentences(seeded: Cli, args: tuple[str, ...], expected: str) -> None:
    out = seeded.ok(*args, input="another long password\n")

    assert expected in out
    assert not out.lstrip().startswith(("{", "["))


def test_user_list_table(seeded: Cli) -> None:
    seeded.ok(
        "user",
        "create",
        "--tenant",
        "acme",
        "--email",
        "ops@acme.example",
        "--role",
        "viewer",
        "--password-stdin",
        input="correct horse battery staple\n",
    )

    out = seeded.ok("user", "list", "--tenant", "acme")

    assert "Users of acme" in out
    assert "ops@acme.example" in out
    assert "viewer" in out
