"""Workload identity federation from the CLI: ``gatepass tenant set --trusted-issuers-file`` and
``gatepass client create | update --federation-file``; a workload's token then gets a Gatepass
token, and bad files are one-line errors that store nothing."""

from __future__ import annotations

import json
import time
from pathlib import Path

import jwt
from starlette.testclient import TestClient

from gatepass.settings import Settings
from tests.cli.harness import Cli, dump_tables
from tests.http.support import BASE
from tests.keypairs import ASSERTION_TYPE, key_pair

TOKEN_PATH = "/realms/acme/protocol/openid-connect/token"
CLUSTER = "https://kubernetes.default.svc.cluster.local"
SUBJECT = "system:serviceaccount:payments:sync"
CLUSTER_KEY = key_pair("RS256")


def cluster_token(sub: str = SUBJECT) -> str:
    now = int(time.time())
    claims = {"iss": CLUSTER, "sub": sub, "aud": [BASE + "/realms/acme"], "iat": now}
    claims["exp"] = now + 600
    return jwt.encode(claims, CLUSTER_KEY.private, "RS256", headers={"kid": CLUSTER_KEY.kid})


def write(path: Path, value: object) -> str:
    path.write_text(json.dumps(value))
    return str(path)


def test_a_cluster_workload_authenticates_as_the_client_its_rule_names(
    cli: Cli, acme: str, tmp_path: Path, client: TestClient
) -> None:
    issuers = write(
        tmp_path / "issuers.json",
        [{"issuer": CLUSTER, "name": "prod cluster", "jwks": CLUSTER_KEY.jwks()}],
    )
    shown = cli.json("tenant", "set", "acme", "--trusted-issuers-file", issuers)
    assert shown["trusted_issuers"] == [{"issuer": CLUSTER, "public_keys": [CLUSTER_KEY.kid]}]
    rules = write(tmp_path / "rules.json", [{"issuer": CLUSTER, "subject": SUBJECT}])

    created = cli.json(
        "client", "create", "--tenant", "acme", "--name", "Sync", "--scope", "nql",
        "--federation-file", rules,
    )  # fmt: skip

    assert created["client_secret"] is None
    assert created["federation"][0]["subject"] == SUBJECT
    assert SUBJECT in cli.ok("client", "show", "--tenant", "acme", created["client_id"])
    form = {
        "grant_type": "client_credentials",
        "client_id": created["client_id"],
        "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": cluster_token(),
    }
    assert client.post(TOKEN_PATH, data=form).status_code == 200

    other = "system:serviceaccount:payments:report"
    new_rules = write(tmp_path / "new.json", [{"issuer": CLUSTER, "subject": other}])
    cli.ok("client", "update", "--tenant", "acme", created["client_id"], "--federation-file",
           new_rules)  # fmt: skip
    deadline = time.monotonic() + 10  # the server sees the change at its next poll
    while client.post(TOKEN_PATH, data=form).status_code == 200:
        assert time.monotonic() < deadline, "the old rule still works"
        time.sleep(0.05)
    form["client_assertion"] = cluster_token(other)
    assert client.post(TOKEN_PATH, data=form).status_code == 200


def test_bad_files_fail_and_store_nothing(
    cli: Cli, acme: str, tmp_path: Path, settings: Settings
) -> None:
    before = dump_tables(settings.database_url)
    private = [{"issuer": CLUSTER, "jwks": {"keys": [CLUSTER_KEY.private_jwk()]}}]
    for value in (private, [{"issuer": "http://token.example.com"}], {"issuer": CLUSTER}):
        message = cli.fails(
            "tenant", "set", "acme", "--trusted-issuers-file", write(tmp_path / "i.json", value)
        )
        assert "issuer" in message or "jwks" in message, message
    broken = tmp_path / "broken.json"
    broken.write_text("[not json")
    assert "trusted issuers" in cli.fails(
        "tenant", "set", "acme", "--trusted-issuers-file", str(broken)
    )
    untrusted = write(tmp_path / "rules.json", [{"issuer": CLUSTER, "subject": SUBJECT}])
    message = cli.fails(
        "client", "create", "--tenant", "acme", "--name", "x", "--federation-file", untrusted
    )
    assert "trusts" in message

    assert dump_tables(settings.database_url) == before
