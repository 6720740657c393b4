"""Made-up, well-formed API keys are NOT_FOUND without a lookup of the secret's digest."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine
from starlette.testclient import TestClient

from gatepass import credential_secrets as cs
from gatepass.cache.store import FLOOD_MISSES, FLOOD_REFRESH
from tests.apikeys.support import (
    code_is,
    create_key,
    regenerate,
    revoke,
    verifier,
    verify,
    verify_until,
)
from tests.factories import Credential, Factory


@pytest.fixture
def statements() -> Iterator[list[str]]:
    """Every SQL statement any engine runs while the test runs."""
    seen: list[str] = []

    def record(*args: Any) -> None:
        seen.append(str(args[2]))

    event.listen(Engine, "before_cursor_execute", record)
    yield seen
    event.remove(Engine, "before_cursor_execute", record)


def digest_lookups(statements: list[str]) -> int:
    return sum("api_key_secrets" in s for s in statements)


def feed_reads(statements: list[str]) -> int:
    return sum("FROM changes" in s for s in statements)


def made_up() -> str:
    return cs.generate(cs.SecretKind.API_KEY).reveal()


def flood(client: TestClient, caller: Credential, count: int) -> None:
    for _ in range(count):
        assert verify(client, caller, made_up())["code"] == "NOT_FOUND"


def test_made_up_keys_query_no_secret(
    factory: Factory, client: TestClient, statements: list[str]
) -> None:
    factory.tenant()
    create_key(factory)
    caller = verifier(factory)
    assert verify(client, caller, cs.generate(cs.SecretKind.API_KEY).reveal())["code"]
    statements.clear()

    for _ in range(20):
        key = cs.generate(cs.SecretKind.API_KEY).reveal()
        assert verify(client, caller, key)["code"] == "NOT_FOUND"

    assert digest_lookups(statements) == 0


def test_a_key_created_elsewhere_after_start_up_verifies_at_once(
    factory: Factory, client: TestClient
) -> None:
    factory.tenant()
    caller = verifier(factory)
    assert verify(client, caller, cs.generate(cs.SecretKind.API_KEY).reveal())

    key = create_key(factory)  # another Database: no notice reaches the app

    assert verify(client, caller, key.secret)["code"] == "VALID"


def test_a_regenerated_secret_verifies_at_once(factory: Factory, client: TestClient) -> None:
    factory.tenant()
    caller = verifier(factory)
    key = create_key(factory)
    assert verify(client, caller, key.secret)["code"] == "VALID"

    replaced = regenerate(factory, key)

    assert verify(client, caller, replaced.secret)["code"] == "VALID"


def test_a_revoked_key_is_still_refused(factory: Factory, client: TestClient) -> None:
    factory.tenant()
    caller = verifier(factory)
    key = create_key(factory)
    assert verify(client, caller, key.secret)["code"] == "VALID"

    revoke(factory, key)

    assert verify_until(client, caller, key.secret, code_is("REVOKED"))["code"] == "REVOKED"


def test_a_flood_of_made_up_keys_reads_the_feed_a_few_times_a_second(
    factory: Factory, client: TestClient, statements: list[str]
) -> None:
    factory.tenant()
    create_key(factory)
    caller = verifier(factory)
    flood(client, caller, FLOOD_MISSES)  # below FLOOD_MISSES a second, each waits for a read
    statements.clear()

    started = time.monotonic()
    flood(client, caller, 300)
    elapsed = time.monotonic() - started

    # reads started for the flood, plus the background poll (every 0.05 s in the tests)
    assert feed_reads(statements) <= elapsed / FLOOD_REFRESH + elapsed / 0.05 + 3
    assert digest_lookups(statements) == 0


def test_a_key_created_elsewhere_during_a_flood_verifies_within_moments(
    factory: Factory, client: TestClient
) -> None:
    factory.tenant()
    caller = verifier(factory)
    flood(client, caller, FLOOD_MISSES)

    key = create_key(factory)  # another Database: no notice reaches the app
    answers = []
    deadline = time.monotonic() + 3.0
    while time.monotonic() < deadline and "VALID" not in answers:
        flood(client, caller, 5)
        answers.append(verify(client, caller, key.secret)["code"])

    assert answers[-1] == "VALID"
    assert set(answers) <= {"NOT_FOUND", "VALID"}
