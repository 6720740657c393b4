"""``gatepass permission`` and ``gatepass group``: a tenant's catalog and client groups."""

from __future__ import annotations

import pytest

from gatepass.settings import Settings
from tests.cli.harness import Cli, dump_tables


def test_permission_create(cli: Cli, acme: str) -> None:
    created = cli.json(
        "permission",
        "create",
        "--tenant",
        "acme",
        "remote_actions",
        "--label",
        "Remote Actions API",
        "--description",
        "Trigger and query remote actions.",
    )

    assert created == {
        "name": "remote_actions",
        "label": "Remote Actions API",
        "description": "Trigger and query remote actions.",
        "available": True,
        "reason": "",
        "builtin": False,
    }
    listed = {p["name"]: p for p in cli.json("permission", "list", "--tenant", "acme")}
    assert listed["remote_actions"] == created


def test_permission_label_defaults_to_its_name(cli: Cli, acme: str) -> None:
    assert cli.json("permission", "create", "--tenant", "acme", "campaigns")["label"] == "campaigns"


def test_unavailable_permission_is_listed_but_not_grantable(cli: Cli, acme: str) -> None:
    options = ("--unavailable", "--reason", "In technical preview")
    created = cli.json("permission", "create", "--tenant", "acme", "preview_api", *options)

    assert (created["available"], created["reason"]) == (False, "In technical preview")
    listed = {p["name"]: p for p in cli.json("permission", "list", "--tenant", "acme")}
    assert listed["preview_api"]["available"] is False
    assert listed["spark"]["available"] is False
    assert listed["nql"]["available"] is True
    error = cli.fails(
        "client", "create", "--tenant", "acme", "--name", "x", "--scope", "preview_api"
    )
    assert error == "Error: permission 'preview_api' cannot be granted: In technical preview"


@pytest.mark.parametrize("name", ["nql", "profile", "openid", "bad name", "ümlaut", "-x", ""])
def test_bad_or_duplicate_permission_is_refused_and_changes_nothing(
    cli: Cli, settings: Settings, acme: str, name: str
) -> None:
    before = dump_tables(settings.effective_database_url)

    cli.fails("permission", "create", "--tenant", "acme", "--json", "--", name)

    assert dump_tables(settings.effective_database_url) == before


def test_group_create_and_list(cli: Cli, acme: str) -> None:
    assert cli.json("group", "create", "--tenant", "acme", "apac") == {
        "name": "apac",
        "tenant": "acme",
    }
    assert cli.json("group", "list", "--tenant", "acme") == ["americas", "apac", "emea"]


@pytest.mark.parametrize("name", ["emea", " emea ", "", "-x", "a" * 101])
def test_bad_or_duplicate_group_is_refused_and_changes_nothing(
    cli: Cli, settings: Settings, acme: str, name: str
) -> None:
    before = dump_tables(settings.effective_database_url)

    cli.fails("group", "create", "--tenant", "acme", "--json", "--", name)

    assert dump_tables(settings.effective_database_url) == before


def test_permission_set_availability_licenses_and_unlicenses(cli: Cli, acme: str) -> None:
    made = cli.json("permission", "set-availability", "--tenant", "acme", "spark")
    assert (made["available"], made["reason"]) == (True, "")
    cli.json("client", "create", "--tenant", "acme", "--name", "x", "--scope", "spark")

    options = ("--unavailable", "--reason", "Licence expired")
    unmade = cli.json("permission", "set-availability", "--tenant", "acme", "nql", *options)
    assert (unmade["available"], unmade["reason"]) == (False, "Licence expired")
    error = cli.fails("client", "create", "--tenant", "acme", "--name", "y", "--scope", "nql")
    assert error == "Error: permission 'nql' cannot be granted: Licence expired"


def test_set_availability_refuses_builtins_and_unknowns(
    cli: Cli, settings: Settings, acme: str
) -> None:
    before = dump_tables(settings.effective_database_url)
    refused = cli.fails(
        "permission", "set-availability", "--tenant", "acme", "api_keys:verify", "--unavailable"
    )
    assert refused == "Error: built-in permission 'api_keys:verify' is always available"
    assert "does not exist" in cli.fails(
        "permission", "set-availability", "--tenant", "acme", "nothing_like_it"
    )
    assert dump_tables(settings.effective_database_url) == before
