"""``gatepass client``: create, list, show, rotate-secret, suspend, resume, revoke, revoke-all,
delete."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx2
import jwt
import pytest
from starlette.testclient import TestClient

from gatepass.settings import Settings
from tests.cli.harness import PUBLIC_URL, Cli, dump_tables
from tests.http.support import poll, status_is

SECRET = re.compile(r"^gpcs_[0-9A-Za-z]{38}\Z")


def get_token(http: TestClient, tenant: str, client_id: str, secret: str) -> httpx2.Response:
    return http.post(
        f"/realms/{tenant}/protocol/openid-connect/token",
        data={"grant_type": "client_credentials"},
        auth=(client_id, secret),
    )


def assert_refused(response: httpx2.Response) -> None:
    assert response.status_code == 401, response.text
    assert response.json()["error"] == "invalid_client"


def when(value: str | None) -> datetime:
    assert value is not None
    return datetime.fromisoformat(value)


def near(value: str | None, expected: datetime) -> bool:
    return abs(when(value) - expected) < timedelta(minutes=1)


def create(cli: Cli, *options: str) -> dict[str, Any]:
    created: dict[str, Any] = cli.json("client", "create", "--tenant", "acme", *options)
    return created


def test_create_prints_the_credential_once_with_its_token_endpoint(cli: Cli, acme: str) -> None:
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
    )

    assert SECRET.match(created["client_secret"])
    assert re.match(r"^[A-Za-z0-9][A-Za-z0-9._~-]{2,99}\Z", created["client_id"])
    assert created["token_endpoint"] == f"{PUBLIC_URL}/realms/acme/protocol/openid-connect/token"
    assert created["name"] == "Billing sync"
    assert created["description"] == "Nightly export"
    assert sorted(created["scopes"]) == ["nql", "workflows"]
    assert created["groups"] == ["emea"]
    assert created["status"] == "active"
    assert created["created_by"] == "operator (cli)"
    assert near(created["expires_at"], datetime.now(UTC) + timedelta(days=30))
    [version] = created["secrets"]
    assert version["active"] is True
    assert version["hint"] == "gpcs_…" + created["client_secret"][-4:]


def test_created_secret_gets_a_token_with_the_granted_scopes_and_groups(
    cli: Cli, acme: str, client: TestClient
) -> None:
    created = create(cli, "--name", "x", "--scope", "nql", "--group", "emea")

    response = get_token(client, "acme", created["client_id"], created["client_secret"])

    assert response.status_code == 200, response.text
    claims = jwt.decode(response.json()["access_token"], options={"verify_signature": False})
    assert claims["client_id"] == created["client_id"]
    assert claims["scope"] == "nql"
    assert claims["groups"] == ["emea"]


def test_the_secret_is_never_shown_again(cli: Cli, acme: str) -> None:
    created = create(cli, "--name", "x", "--scope", "nql")
    secret, client_id = created["client_secret"], created["client_id"]

    outputs = [
        cli.ok("client", "list", "--tenant", "acme"),
        cli.ok("client", "list", "--tenant", "acme", "--json"),
        cli.ok("client", "show", "--tenant", "acme", client_id),
        cli.ok("client", "show", "--tenant", "acme", client_id, "--json"),
    ]

    assert all(client_id in out for out in outputs)
    assert not [out for out in outputs if secret in out or secret[5:-4] in out]


def test_create_with_a_chosen_client_id(cli: Cli, acme: str) -> None:
    created = create(cli, "--name", "x", "--client-id", "billing-sync")

    assert created["client_id"] == "billing-sync"
    assert cli.json("client", "show", "--tenant", "acme", "billing-sync")["name"] == "x"


def test_create_accepts_iso_durations(cli: Cli, acme: str) -> None:
    created = create(cli, "--name", "x", "--expires-in", "P1DT2H")

    assert near(created["expires_at"], datetime.now(UTC) + timedelta(days=1, hours=2))


def test_same_client_id_may_exist_in_another_tenant(cli: Cli, acme: str) -> None:
    cli.ok("tenant", "create", "beta")
    create(cli, "--name", "x", "--client-id", "shared-name")

    other = cli.json(
        "client", "create", "--tenant", "beta", "--name", "y", "--client-id", "shared-name"
    )

    assert other["client_id"] == "shared-name"
    assert cli.json("client", "show", "--tenant", "acme", "shared-name")["name"] == "x"


BAD_CREATE = {
    "unknown permission": (("--scope", "nql", "--scope", "nope"), "unknown permission 'nope'"),
    "unavailable permission": (("--scope", "spark"), "permission 'spark' cannot be granted"),
    "unknown group": (("--group", "emea", "--group", "apac"), "unknown client group 'apac'"),
    "duration 3x": (("--expires-in", "3x"), "invalid duration '3x'"),
    "duration forever": (("--expires-in", "forever"), "invalid duration 'forever'"),
    "duration 0s": (("--expires-in", "0s"), "expiry must be in the future"),
    "duration -P1D": (("--expires-in", "-P1D"), "invalid duration"),
    "duration 9999999d": (("--expires-in", "9999999d"), "9999999d"),
    "duration 1000000000d": (("--expires-in", "1000000000d"), "1000000000d"),
    "client id with colon": (("--client-id", "a:b"), "client ID must be"),
    "client id too short": (("--client-id", "ab"), "client ID must be"),
    "blank name": (("--name", " "), "name is required"),
    "token lifetime": (("--token-lifetime", "5"), "token lifetime must be"),
}


@pytest.mark.parametrize(("options", "expected"), BAD_CREATE.values(), ids=BAD_CREATE.keys())
def test_create_refuses_bad_input_and_changes_nothing(
    cli: Cli, settings: Settings, acme: str, options: tuple[str, ...], expected: str
) -> None:
    create(cli, "--name", "existing", "--client-id", "existing")
    before = dump_tables(settings.effective_database_url)

    error = cli.fails("client", "create", "--tenant", "acme", "--name", "x", *options, "--json")

    assert expected in error
    assert dump_tables(settings.effective_database_url) == before


def test_duplicate_client_id_is_refused_and_keeps_the_first_secret(
    cli: Cli, settings: Settings, acme: str, client: TestClient
) -> None:
    first = create(cli, "--name", "first", "--client-id", "billing-sync", "--scope", "nql")
    before = dump_tables(settings.effective_database_url)

    error = cli.fails(
        "client", "create", "--tenant", "acme", "--name", "second", "--client-id", "billing-sync"
    )

    assert error == "Error: client ID 'billing-sync' is already used in tenant 'acme'"
    assert dump_tables(settings.effective_database_url) == before
    assert get_token(client, "acme", "billing-sync", first["client_secret"]).status_code == 200


def test_list_shows_every_client_of_the_tenant_only(cli: Cli, acme: str) -> None:
    cli.ok("tenant", "create", "beta")
    one = create(cli, "--name", "one", "--scope", "nql")
    two = create(cli, "--name", "two", "--group", "americas")
    cli.ok("client", "create", "--tenant", "beta", "--name", "elsewhere")

    listed = cli.json("client", "list", "--tenant", "acme")

    assert [(c["client_id"], c["name"]) for c in listed] == [
        (one["client_id"], "one"),
        (two["client_id"], "two"),
    ]
    assert listed[0]["scopes"] == ["nql"]
    assert listed[1]["groups"] == ["americas"]
    assert all(c["status"] == "active" and c["last_used_at"] is None for c in listed)


def test_show_and_manage_are_confined_to_the_tenant(
    cli: Cli, settings: Settings, acme: str
) -> None:
    cli.ok("tenant", "create", "beta")
    create(cli, "--name", "x", "--client-id", "acme-only")
    before = dump_tables(settings.effective_database_url)

    for command in ("show", "revoke", "rotate-secret"):
        error = cli.fails("client", command, "--tenant", "beta", "acme-only", "--json")
        assert error == "Error: client 'acme-only' does not exist in tenant 'beta'"
    cli.fails("client", "delete", "--tenant", "beta", "acme-only", "--yes")
    assert cli.json("client", "revoke-all", "--tenant", "beta", "--yes") == {"revoked": 0}

    assert cli.json("client", "show", "--tenant", "acme", "acme-only")["status"] == "active"
    after = dump_tables(settings.effective_database_url)
    assert {k: v for k, v in after.items() if k != "audit_events"} == {
        k: v for k, v in before.items() if k != "audit_events"
    }


def test_rotate_secret_ends_the_old_secret_at_once(cli: Cli, acme: str, client: TestClient) -> None:
    created = create(cli, "--name", "x", "--client-id", "rotating")

    rotated = cli.json("client", "rotate-secret", "--tenant", "acme", "rotating")

    assert SECRET.match(rotated["client_secret"])
    assert rotated["client_secret"] != created["client_secret"]
    assert rotated["token_endpoint"] == created["token_endpoint"]
    old, new = cli.json("client", "show", "--tenant", "acme", "rotating")["secrets"]
    assert (old["active"], new["active"]) == (False, True)
    assert new["hint"].endswith(rotated["client_secret"][-4:])
    assert near(old["expires_at"], datetime.now(UTC))
    assert_refused(get_token(client, "acme", "rotating", created["client_secret"]))
    assert get_token(client, "acme", "rotating", rotated["client_secret"]).status_code == 200


def test_rotate_secret_with_grace_keeps_the_old_secret_working(
    cli: Cli, acme: str, client: TestClient
) -> None:
    created = create(cli, "--name", "x", "--client-id", "rotating")

    rotated = cli.json("client", "rotate-secret", "--tenant", "acme", "rotating", "--grace", "1h")

    old, new = cli.json("client", "show", "--tenant", "acme", "rotating")["secrets"]
    assert (old["active"], new["active"]) == (True, True)
    assert near(old["expires_at"], datetime.now(UTC) + timedelta(hours=1))
    assert new["expires_at"] is None
    for secret in (created["client_secret"], rotated["client_secret"]):
        assert get_token(client, "acme", "rotating", secret).status_code == 200


@pytest.mark.parametrize("grace", ["31d", "soon", "-1h", "1000000000d"])
def test_rotate_secret_refuses_a_bad_grace_and_changes_nothing(
    cli: Cli, settings: Settings, acme: str, grace: str
) -> None:
    create(cli, "--name", "x", "--client-id", "rotating")
    before = dump_tables(settings.effective_database_url)

    cli.fails("client", "rotate-secret", "--tenant", "acme", "rotating", "--grace", grace)

    assert dump_tables(settings.effective_database_url) == before


def test_revoke_stops_the_client_and_is_idempotent(cli: Cli, acme: str, client: TestClient) -> None:
    created = create(cli, "--name", "x", "--client-id", "leaving")

    revoked = cli.json("client", "revoke", "--tenant", "acme", "leaving")

    assert revoked["status"] == "revoked"
    assert cli.json("client", "show", "--tenant", "acme", "leaving")["status"] == "revoked"
    assert cli.json("client", "revoke", "--tenant", "acme", "leaving")["status"] == "revoked"
    assert_refused(get_token(client, "acme", "leaving", created["client_secret"]))


def test_a_revoked_client_secret_cannot_be_rotated(cli: Cli, settings: Settings, acme: str) -> None:
    create(cli, "--name", "x", "--client-id", "leaving")
    cli.ok("client", "revoke", "--tenant", "acme", "leaving")
    before = dump_tables(settings.effective_database_url)

    error = cli.fails("client", "rotate-secret", "--tenant", "acme", "leaving", "--json")

    assert "revoked" in error
    assert dump_tables(settings.effective_database_url) == before


def test_revoke_all_revokes_every_client_of_the_tenant_only(cli: Cli, acme: str) -> None:
    cli.ok("tenant", "create", "beta")
    create(cli, "--name", "one")
    create(cli, "--name", "two")
    cli.ok("client", "create", "--tenant", "beta", "--name", "elsewhere")

    assert cli.json("client", "revoke-all", "--tenant", "acme", "--yes") == {"revoked": 2}

    assert {c["status"] for c in cli.json("client", "list", "--tenant", "acme")} == {"revoked"}
    assert [c["status"] for c in cli.json("client", "list", "--tenant", "beta")] == ["active"]
    assert cli.json("client", "revoke-all", "--tenant", "acme", "--yes") == {"revoked": 0}


def test_revoke_all_keep_management_keeps_verifiers_and_managers(cli: Cli, acme: str) -> None:
    product = create(cli, "--name", "billing", "--scope", "nql")["client_id"]
    gateway = create(cli, "--name", "gateway", "--scope", "api_keys:verify")["client_id"]
    robot = create(cli, "--name", "robot", "--scope", "credentials:manage")["client_id"]

    revoked = cli.json("client", "revoke-all", "--tenant", "acme", "--keep-management", "--yes")

    assert revoked == {"revoked": 1}
    listed = {c["client_id"]: c["status"] for c in cli.json("client", "list", "--tenant", "acme")}
    assert listed == {product: "revoked", gateway: "active", robot: "active"}
    exported = cli.ok("audit", "export", "--tenant", "acme", "--action", "client.revoke")
    revokes = [json.loads(line) for line in exported.splitlines()]
    assert [(e["action"], e["target"]) for e in revokes] == [("client.revoke", product)]


@pytest.mark.parametrize("answer", ["n\n", "\n", None], ids=["no", "default", "no-input"])
def test_revoke_all_unconfirmed_changes_nothing(
    cli: Cli, settings: Settings, acme: str, answer: str | None
) -> None:
    create(cli, "--name", "one")
    before = dump_tables(settings.effective_database_url)

    cli.fails("client", "revoke-all", "--tenant", "acme", input=answer, prompt=True)

    assert dump_tables(settings.effective_database_url) == before


def test_revoke_all_confirmed_interactively(cli: Cli, acme: str) -> None:
    create(cli, "--name", "one")

    out = cli.ok("client", "revoke-all", "--tenant", "acme", input="y\n")

    assert "Revoked 1 client(s)." in out
    assert [c["status"] for c in cli.json("client", "list", "--tenant", "acme")] == ["revoked"]


def test_delete_removes_the_client(cli: Cli, acme: str, client: TestClient) -> None:
    created = create(cli, "--name", "x", "--client-id", "doomed")

    assert cli.json("client", "delete", "--tenant", "acme", "doomed", "--yes") == {
        "deleted": "doomed"
    }

    assert cli.json("client", "list", "--tenant", "acme") == []
    assert "does not exist" in cli.fails("client", "show", "--tenant", "acme", "doomed")
    assert_refused(get_token(client, "acme", "doomed", created["client_secret"]))


@pytest.mark.parametrize("answer", ["n\n", "\n", None], ids=["no", "default", "no-input"])
def test_delete_unconfirmed_changes_nothing(
    cli: Cli, settings: Settings, acme: str, answer: str | None
) -> None:
    create(cli, "--name", "x", "--client-id", "kept")
    before = dump_tables(settings.effective_database_url)

    cli.fails("client", "delete", "--tenant", "acme", "kept", input=answer, prompt=True)

    assert dump_tables(settings.effective_database_url) == before
    assert cli.json("client", "show", "--tenant", "acme", "kept")["status"] == "active"


def test_delete_confirmed_interactively(cli: Cli, acme: str) -> None:
    create(cli, "--name", "x", "--client-id", "doomed")

    out = cli.ok("client", "delete", "--tenant", "acme", "doomed", input="y\n")

    assert "Deleted client doomed." in out
    assert cli.json("client", "list", "--tenant", "acme") == []


@pytest.mark.parametrize("command", ["show", "rotate-secret", "revoke"])
def test_unknown_client_is_refused(cli: Cli, settings: Settings, acme: str, command: str) -> None:
    before = dump_tables(settings.effective_database_url)

    error = cli.fails("client", command, "--tenant", "acme", "ghost", "--json")

    assert error == "Error: client 'ghost' does not exist in tenant 'acme'"
    assert dump_tables(settings.effective_database_url) == before


def test_delete_unknown_client_is_refused(cli: Cli, settings: Settings, acme: str) -> None:
    before = dump_tables(settings.effective_database_url)

    error = cli.fails("client", "delete", "--tenant", "acme", "ghost", "--yes")

    assert error == "Error: client 'ghost' does not exist in tenant 'acme'"
    assert dump_tables(settings.effective_database_url) == before


def test_suspend_stops_the_client_until_resume(cli: Cli, acme: str, client: TestClient) -> None:
    created = create(cli, "--name", "x", "--client-id", "pausing")

    assert cli.ok("client", "suspend", "--tenant", "acme", "pausing").strip() == (
        "Suspended client pausing."
    )
    assert cli.json("client", "show", "--tenant", "acme", "pausing")["status"] == "suspended"
    assert_refused(
        poll(lambda: get_token(client, "acme", "pausing", created["client_secret"]), status_is(401))
    )

    assert cli.json("client", "resume", "--tenant", "acme", "pausing")["status"] == "active"
    again = poll(
        lambda: get_token(client, "acme", "pausing", created["client_secret"]), status_is(200)
    )
    assert again.status_code == 200


def test_a_revoked_client_cannot_be_suspended(cli: Cli, settings: Settings, acme: str) -> None:
    create(cli, "--name", "x", "--client-id", "leaving")
    cli.ok("client", "revoke", "--tenant", "acme", "leaving")
    before = dump_tables(settings.effective_database_url)

    for command in ("suspend", "resume"):
        error = cli.fails("client", command, "--tenant", "acme", "leaving")
        assert f"is revoked: cannot {command} it" in error

    assert dump_tables(settings.effective_database_url) == before


def test_update_changes_what_is_given_and_nothing_else(cli: Cli, acme: str) -> None:
    create(cli, "--name", "x", "--client-id", "editing", "--scope", "nql", "--expires-in", "30d")

    shown = cli.json(
        "client", "update", "editing", "--tenant", "acme", "--name", "Renamed",
        "--scope", "nql", "--scope", "workflows", "--no-expiry", "--token-lifetime", "120",
    )  # fmt: skip

    assert (shown["name"], shown["scopes"]) == ("Renamed", ["nql", "workflows"])
    assert (shown["expires_at"], shown["token_lifetime"]) == (None, 120)
    again = cli.json("client", "update", "editing", "--tenant", "acme", "--tenant-lifetime")
    assert (again["name"], again["token_lifetime"]) == ("Renamed", None)


@pytest.mark.parametrize(
    ("options", "says"),
    [
        (("--scope", "nql", "--no-scopes"), "--scope and --no-scopes cannot be given together"),
        (("--expires-in", "1d", "--no-expiry"), "cannot be given together"),
        (("--scope", "nope"), "unknown permission 'nope'"),
        (("--name", " "), "name is required"),
        (("--token-lifetime", "1"), "token lifetime must be"),
    ],
)
def test_update_refuses_bad_input_in_one_line_and_changes_nothing(
    cli: Cli, settings: Settings, acme: str, options: tuple[str, ...], says: str
) -> None:
    create(cli, "--name", "x", "--client-id", "editing", "--scope", "nql")
    before = dump_tables(settings.effective_database_url)

    error = cli.fails("client", "update", "editing", "--tenant", "acme", *options)

    assert says in error
    assert dump_tables(settings.effective_database_url) == before


def test_an_ip_allowlist_is_given_on_create_and_changed_on_update(cli: Cli, acme: str) -> None:
    made = create(cli, "--name", "x", "--client-id", "office", "--allow-ip", "203.0.113.7/24")
    assert made["allowed_ips"] == ["203.0.113.0/24"]

    shown = cli.json(
        "client", "update", "office", "--tenant", "acme", "--allow-ip", "10.0.0.0/8",
        "--allow-ip", "2001:db8::/32",
    )  # fmt: skip

    assert shown["allowed_ips"] == ["10.0.0.0/8", "2001:db8::/32"]
    assert (
        cli.json("client", "update", "office", "--tenant", "acme", "--any-ip")["allowed_ips"] == []
    )
    error = cli.fails("client", "update", "office", "--tenant", "acme", "--allow-ip", "intranet")
    assert "is not an IP address or CIDR range" in error
