"""``gatepass apikey`` and the ``gatepass user`` commands that act on personal keys."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from starlette.testclient import TestClient

from gatepass.settings import Settings
from tests.apikeys.support import (
    code_is,
    create_user,
    verifier,
    verify,
    verify_until,
)
from tests.cli.harness import Cli, dump_tables
from tests.factories import Credential, Factory

KEY = re.compile(r"^gpk_[0-9A-Za-z]{38}\Z")


@pytest.fixture
def cli(settings: Settings) -> Cli:
    return Cli.on(settings)


@pytest.fixture
def acme(factory: Factory) -> str:
    """Tenant ``acme``: nql, workflows and campaigns, ``spark`` unavailable, group ``emea``;
    an admin and a viewer."""
    factory.tenant("acme", unavailable=("spark",))
    create_user(factory, "admin@acme.example", "admin")
    create_user(factory, "viewer@acme.example", "viewer")
    return "acme"


@pytest.fixture
def caller(factory: Factory, acme: str) -> Credential:
    return verifier(factory, acme)


def create(cli: Cli, *options: str, tenant: str = "acme") -> dict[str, Any]:
    created: dict[str, Any] = cli.json("apikey", "create", "--tenant", tenant, *options)
    return created


def show(cli: Cli, key_id: str) -> dict[str, Any]:
    shown: dict[str, Any] = cli.json("apikey", "show", "--tenant", "acme", key_id)
    return shown


def near(value: str | None, expected: datetime) -> bool:
    assert value is not None
    return abs(datetime.fromisoformat(value) - expected) < timedelta(minutes=1)


def test_create_prints_the_key_once(cli: Cli, acme: str) -> None:
    created = create(
        cli,
        "--name",
        "Billing sync",
        "--description",
        "Nightly export",
        "--scope",
        "workflows",
        "--scope",
        "nql",
        "--group",
        "emea",
        "--expires-in",
        "30d",
        "--rate-limit",
        "100/m",
    )

    assert KEY.match(created["key"])
    assert re.match(r"^ak_[0-9a-f]{16}\Z", created["id"])
    assert created["name"] == "Billing sync"
    assert created["description"] == "Nightly export"
    assert created["kind"] == "service"
    assert created["owner"] is None
    assert sorted(created["scopes"]) == ["nql", "workflows"]
    assert created["groups"] == ["emea"]
    assert created["status"] == "active"
    assert created["rate_limit"] == "100/60s"
    assert created["hint"] == "gpk_…" + created["key"][-4:]
    assert created["created_by"] == "operator (cli)"
    assert created["last_used_at"] is None
    assert near(created["expires_at"], datetime.now(UTC) + timedelta(days=30))


def test_created_keys_verify(cli: Cli, acme: str, caller: Credential, client: TestClient) -> None:
    service = create(
        cli, "--name", "svc", "--scope", "nql", "--group", "emea", "--rate-limit", "5/1h"
    )
    personal = create(
        cli, "--name", "mine", "--scope", "workflows", "--owner", "Admin@Acme.Example"
    )

    one = verify(client, caller, service["key"])
    two = verify(client, caller, personal["key"])

    assert (one["code"], one["key_id"], one["kind"]) == ("VALID", service["id"], "service")
    assert (one["scopes"], one["groups"]) == (["nql"], ["emea"])
    assert (one["rate_limit"]["limit"], one["rate_limit"]["remaining"]) == (5, 4)
    assert (two["code"], two["key_id"], two["kind"]) == ("VALID", personal["id"], "personal")
    assert two["owner"] == {"email": "admin@acme.example"}
    assert two["scopes"] == ["workflows"]
    assert (personal["kind"], personal["owner"]) == ("personal", "admin@acme.example")


def test_list_and_show_never_show_the_key(cli: Cli, factory: Factory, acme: str) -> None:
    factory.tenant("globex")
    one = create(cli, "--name", "one", "--scope", "nql")
    two = create(cli, "--name", "two", "--owner", "viewer@acme.example")
    create(cli, "--name", "elsewhere", tenant="globex")

    listed = cli.json("apikey", "list", "--tenant", "acme")
    outputs = [
        cli.ok("apikey", "list", "--tenant", "acme"),
        cli.ok("apikey", "list", "--tenant", "acme", "--json"),
        *(cli.ok("apikey", "show", "--tenant", "acme", k["id"]) for k in (one, two)),
        *(cli.ok("apikey", "show", "--tenant", "acme", k["id"], "--json") for k in (one, two)),
    ]

    assert [(k["id"], k["name"], k["owner"]) for k in listed] == [
        (one["id"], "one", None),
        (two["id"], "two", "viewer@acme.example"),
    ]
    assert [k["hint"] for k in listed] == [f"gpk_…{k['key'][-4:]}" for k in (one, two)]
    assert "key" not in show(cli, one["id"])
    assert show(cli, one["id"]) == listed[0]
    assert not [out for out in outputs if one["key"] in out or two["key"] in out]
    assert not [out for out in outputs if one["key"][4:-6] in out or two["key"][4:-6] in out]


def test_regenerate_replaces_the_secret_of_the_same_key(
    cli: Cli, acme: str, caller: Credential, client: TestClient
) -> None:
    old = create(cli, "--name", "ci", "--scope", "nql")
    assert verify(client, caller, old["key"])["code"] == "VALID"

    new = cli.json("apikey", "regenerate", "--tenant", "acme", old["id"])

    assert new["id"] == old["id"]
    assert KEY.match(new["key"])
    assert new["key"] != old["key"]
    assert new["hint"] == "gpk_…" + new["key"][-4:]
    assert verify_until(client, caller, old["key"], code_is("REVOKED"))["code"] == "REVOKED"
    assert verify(client, caller, new["key"])["key_id"] == old["id"]

    newest = cli.json("apikey", "regenerate", "--tenant", "acme", old["id"], "--grace", "1h")

    assert newest["id"] == old["id"]
    assert verify(client, caller, new["key"])["code"] == "VALID"  # for one more hour
    assert verify(client, caller, newest["key"])["code"] == "VALID"
    assert verify(client, caller, old["key"])["code"] == "REVOKED"


def test_revoke(cli: Cli, acme: str, caller: Credential, client: TestClient) -> None:
    key = create(cli, "--name", "ci")
    assert verify(client, caller, key["key"])["code"] == "VALID"

    revoked = cli.json("apikey", "revoke", "--tenant", "acme", key["id"])

    assert revoked["status"] == "revoked"
    assert show(cli, key["id"])["status"] == "revoked"
    assert verify_until(client, caller, key["key"], code_is("REVOKED"))["code"] == "REVOKED"


def test_suspend_and_resume(cli: Cli, acme: str, caller: Credential, client: TestClient) -> None:
    key = create(cli, "--name", "ci")

    assert cli.ok("apikey", "suspend", "--tenant", "acme", key["id"]).strip() == (
        f"Suspended API key {key['id']}."
    )
    assert show(cli, key["id"])["status"] == "suspended"
    assert verify_until(client, caller, key["key"], code_is("SUSPENDED"))["code"] == "SUSPENDED"

    assert cli.json("apikey", "resume", "--tenant", "acme", key["id"])["status"] == "active"
    assert verify_until(client, caller, key["key"], code_is("VALID"))["code"] == "VALID"


def test_update_sets_and_removes_the_rate_limit(
    cli: Cli, acme: str, caller: Credential, client: TestClient
) -> None:
    key = create(cli, "--name", "ci", "--scope", "nql")

    shown = cli.json(
        "apikey", "update", key["id"], "--tenant", "acme", "--rate-limit", "5/m", "--no-scopes"
    )

    assert (shown["rate_limit"], shown["scopes"]) == ("5/60s", [])
    answer = verify_until(client, caller, key["key"], lambda a: a.get("scopes") == [])
    assert answer["rate_limit"]["limit"] == 5
    shown = cli.json("apikey", "update", key["id"], "--tenant", "acme", "--no-rate-limit")
    assert shown["rate_limit"] is None
    error = cli.fails("apikey", "update", key["id"], "--tenant", "acme", "--rate-limit", "0/m")
    assert "rate limit must be" in error


def test_delete_needs_confirmation(
    cli: Cli, settings: Settings, acme: str, caller: Credential, client: TestClient
) -> None:
    key = create(cli, "--name", "ci")
    assert verify(client, caller, key["key"])["code"] == "VALID"
    before = dump_tables(settings.effective_database_url)

    error = cli.fails("apikey", "delete", "--tenant", "acme", key["id"], input="n\n", prompt=True)

    assert "cancelled" in error
    assert dump_tables(settings.effective_database_url) == before

    assert cli.json("apikey", "delete", "--tenant", "acme", key["id"], "--yes") == {
        "deleted": key["id"]
    }

    assert cli.json("apikey", "list", "--tenant", "acme") == []
    assert key["id"] in cli.fails("apikey", "show", "--tenant", "acme", key["id"])
    assert verify_until(client, caller, key["key"], code_is("NOT_FOUND"))["code"] == "NOT_FOUND"


def test_revoke_all_revokes_the_tenants_keys_only(
    cli: Cli, factory: Factory, acme: str, caller: Credential, client: TestClient
) -> None:
    factory.tenant("globex")
    mine = [create(cli, "--name", name) for name in ("one", "two")]
    theirs = create(cli, "--name", "theirs", tenant="globex")

    assert cli.json("apikey", "revoke-all", "--tenant", "acme", "--yes") == {"revoked": 2}

    assert {k["status"] for k in cli.json("apikey", "list", "--tenant", "acme")} == {"revoked"}
    assert cli.json("apikey", "list", "--tenant", "globex")[0]["status"] == "active"
    for key in mine:
        assert verify(client, caller, key["key"])["code"] == "REVOKED"
    assert verify(client, verifier(factory, "globex"), theirs["key"])["code"] == "VALID"


def test_user_disable_enable_and_set_role_follow_through_to_personal_keys(
    cli: Cli, acme: str, caller: Credential, client: TestClient
) -> None:
    key = create(cli, "--name", "mine", "--scope", "nql", "--owner", "admin@acme.example")
    assert verify(client, caller, key["key"])["scopes"] == ["nql"]

    cli.ok("user", "disable", "--tenant", "acme", "admin@acme.example")
    assert show(cli, key["id"])["status"] == "disabled"
    assert verify_until(client, caller, key["key"], code_is("DISABLED"))["code"] == "DISABLED"

    cli.ok("user", "enable", "--tenant", "acme", "admin@acme.example")
    assert show(cli, key["id"])["status"] == "active"
    assert verify_until(client, caller, key["key"], code_is("VALID"))["scopes"] == ["nql"]

    cli.ok("user", "set-role", "--tenant", "acme", "admin@acme.example", "--role", "viewer")
    answer = verify_until(client, caller, key["key"], lambda a: a.get("scopes") == [])
    assert (answer["code"], answer["scopes"]) == ("VALID", [])


BAD_CREATE = {
    "unknown permission": (("--scope", "nql", "--scope", "nope"), "unknown permission 'nope'"),
    "unavailable permission": (("--scope", "spark"), "permission 'spark' cannot be granted"),
    "unknown group": (("--group", "apac"), "unknown client group 'apac'"),
    "unknown owner": (("--owner", "nobody@acme.example"), "nobody@acme.example"),
    "viewer owner with a scope": (
        ("--owner", "viewer@acme.example", "--scope", "nql"),
        "a personal key of a viewer",
    ),
    "rate limit abc": (("--rate-limit", "abc"), "invalid rate limit 'abc'"),
    "rate limit 0/m": (("--rate-limit", "0/m"), "rate limit must be"),
    "rate limit 5/0s": (("--rate-limit", "5/0s"), "rate limit must be"),
    "rate limit 5/2d": (("--rate-limit", "5/2d"), "rate limit must be"),
    "expiry 3x": (("--expires-in", "3x"), "invalid duration '3x'"),
    "expiry 0s": (("--expires-in", "0s"), "expiry must be in the future"),
    "blank name": (("--name", " "), "name is required"),
}


def test_create_refuses_bad_input_and_stores_nothing(
    cli: Cli, settings: Settings, acme: str
) -> None:
    create(cli, "--name", "existing", "--scope", "nql")
    before = dump_tables(settings.effective_database_url)

    errors = {
        case: cli.fails("apikey", "create", "--tenant", "acme", "--name", "x", *options, "--json")
        for case, (options, _) in BAD_CREATE.items()
    }

    assert {c: e for c, e in errors.items() if BAD_CREATE[c][1] not in e} == {}
    assert dump_tables(settings.effective_database_url) == before


def test_commands_on_a_missing_key_or_bad_grace_change_nothing(
    cli: Cli, settings: Settings, acme: str
) -> None:
    key = create(cli, "--name", "existing")
    before = dump_tables(settings.effective_database_url)
    missing = "ak_0000000000000000"

    errors = [
        cli.fails("apikey", "show", "--tenant", "acme", missing),
        cli.fails("apikey", "regenerate", "--tenant", "acme", missing),
        cli.fails("apikey", "revoke", "--tenant", "acme", missing),
        cli.fails("apikey", "delete", "--tenant", "acme", missing, "--yes"),
        cli.fails("apikey", "regenerate", "--tenant", "acme", key["id"], "--grace", "31d"),
        cli.fails("apikey", "regenerate", "--tenant", "acme", key["id"], "--grace", "soon"),
        cli.fails("apikey", "list", "--tenant", "nobody"),
    ]

    assert all(missing in e for e in errors[:4])
    assert "grace period must be" in errors[4]
    assert "invalid duration 'soon'" in errors[5]
    assert "nobody" in errors[6]
    assert dump_tables(settings.effective_database_url) == before


def test_show_lists_each_version_and_retire_unused_ends_idle_ones(
    cli: Cli, acme: str, caller: Credential, client: TestClient
) -> None:
    key = create(cli, "--name", "ci")
    cli.json("apikey", "regenerate", "--tenant", "acme", key["id"], "--grace", "1d")

    shown = show(cli, key["id"])
    assert [v["active"] for v in shown["secrets"]] == [True, True]

    retired = cli.json("apikey", "retire-unused", "--tenant", "acme", key["id"], "--idle", "5m")

    assert retired["retired"] == 1  # the old version was never used
    assert [v["active"] for v in retired["secrets"]] == [False, True]
    assert verify_until(client, caller, key["key"], code_is("REVOKED"))["code"] == "REVOKED"
    error = cli.fails("apikey", "retire-unused", "--tenant", "acme", key["id"], "--idle", "1m")
    assert "between 5 minutes and 30 days" in error
