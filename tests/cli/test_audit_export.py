"""``gatepass audit export``: JSON lines of one tenant's audit events, oldest first, filtered."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.cli.harness import Cli, dump_tables


def lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line]


def test_export_writes_each_event_of_the_tenant_as_json_lines(cli: Cli, acme: str) -> None:
    created = cli.json("client", "create", "--tenant", "acme", "--name", "ci", "--scope", "nql")
    cli.ok("client", "revoke", "--tenant", "acme", created["client_id"])
    cli.ok("tenant", "create", "globex")
    cli.ok("group", "create", "--tenant", "globex", "elsewhere")

    events = lines(cli.ok("audit", "export", "--tenant", "acme"))

    actions = [e["action"] for e in events]
    assert actions[0] == "tenant.create"
    assert actions[-2:] == ["client.create", "client.revoke"]
    assert all(e["target"] != "elsewhere" for e in events)
    assert [e["id"] for e in events] == sorted(e["id"] for e in events)
    assert set(events[-1]) == {
        "id",
        "at",
        "actor_type",
        "actor",
        "action",
        "target_type",
        "target",
        "source_ip",
        "user_agent",
        "details",
        "count",
    }
    assert events[-1]["target"] == created["client_id"]
    assert events[-1]["actor_type"] == "operator"
    # The secret shown at creation is in no audit event.
    assert created["client_secret"] not in cli.ok("audit", "export", "--tenant", "acme")


def test_export_filters_by_action_family_actor_and_time(cli: Cli, acme: str) -> None:
    cli.ok("client", "create", "--tenant", "acme", "--name", "ci")
    cli.ok("apikey", "create", "--tenant", "acme", "--name", "key")

    families = {
        e["action"] for e in lines(cli.ok("audit", "export", "-t", "acme", "--action", "client."))
    }
    assert families == {"client.create"}
    exact = lines(cli.ok("audit", "export", "-t", "acme", "--action", "apikey.create"))
    assert [e["action"] for e in exact] == ["apikey.create"]
    assert lines(cli.ok("audit", "export", "-t", "acme", "--actor", "somebody")) == []
    assert len(lines(cli.ok("audit", "export", "-t", "acme", "--since", "1h"))) >= 2
    assert lines(cli.ok("audit", "export", "-t", "acme", "--until", "2001-01-01T00:00:00Z")) == []
    future = cli.ok("audit", "export", "-t", "acme", "--since", "2999-01-01T00:00:00+02:00")
    assert lines(future) == []


def test_export_to_a_file(cli: Cli, acme: str, tmp_path: Path) -> None:
    target = tmp_path / "audit.jsonl"
    result = cli.run("audit", "export", "--tenant", "acme", "--output", str(target))
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    written = lines(target.read_text())
    assert written
    assert f"Wrote {len(written)} audit events" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--tenant", "nope"), "tenant 'nope' does not exist"),
        (("--tenant", "acme", "--since", "yesterday"), "invalid time 'yesterday'"),
        (("--tenant", "acme", "--since", "2026-11-01T00:00:00"), "needs a UTC offset"),
        (("--tenant", "acme", "--until", "99999d"), "invalid duration"),
    ],
)
def test_bad_export_arguments_fail_cleanly(
    cli: Cli, acme: str, settings: Any, args: tuple[str, ...], message: str
) -> None:
    before = dump_tables(settings.effective_database_url)
    assert message in cli.fails("audit", "export", *args)
    assert dump_tables(settings.effective_database_url) == before
