"""``gatepass webhook``: the real CLI in process, on the test database, sending to a real
receiver."""

from __future__ import annotations

import pytest

from gatepass.settings import Settings
from tests.cli.harness import Cli, row_texts
from tests.webhooks.receiver import Receiver


@pytest.fixture
def cli(local_settings: Settings) -> Cli:
    made = Cli.on(local_settings)
    made.env = {
        **made.env,
        "GATEPASS_WEBHOOK_ALLOW_HTTP": "true",
        "GATEPASS_WEBHOOK_ALLOW_PRIVATE": "true",
    }
    made.ok("tenant", "create", "acme")
    return made


def test_an_operator_adds_an_endpoint_tests_it_and_reads_the_log(
    cli: Cli, local_settings: Settings, receiver: Receiver
) -> None:
    created = cli.json(
        "webhook",
        "create",
        "--tenant",
        "acme",
        "--url",
        receiver.url,
        "-e",
        "webhook.test",
    )
    secret = created["secret"]
    assert created["events"] == ["webhook.test"]
    listed = cli.json("webhook", "list", "--tenant", "acme")
    assert [e["id"] for e in listed] == [created["id"]]
    assert secret not in str(listed)

    queued = cli.ok("webhook", "test", "--tenant", "acme", created["id"])
    assert cli.json("webhook", "deliver") == {"attempts": 1}

    (received,) = receiver.received
    assert received.verify(secret)["type"] == "webhook.test"
    assert received.headers["webhook-id"] in queued
    log = cli.json("webhook", "deliveries", "--tenant", "acme", created["id"])
    assert [(d["attempt"], d["status_code"]) for d in log] == [(1, 200)]
    assert "webhook.test" in cli.ok("webhook", "deliveries", "--tenant", "acme", created["id"])
    assert not [row for row in row_texts(local_settings.effective_database_url) if secret in row]


def test_update_rotate_and_delete(cli: Cli, receiver: Receiver) -> None:
    created = cli.json("webhook", "create", "--tenant", "acme", "--url", receiver.url)

    updated = cli.json(
        "webhook",
        "update",
        "--tenant",
        "acme",
        created["id"],
        "--disable",
        "-e",
        "credential.revoked",
    )
    assert (updated["enabled"], updated["events"]) == (False, ["credential.revoked"])
    rotated = cli.json("webhook", "rotate-secret", "--tenant", "acme", created["id"])
    assert rotated["secret"] != created["secret"]
    assert "not shown again" in cli.ok(
        "webhook", "rotate-secret", "--tenant", "acme", created["id"]
    )
    cli.ok("webhook", "delete", "--tenant", "acme", created["id"], "--yes")

    assert cli.json("webhook", "list", "--tenant", "acme") == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("create", "--url", "ftp://hooks.example.com/"), "https"),
        (("create", "--url", "https://hooks.example.com/", "-e", "nope"), "unknown event"),
        (("update", "ep_missing", "--url", "https://hooks.example.com/"), "does not exist"),
        (("redeliver", "ep_missing", "msg_x"), "does not exist"),
    ],
)
def test_bad_input_is_one_line_and_stores_nothing(
    cli: Cli, args: tuple[str, ...], message: str
) -> None:
    command, *rest = args
    error = cli.fails("webhook", command, "--tenant", "acme", *rest)
    assert message in error
    assert cli.json("webhook", "list", "--tenant", "acme") == []
