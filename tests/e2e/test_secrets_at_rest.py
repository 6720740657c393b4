"""No client secret, password or access token is stored or logged in plain text."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
import requests

from gatepass.settings import Settings
from tests.cli.harness import Cli, dump_tables, row_texts
from tests.e2e.conftest import Server

pytestmark = pytest.mark.e2e

PASSWORD = "Tr0ub4dor&3-horse-battery"


def token_request(server: Server, **kwargs: Any) -> requests.Response:
    data = {"grant_type": "client_credentials", **kwargs.pop("data", {})}
    return requests.post(server.token_url("acme"), data=data, timeout=5, **kwargs)


def issue(server: Server, client_id: str, secret: str, *, post: bool = False) -> str:
    if post:
        response = token_request(server, data={"client_id": client_id, "client_secret": secret})
    else:
        response = token_request(server, auth=(client_id, secret))
    assert response.status_code == 200, response.text
    access_token: str = response.json()["access_token"]
    return access_token


def refuse(server: Server, **kwargs: Any) -> None:
    response = token_request(server, **kwargs)
    assert response.status_code == 401, response.text
    assert response.json()["error"] == "invalid_client"


def needles(secrets: dict[str, str], clients: dict[str, str]) -> dict[str, bytes]:
    """What must not appear: each value, the secrets without their prefix, Basic encodings."""
    found: dict[str, bytes] = {}
    for label, value in secrets.items():
        found[label] = value.encode()
        if value.startswith("gpcs_"):
            found[f"{label} body"] = value[5:].encode()
        if label.startswith("token"):
            found[f"{label} signature"] = value.rsplit(".", 1)[1].encode()
        for name, client_id in clients.items():
            pair = f"{client_id}:{value}".encode()
            found[f"Basic {name}:{label}"] = base64.b64encode(pair)
    return found


def haystacks(settings: Settings, tmp_path: Path) -> dict[str, bytes]:
    """Every stored value (all tables, all columns), and every file of the test (logs, SQLite)."""
    stacks: dict[str, bytes] = {}
    for table, rows in dump_tables(settings.effective_database_url).items():
        for number, row in enumerate(rows):
            for column, value in enumerate(row):
                raw = bytes(value) if isinstance(value, bytes | memoryview) else b""
                as_text = json.dumps(value, default=str) + str(value)
                stacks[f"{table} row {number} column {column}"] = raw + as_text.encode()
    for number, text in enumerate(row_texts(settings.effective_database_url)):
        stacks[f"PostgreSQL row text {number}"] = text.encode()
    for path in tmp_path.rglob("*"):
        if path.is_file():
            stacks[f"file {path.name}"] = path.read_bytes()
    return stacks


def test_secrets_passwords_and_tokens_never_stored_or_logged(
    settings: Settings, server: Server, cli: Cli, tmp_path: Path
) -> None:
    cli.ok("tenant", "create", "acme")
    cli.ok("permission", "create", "--tenant", "acme", "nql")
    one = cli.json("client", "create", "--tenant", "acme", "--name", "one", "--scope", "nql")
    two = cli.json("client", "create", "--tenant", "acme", "--name", "two", "--scope", "nql")
    one_new = cli.json("client", "rotate-secret", "--tenant", "acme", one["client_id"])
    two_new = cli.json(
        "client", "rotate-secret", "--tenant", "acme", two["client_id"], "--grace", "1h"
    )
    user = "user create --tenant acme --email admin@acme.example --role admin --password-stdin"
    cli.ok(*user.split(), input=PASSWORD + "\n")
    secrets = {
        "secret one (rotated out)": one["client_secret"],
        "secret one": one_new["client_secret"],
        "secret two (in grace)": two["client_secret"],
        "secret two": two_new["client_secret"],
        "admin password": PASSWORD,
    }
    one_id, two_id = one["client_id"], two["client_id"]
    current = one_new["client_secret"]

    tokens = [
        issue(server, one_id, current),
        issue(server, one_id, current, post=True),
        issue(server, two_id, two["client_secret"]),
        issue(server, two_id, two_new["client_secret"], post=True),
    ]
    refuse(server, auth=(one_id, one["client_secret"]))  # rotated out
    refuse(server, auth=(one_id, two_new["client_secret"]))  # another client's secret
    refuse(server, auth=(one_id, current[:-1] + ("A" if current[-1] != "A" else "B")))
    refuse(server, data={"client_id": current, "client_secret": current})  # secret as the id
    refuse(server, auth=(current, current))
    refuse(server, data={"client_id": two_new["client_secret"], "client_secret": "x"})
    refuse(server, auth=(one_id, PASSWORD))  # a password where the secret goes
    introspected = requests.post(
        server.introspect_url("acme"), data={"token": tokens[0]}, auth=(one_id, current), timeout=5
    )
    revoked = requests.post(
        server.oidc("acme", "revoke"), data={"token": tokens[1]}, auth=(one_id, current), timeout=5
    )
    assert introspected.json()["active"] is True
    assert revoked.status_code == 200
    server.stop()  # flushes last-used times and the last log lines

    secrets |= {f"token {n}": t for n, t in enumerate(tokens)}
    clients = {"one": one_id, "two": two_id}
    stacks = haystacks(settings, tmp_path)
    assert "client authentication failed" in server.output(), "the server log was not captured"
    assert "oauth_clients row 0 column 0" in stacks, "the database dump is empty"
    leaks = [
        f"{label} in {where}"
        for label, needle in needles(secrets, clients).items()
        for where, stack in stacks.items()
        if needle in stack
    ]
    assert not leaks, "plain text found:\n" + "\n".join(leaks)


def test_error_responses_never_echo_a_secret(server: Server, cli: Cli) -> None:
    cli.ok("tenant", "create", "acme")
    cli.ok("permission", "create", "--tenant", "acme", "nql")
    created = cli.json("client", "create", "--tenant", "acme", "--name", "one", "--scope", "nql")
    secret = created["client_secret"]
    good = {
        "grant_type": "client_credentials",
        "client_id": created["client_id"],
        "client_secret": secret,
    }

    echoed = []
    for field in ("client_id", "scope", "resource", "grant_type"):  # a secret pasted there
        response = requests.post(server.token_url("acme"), data={**good, field: secret}, timeout=5)
        assert response.status_code in (400, 401), response.text
        if secret in response.text or secret[5:] in response.text:
            echoed.append(f"{field}: {response.status_code} {response.text}")

    assert not echoed, "the error response echoes the secret:\n" + "\n".join(echoed)
