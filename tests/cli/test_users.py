"""``gatepass user``: console users, whose password comes from stdin only."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher

from gatepass.settings import Settings
from tests.cli.harness import Cli, dump_tables

PASSWORD = "correct horse battery staple"


def create_user(*options: str, password: str | None = PASSWORD) -> list[str]:
    args = ["user", "create", "--tenant", "acme", *options]
    return args if password is None else [*args, "--password-stdin"]


@pytest.mark.parametrize("role", ["admin", "credentials_manager", "viewer"])
def test_user_create(cli: Cli, settings: Settings, acme: str, role: str) -> None:
    result = cli.run(
        *create_user("--email", "Ops@Acme.Example", "--role", role),
        "--json",
        input=PASSWORD + "\n",
    )

    assert result.exit_code == 0, result.stderr
    assert PASSWORD not in result.stdout + result.stderr
    assert cli.json("user", "list", "--tenant", "acme") == [
        {
            "email": "ops@acme.example",
            "name": "",
            "role": role,
            "status": "active",
            "created_at": cli.json("user", "list", "--tenant", "acme")[0]["created_at"],
        }
    ]
    [row] = dump_tables(settings.effective_database_url)["users"]
    [stored] = [v for v in row if isinstance(v, str) and v.startswith("$argon2id$")]
    assert PasswordHasher().verify(stored, PASSWORD)
    assert not [v for v in row if isinstance(v, str) and PASSWORD in v]


def test_user_password_keeps_inner_and_outer_spaces(
    cli: Cli, settings: Settings, acme: str
) -> None:
    password = "  spaced   out password  "
    cli.ok(*create_user("--email", "a@acme.example", "--role", "viewer"), input=password + "\n")

    [row] = dump_tables(settings.effective_database_url)["users"]
    [stored] = [v for v in row if isinstance(v, str) and v.startswith("$argon2id$")]
    assert PasswordHasher().verify(stored, password)


BAD_USERS = {
    "bad role": (("--email", "a@acme.example", "--role", "root"), PASSWORD, "role must be"),
    "role case": (("--email", "a@acme.example", "--role", "Admin"), PASSWORD, "role must be"),
    "short password": (("--email", "a@acme.example", "--role", "admin"), "elevenchars", "password"),
    "empty password": (("--email", "a@acme.example", "--role", "admin"), "", "password"),
    "bad email": (("--email", "not-an-email", "--role", "admin"), PASSWORD, "email"),
    "duplicate": (("--email", "first@acme.example", "--role", "viewer"), PASSWORD, "already"),
}


@pytest.mark.parametrize("case", BAD_USERS.values(), ids=BAD_USERS.keys())
def test_user_create_refuses_bad_input_and_changes_nothing(
    cli: Cli, settings: Settings, acme: str, case: tuple[tuple[str, ...], str, str]
) -> None:
    options, password, expected = case
    cli.ok(*create_user("--email", "first@acme.example", "--role", "admin"), input=PASSWORD)
    before = dump_tables(settings.effective_database_url)

    error = cli.fails(*create_user(*options), "--json", input=password + "\n")

    assert expected in error
    assert password not in error or not password
    assert dump_tables(settings.effective_database_url) == before


def test_user_create_requires_password_stdin(cli: Cli, settings: Settings, acme: str) -> None:
    before = dump_tables(settings.effective_database_url)

    error = cli.fails(
        *create_user("--email", "a@acme.example", "--role", "admin", password=None),
        input=PASSWORD + "\n",
    )

    assert "--password-stdin" in error
    assert dump_tables(settings.effective_database_url) == before
