"""Where GitHub's public keys come from: the setting itself, a file, or a URL (a local server)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from gatepass.app import create_app
from gatepass.leaks.github import KeysError, PublicKeys
from gatepass.settings import Settings
from tests.api.support import assert_problem
from tests.apikeys.support import create_key, stored_key
from tests.cli.harness import Cli
from tests.factories import Factory
from tests.leaks.support import GitHubSigner, app_client, keys_document, labels, post_github, report


class KeyServer:
    """GitHub's public keys endpoint, served locally; counts the fetches."""

    def __init__(self, document: str) -> None:
        self.document, self.fetches = document, 0
        served = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                served.fetches += 1
                body = served.document.encode()
                self.send_response(200 if served.document else 503)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = (
            f"http://127.0.0.1:{self.server.server_address[1]}/meta/public_keys/secret_scanning"
        )
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )


@pytest.fixture
def key_server() -> Iterator[KeyServer]:
    served = KeyServer("")
    served.thread.start()
    yield served
    served.server.shutdown()
    served.server.server_close()


def test_keys_in_a_file_are_read(settings: Settings, acme: Factory, tmp_path: Path) -> None:
    github = GitHubSigner("from-file")
    path = tmp_path / "secret_scanning.json"
    path.write_text(keys_document(github))
    key = create_key(acme)

    with app_client(settings, github_scanning_keys=str(path)) as http:
        assert labels(post_github(http, github, report(key.secret))) == ["true_positive"]


def test_keys_fetched_from_a_url_are_kept_and_used(
    settings: Settings, acme: Factory, key_server: KeyServer
) -> None:
    github = GitHubSigner("fetched")
    key_server.document = keys_document(github)
    key = create_key(acme)

    with app_client(settings, github_scanning_keys_url=key_server.url) as http:
        assert labels(post_github(http, github, report(key.secret))) == ["true_positive"]
        assert labels(post_github(http, github, report(key.secret))) == ["true_positive"]

    assert key_server.fetches == 1
    assert stored_key(acme, key).status == "revoked"


def test_a_failing_url_refuses_its_keys_but_configured_keys_still_work(
    settings: Settings, acme: Factory, key_server: KeyServer
) -> None:
    fixed, fetched = GitHubSigner("fixed"), GitHubSigner("fetched")
    key = create_key(acme)
    changes = {
        "github_scanning_keys": keys_document(fixed),
        "github_scanning_keys_url": key_server.url,
    }

    with app_client(settings, **changes) as http:
        assert_problem(post_github(http, fetched, report(key.secret)), 401, "invalid_signature")
        assert stored_key(acme, key).status == "active"
        assert labels(post_github(http, fixed, report(key.secret))) == ["true_positive"]


def pem(key: ec.EllipticCurvePublicKey | rsa.RSAPublicKey) -> str:
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


@pytest.mark.parametrize(
    "document",
    [
        "{}",
        '{"public_keys": [{"key_identifier": "k"}]}',
        '{"public_keys": [{"key_identifier": "k", "key": "not a key"}]}',
        '{"public_keys": [{"key_identifier": "k", "key": 5}]}',
        "{not json",
        "no such file",
    ],
)
def test_a_setting_that_is_not_github_s_keys_stops_the_server_from_starting(
    settings: Settings, document: str
) -> None:
    with pytest.raises(KeysError):
        create_app(settings.model_copy(update={"github_scanning_keys": document}))


@pytest.mark.parametrize(
    "key",
    [
        ec.generate_private_key(ec.SECP384R1()).public_key(),
        rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key(),
    ],
)
def test_only_p256_keys_are_taken(key: ec.EllipticCurvePublicKey | rsa.RSAPublicKey) -> None:
    document = json.dumps({"public_keys": [{"key_identifier": "k", "key": pem(key)}]})
    with pytest.raises(KeysError):
        PublicKeys.parse(document)


def test_serve_refuses_to_start_with_keys_that_are_not_github_s(settings: Settings) -> None:
    on = Cli.on(settings)
    cli = Cli({**on.env, "GATEPASS_GITHUB_SCANNING_KEYS": '{"public_keys": 5}'})

    assert "GATEPASS_GITHUB_SCANNING_KEYS: not GitHub's public keys" in cli.fails("serve")
