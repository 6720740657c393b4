"""What is stored about keys: a keyed hash found through a unique index, the last use, and never
the key itself (neither in the key tables nor in the audit log)."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import create_engine, inspect
from starlette.testclient import TestClient

from gatepass.apikeys.service import RateLimit
from tests.apikeys.support import (
    create_key,
    create_user,
    regenerate,
    revoke,
    stored_key,
    verifier,
    verify,
)
from tests.cli.harness import dump_tables, row_texts
from tests.factories import Factory
from tests.http.support import poll


def test_last_used_at_is_set_after_a_verification(factory: Factory, client: TestClient) -> None:
    factory.tenant()
    used, refused = create_key(factory, name="used"), create_key(factory, name="refused")
    revoke(factory, refused)
    caller = verifier(factory)
    assert stored_key(factory, used).last_used_at is None
    before = datetime.now(UTC)

    assert verify(client, caller, used.secret)["code"] == "VALID"
    assert verify(client, caller, refused.secret)["code"] == "REVOKED"
    client.app.services.cache.flush_uses()  # type: ignore[attr-defined]

    stored = poll(lambda: stored_key(factory, used), lambda k: k.last_used_at is not None)
    assert stored.last_used_at is not None
    assert before - timedelta(seconds=1) <= stored.last_used_at <= datetime.now(UTC)
    [secret] = stored.secrets
    assert secret.last_used_at == stored.last_used_at
    assert stored_key(factory, refused).last_used_at is None  # a refusal is not a use


def test_digest_column_has_a_unique_index(factory: Factory) -> None:
    """Keys are found by one indexed lookup of their keyed hash, never by a scan."""
    engine = create_engine(factory.settings.effective_database_url)
    try:
        inspector = inspect(engine)
        constraints = inspector.get_unique_constraints("api_key_secrets")
        indexes = inspector.get_indexes("api_key_secrets")
    finally:
        engine.dispose()
    unique: list[list[str | None]] = [list(c["column_names"]) for c in constraints]
    unique += [list(i["column_names"]) for i in indexes if i["unique"]]
    assert ["digest"] in unique


def needles(keys: dict[str, str]) -> dict[str, bytes]:
    """What must not appear: each key, its body without prefix and checksum, unkeyed hashes."""
    found: dict[str, bytes] = {}
    for label, key in keys.items():
        found[label] = key.encode()
        found[f"{label} body"] = key[4:-6].encode()
        digest = hashlib.sha256(key.encode())
        found[f"{label} sha256"] = digest.digest()
        found[f"{label} sha256 hex"] = digest.hexdigest().encode()
    return found


def haystacks(database_url: str) -> dict[str, bytes]:
    stacks: dict[str, bytes] = {}
    for table, rows in dump_tables(database_url).items():
        for number, row in enumerate(rows):
            for column, value in enumerate(row):
                raw = bytes(value) if isinstance(value, bytes | memoryview) else b""
                text = json.dumps(value, default=str) + str(value)
                stacks[f"{table} row {number} column {column}"] = raw + text.encode()
    for number, text in enumerate(row_texts(database_url)):
        stacks[f"PostgreSQL row text {number}"] = text.encode()
    return stacks


def test_keys_are_never_stored_in_plain_text(factory: Factory, client: TestClient) -> None:
    factory.tenant()
    owner = create_user(factory, "dev@acme.example", "admin")
    caller = verifier(factory)
    service = create_key(factory, scopes=("nql",), rate_limit=RateLimit(limit=5, period=60))
    personal = create_key(factory, name="mine", owner=owner, scopes=("workflows",))
    replaced = create_key(factory, name="rotated")
    graced = regenerate(factory, replaced, grace=timedelta(hours=1))
    current = regenerate(factory, graced)
    keys = {
        "service": service.secret,
        "personal": personal.secret,
        "replaced": replaced.secret,
        "graced": graced.secret,
        "current": current.secret,
    }
    for key in keys.values():
        verify(client, caller, key)
    client.app.services.cache.flush_uses()  # type: ignore[attr-defined]
    url = factory.settings.effective_database_url

    stacks = haystacks(url)
    leaks = [
        f"{needle} in {where}"
        for needle, value in needles(keys).items()
        for where, stack in stacks.items()
        if value in stack
    ]
    assert leaks == []
    # What is stored is the keyed hash of each key, with a hint of its last four characters.
    stored: list[Any] = dump_tables(url)["api_key_secrets"]
    digests = {bytes(v) for row in stored for v in row if isinstance(v, bytes | memoryview)}
    assert {factory.hasher.digest(k) for k in keys.values()} <= digests
    hints = {v for row in stored for v in row if isinstance(v, str) and v.startswith("gpk_")}
    assert hints == {f"gpk_…{k[-4:]}" for k in keys.values()}


def test_audit_events_record_key_changes_without_the_key(
    factory: Factory, client: TestClient
) -> None:
    factory.tenant()
    caller = verifier(factory)
    created = create_key(factory, scopes=("nql",))
    regenerated = regenerate(factory, created, grace=timedelta(minutes=5))
    verify(client, caller, regenerated.secret)
    revoke(factory, regenerated)

    events = dump_tables(factory.settings.effective_database_url)["audit_events"]

    text = json.dumps(events, default=str)
    for key in (created.secret, regenerated.secret):
        assert key not in text
        assert key[4:-6] not in text
    actions = [v for row in events for v in row if isinstance(v, str) and v.startswith("apikey.")]
    assert sorted(actions) == ["apikey.create", "apikey.regenerate", "apikey.revoke"]
    assert text.count(created.key_id) >= 3
