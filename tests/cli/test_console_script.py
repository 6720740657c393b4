"""The installed ``gatepass`` console script, run as its own process."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from gatepass.settings import Settings
from tests.cli.harness import PUBLIC_URL, Cli, dump_tables
from tests.conftest import make_settings

GATEPASS = Path(sys.executable).with_name("gatepass")


def run(cli: Cli, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in cli.env.items() if v is not None}
    return subprocess.run(
        [str(GATEPASS), *args],
        env={"PATH": "/usr/bin:/bin", **env},
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_console_script(cli: Cli, settings: Settings) -> None:
    tenant = run(cli, "tenant", "create", "acme", "--json")
    assert tenant.returncode == 0, tenant.stderr
    assert json.loads(tenant.stdout)["issuer"] == f"{PUBLIC_URL}/realms/acme"

    args = "user create --tenant acme --email ops@acme.example --role admin --password-stdin"
    user = run(cli, *args.split(), "--json", stdin="correct horse battery staple\n")
    assert user.returncode == 0, user.stderr
    assert json.loads(user.stdout)["role"] == "admin"
    before = dump_tables(settings.effective_database_url)

    refused = run(cli, "client", "create", "--tenant", "nope", "--name", "x", "--json")

    assert refused.returncode == 1
    assert refused.stdout == ""
    assert refused.stderr == "Error: tenant 'nope' does not exist\n"
    assert dump_tables(settings.effective_database_url) == before


def test_serve_takes_its_port_from_gatepass_port_and_names_it_when_invalid(cli: Cli) -> None:
    refused = run(Cli({**cli.env, "GATEPASS_PORT": "0"}), "serve")
    assert refused.returncode == 2
    assert "GATEPASS_PORT" in refused.stderr


def test_serve_refuses_an_out_of_date_schema_when_it_may_not_migrate(tmp_path: Path) -> None:
    """``gatepass serve`` starts without the rest of the CLI (``gatepass.cli.entry``), and its
    refusals read as any command's."""
    fresh = Cli.on(make_settings(f"sqlite:///{tmp_path}/new.db", tmp_path))
    env = {**fresh.env, "GATEPASS_AUTO_MIGRATE": "false"}

    refused = run(Cli(env), "serve", "--port", "1")

    assert refused.returncode == 1
    assert refused.stdout == ""
    assert refused.stderr == "Error: the database schema is out of date: run 'gatepass migrate'\n"
