"""``gatepass tenant`` and ``migrate``, and how every command treats an unknown tenant."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from gatepass.settings import Settings
from tests.cli.harness import PUBLIC_URL, Cli, cli_env, dump_tables


def test_tenant_create_prints_the_issuer_and_token_endpoint(cli: Cli) -> None:
    created = cli.json("tenant", "create", "acme", "--name", "Acme Corp")

    issuer = f"{PUBLIC_URL}/realms/acme"
    assert created["slug"] == "acme"
    assert created["name"] == "Acme Corp"
    assert created["issuer"] == issuer
    assert created["token_endpoint"] == f"{issuer}/protocol/openid-connect/token"
    assert created["audience"] == "api://acme"
    assert created["token_lifetime"] == 600
    assert created["signing_alg"] == "ES256"
    assert cli.json("tenant", "show", "acme") == created
    assert [t["slug"] for t in cli.json("tenant", "list")] == ["acme"]


def test_tenant_create_gives_builtin_permissions_and_a_signing_key(cli: Cli) -> None:
    cli.ok("tenant", "create", "acme")

    catalog = {p["name"]: p for p in cli.json("permission", "list", "--tenant", "acme")}
    assert set(catalog) == {
        "api_keys:verify",
        "credentials:read",
        "credentials:manage",
        "tenant:admin",
    }
    assert all(p["builtin"] and p["available"] for p in catalog.values())
    keys = cli.json("signing-key", "list", "--tenant", "acme")
    assert [(k["status"], k["alg"], k["published"]) for k in keys] == [
        ("current", "ES256", True),
        ("next", "ES256", True),
    ]


def test_tenant_name_defaults_to_the_slug(cli: Cli) -> None:
    assert cli.json("tenant", "create", "beta")["name"] == "beta"


def test_duplicate_tenant_is_refused_and_changes_nothing(cli: Cli, settings: Settings) -> None:
    cli.ok("tenant", "create", "acme", "--name", "Acme Corp")
    before = dump_tables(settings.effective_database_url)

    error = cli.fails("tenant", "create", "acme", "--name", "Other")

    assert "acme" in error
    assert "already exists" in error
    assert dump_tables(settings.effective_database_url) == before
    assert cli.json("tenant", "show", "acme")["name"] == "Acme Corp"


@pytest.mark.parametrize("slug", ["Acme", "-acme", "acme-", "a b", "a/b", "x" * 64, ""])
def test_invalid_slug_is_refused(cli: Cli, settings: Settings, slug: str) -> None:
    before = dump_tables(settings.effective_database_url)

    assert "slug" in cli.fails("tenant", "create", "--", slug)
    assert dump_tables(settings.effective_database_url) == before


UNKNOWN_TENANT_COMMANDS = [
    ("tenant", "show", "nope"),
    ("tenant", "set", "nope", "--name", "Nope"),
    ("permission", "create", "--tenant", "nope", "nql"),
    ("permission", "list", "--tenant", "nope"),
    ("group", "create", "--tenant", "nope", "emea"),
    ("group", "list", "--tenant", "nope"),
    ("client", "create", "--tenant", "nope", "--name", "x"),
    ("client", "list", "--tenant", "nope"),
    ("client", "show", "--tenant", "nope", "some-client"),
    ("client", "rotate-secret", "--tenant", "nope", "some-client"),
    ("client", "revoke", "--tenant", "nope", "some-client"),
    ("client", "revoke-all", "--tenant", "nope", "--yes"),
    ("client", "delete", "--tenant", "nope", "some-client", "--yes"),
    ("user", "list", "--tenant", "nope"),
    ("signing-key", "rotate", "--tenant", "nope"),
    ("signing-key", "list", "--tenant", "nope"),
]


@pytest.mark.parametrize("args", UNKNOWN_TENANT_COMMANDS, ids=" ".join)
def test_unknown_tenant_is_refused_and_changes_nothing(
    cli: Cli, settings: Settings, acme: str, args: tuple[str, ...]
) -> None:
    before = dump_tables(settings.effective_database_url)

    error = cli.fails(*args, "--json")

    assert error == "Error: tenant 'nope' does not exist"
    assert dump_tables(settings.effective_database_url) == before


def test_user_create_in_unknown_tenant_is_refused(cli: Cli, settings: Settings, acme: str) -> None:
    before = dump_tables(settings.effective_database_url)

    args = "user create --tenant nope --email ops@acme.example --role admin --password-stdin"
    error = cli.fails(*args.split(), input="correct horse battery staple\n")

    assert error == "Error: tenant 'nope' does not exist"
    assert dump_tables(settings.effective_database_url) == before


def test_tenant_set_changes_token_settings(cli: Cli, acme: str) -> None:
    audiences = (
        "--audience https://api.acme.example --allowed-audience https://reports.acme.example"
    )
    updated = cli.json(
        "tenant",
        "set",
        "acme",
        "--name",
        "ACME Inc.",
        "--token-lifetime",
        "300",
        *audiences.split(),
    )

    assert updated["name"] == "ACME Inc."
    assert updated["token_lifetime"] == 300
    assert updated["audience"] == "https://api.acme.example"
    assert set(updated["allowed_audiences"]) == {
        "https://api.acme.example",
        "https://reports.acme.example",
    }
    assert cli.json("tenant", "show", "acme") == updated


def test_tenant_set_signing_alg_rotates_to_a_key_of_that_alg(cli: Cli, acme: str) -> None:
    assert cli.json("tenant", "set", "acme", "--signing-alg", "RS256")["signing_alg"] == "RS256"

    keys = cli.json("signing-key", "list", "--tenant", "acme")
    assert [(k["alg"], k["status"], k["published"]) for k in keys] == [
        ("ES256", "previous", True),
        ("ES256", "retired", False),  # the next key of the old algorithm never signed anything
        ("RS256", "current", True),
        ("RS256", "next", True),
    ]


@pytest.mark.parametrize(
    "change",
    [
        ("--token-lifetime", "5"),
        ("--token-lifetime", "86401"),
        ("--audience", "not a uri"),
        ("--allowed-audience", "https://api.example/#fragment"),
        ("--signing-alg", "HS256"),
        ("--token-lifetime", "300", "--audience", "no-scheme"),
    ],
    ids=" ".join,
)
def test_tenant_set_refuses_bad_values_and_changes_nothing(
    cli: Cli, settings: Settings, acme: str, change: tuple[str, ...]
) -> None:
    before = dump_tables(settings.effective_database_url)

    cli.fails("tenant", "set", "acme", *change)

    assert dump_tables(settings.effective_database_url) == before


def test_migrate_creates_a_fresh_sqlite_database_in_the_data_dir(
    tmp_path: Path, settings: Settings
) -> None:
    assert settings.secret_key is not None
    data_dir = tmp_path / "fresh"
    fresh = Cli(
        cli_env(
            database_url=None,
            data_dir=str(data_dir),
            secret_key=settings.secret_key.get_secret_value(),
        )
    )

    out = fresh.ok("migrate")

    path = data_dir / "gatepass.db"
    assert "Database is up to date" in out
    assert str(path.resolve()) in out
    with sqlite3.connect(path) as connection:
        tables = {r[0] for r in connection.execute("SELECT name FROM sqlite_master")}
        version = connection.execute("SELECT version_num FROM alembic_version").fetchall()
    assert {"tenants", "oauth_clients", "client_secrets", "audit_events"} <= tables
    assert len(version) == 1
    assert "Database is up to date" in fresh.ok("migrate")  # a second run is harmless
    assert fresh.json("tenant", "create", "acme")["slug"] == "acme"


def test_migrate_on_a_migrated_database_changes_nothing(cli: Cli, settings: Settings) -> None:
    before = dump_tables(settings.effective_database_url)

    assert "Database is up to date" in cli.ok("migrate")
    assert dump_tables(settings.effective_database_url) == before


def test_migrate_does_not_print_the_database_password(settings: Settings) -> None:
    url = make_url(settings.effective_database_url)
    if url.get_backend_name() != "postgresql":
        pytest.skip("only a PostgreSQL URL carries a password")
    assert settings.secret_key is not None
    password = "pw-not-for-printing"  # the test server trusts local connections
    with_password = url.set(password=password).render_as_string(hide_password=False)
    cli = Cli(
        cli_env(
            database_url=with_password,
            data_dir=str(settings.data_dir),
            secret_key=settings.secret_key.get_secret_value(),
        )
    )

    out = cli.ok("migrate")

    assert "Database is up to date" in out
    assert password not in out


def test_new_tenants_take_the_configured_default_token_lifetime(cli: Cli) -> None:
    configured = Cli({**cli.env, "GATEPASS_DEFAULT_TOKEN_LIFETIME": "900"})
    assert configured.json("tenant", "create", "acme")["token_lifetime"] == 900
    assert cli.json("tenant", "create", "globex")["token_lifetime"] == 600


def test_tenant_set_turns_dpop_nonces_and_token_exchange_on_and_off(
    cli: Cli, settings: Settings
) -> None:
    cli.ok("tenant", "create", "acme")

    on = cli.json(
        "tenant", "set", "acme", "--require-dpop-nonce", "--token-exchange-lifetime", "120"
    )
    assert (on["require_dpop_nonce"], on["token_exchange_lifetime"]) == (True, 120)
    off = cli.json(
        "tenant", "set", "acme", "--no-require-dpop-nonce", "--token-exchange-lifetime", "0"
    )
    assert (off["require_dpop_nonce"], off["token_exchange_lifetime"]) == (False, None)

    before = dump_tables(settings.database_url)
    assert "30-3600" in cli.fails("tenant", "set", "acme", "--token-exchange-lifetime", "5")
    assert dump_tables(settings.database_url) == before
