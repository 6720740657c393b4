"""``gatepass signing-key``: rotation keeps the old key published for tokens already issued."""

from __future__ import annotations

from starlette.testclient import TestClient

from tests.cli.harness import Cli
from tests.http.support import poll

CERTS = "/realms/acme/protocol/openid-connect/certs"


def test_rotate_makes_a_new_current_key_and_keeps_the_old_one_published(
    cli: Cli, acme: str, client: TestClient
) -> None:
    old, upcoming = cli.json("signing-key", "list", "--tenant", "acme")
    assert (old["status"], upcoming["status"]) == ("current", "next")

    rotated = cli.json("signing-key", "rotate", "--tenant", "acme")

    assert rotated["tenant"] == "acme"
    assert rotated["alg"] == "ES256"
    assert rotated["kid"] == upcoming["kid"], "the key published ahead becomes current"
    keys = {k["kid"]: k for k in cli.json("signing-key", "list", "--tenant", "acme")}
    assert (keys[old["kid"]]["status"], keys[old["kid"]]["published"]) == ("previous", True)
    assert keys[old["kid"]]["publish_until"] is not None
    assert (keys[rotated["kid"]]["status"], keys[rotated["kid"]]["published"]) == ("current", True)
    [fresh] = [k for k in keys.values() if k["status"] == "next"]
    # The server had the tenant cached since it started: the CLI's change reaches it through
    # the change feed, within a poll interval.
    published = poll(
        lambda: {k["kid"] for k in client.get(CERTS).json()["keys"]},
        lambda kids: rotated["kid"] in kids and fresh["kid"] in kids,
    )
    assert published == {old["kid"], rotated["kid"], fresh["kid"]}


def test_rotate_twice_gives_distinct_keys(cli: Cli, acme: str) -> None:
    first = cli.json("signing-key", "rotate", "--tenant", "acme")["kid"]
    second = cli.json("signing-key", "rotate", "--tenant", "acme")["kid"]

    keys = cli.json("signing-key", "list", "--tenant", "acme")
    assert first != second
    assert [k["status"] for k in keys] == ["previous", "previous", "current", "next"]
    assert keys[-2]["kid"] == second
