"""``gatepass client create --jwks-file``: a client with public keys (``private_key_jwt``) and no
secret; a bad file is a one-line error and stores nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from starlette.testclient import TestClient

from gatepass.settings import Settings
from tests.cli.harness import Cli, dump_tables
from tests.http.support import BASE
from tests.keypairs import assertion_form, key_pair

TOKEN_PATH = "/realms/acme/protocol/openid-connect/token"


def test_create_with_a_jwks_file_makes_a_client_without_a_secret(
    cli: Cli, acme: str, tmp_path: Path, client: TestClient
) -> None:
    pair = key_pair("EdDSA")
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps(pair.jwks()))

    created = cli.json(
        "client", "create", "--tenant", "acme", "--name", "Signed", "--scope", "nql",
        "--jwks-file", str(path),
    )  # fmt: skip

    assert created["client_secret"] is None
    assert created["jwks"] == pair.jwks()
    assert created["secrets"] == []
    human = cli.ok("client", "show", "--tenant", "acme", created["client_id"])
    assert created["client_id"] in human
    assertion = pair.sign(created["client_id"], BASE + TOKEN_PATH)
    response = client.post(TOKEN_PATH, data=assertion_form(assertion))
    assert response.status_code == 200, response.text


def test_create_with_a_bad_jwks_file_fails_and_stores_nothing(
    cli: Cli, acme: str, tmp_path: Path, settings: Settings
) -> None:
    private = tmp_path / "private.json"
    private.write_text(json.dumps({"keys": [key_pair("ES256").private_jwk()]}))
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    before = dump_tables(settings.database_url)

    for path in (private, broken, tmp_path / "missing.json"):
        message = cli.fails(
            "client", "create", "--tenant", "acme", "--name", "Signed", "--jwks-file", str(path)
        )
        assert "jwks" in message.lower() or "JWKS" in message

    assert dump_tables(settings.database_url) == before


def test_create_with_a_jwks_uri_and_replace_keys_with_update(
    cli: Cli, acme: str, tmp_path: Path, settings: Settings
) -> None:
    created = cli.json(
        "client", "create", "--tenant", "acme", "--name", "Published",
        "--jwks-uri", "https://keys.example.com/jwks.json",
    )  # fmt: skip
    assert (created["client_secret"], created["jwks_uri"]) == (
        None,
        "https://keys.example.com/jwks.json",
    )
    assert "https://keys.example.com/jwks.json" in cli.ok(
        "client", "create", "--tenant", "acme", "--name", "Shown",
        "--jwks-uri", "https://keys.example.com/jwks.json",
    )  # fmt: skip

    pair = key_pair("ES256")
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps(pair.jwks()))
    updated = cli.json(
        "client", "update", created["client_id"], "--tenant", "acme", "--jwks-file", str(path)
    )
    assert (updated["jwks"], updated["jwks_uri"]) == (pair.jwks(), None)


def test_a_jwks_uri_the_rules_refuse_fails_and_stores_nothing(
    cli: Cli, acme: str, settings: Settings
) -> None:
    secret_client = cli.json("client", "create", "--tenant", "acme", "--name", "Secret")
    before = dump_tables(settings.database_url)

    for url in ("http://keys.example.com/jwks", "https://192.168.1.5/jwks"):
        message = cli.fails(
            "client", "create", "--tenant", "acme", "--name", "Bad", "--jwks-uri", url
        )
        assert "url must" in message
    message = cli.fails(
        "client", "update", secret_client["client_id"], "--tenant", "acme",
        "--jwks-uri", "https://keys.example.com/jwks",
    )  # fmt: skip
    assert "secret" in message

    assert dump_tables(settings.database_url) == before


def test_a_bad_setting_stops_no_command_at_import() -> None:
    """The CLI's client commands read the key-URL rules when they run: importing them under
    settings production refuses (no secret key) must not fail every command with a traceback."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GATEPASS_")}
    env["GATEPASS_ENV"] = "production"
    imported = subprocess.run(
        [sys.executable, "-c", "import gatepass.cli.clients"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert imported.returncode == 0, imported.stderr
