"""Regenerating, revoking and revoking all keys: each takes effect at the verify endpoint as soon
as the app's cache has seen the change (polled here, never timed)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Connection, event
from starlette.testclient import TestClient

from gatepass.apikeys.kind import API_KEY
from gatepass.credentials import revoking
from gatepass.errors import InvalidInputError
from tests.apikeys.support import (
    code_is,
    create_key,
    regenerate,
    revoke,
    stored_key,
    verifier,
    verify,
    verify_until,
)
from tests.factories import ACTOR, Factory
from tests.http.support import drain_changes, poll, tenant_session


def test_regenerate_keeps_the_key_and_replaces_its_secret(
    factory: Factory, client: TestClient
) -> None:
    factory.tenant()
    old = create_key(factory, name="ci", scopes=("nql",), groups=("emea",))
    caller = verifier(factory)
    before = verify(client, caller, old.secret)

    new = regenerate(factory, old)

    assert new.key_id == old.key_id
    assert new.secret != old.secret
    assert new.secret.startswith("gpk_")
    assert verify_until(client, caller, old.secret, code_is("REVOKED"))["code"] == "REVOKED"
    assert verify(client, caller, new.secret) == before
    stored = stored_key(factory, new)
    assert stored.status == "active"
    assert len(stored.secrets) == 2


def test_regenerate_with_grace_keeps_the_old_secret_until_the_grace_ends(
    factory: Factory, client: TestClient
) -> None:
    factory.tenant()
    old = create_key(factory)
    caller = verifier(factory)
    assert verify(client, caller, old.secret)["code"] == "VALID"

    new = regenerate(factory, old, grace=timedelta(seconds=5))
    drain_changes(factory, client, "acme")  # the old secret's answer now comes from storage

    assert verify(client, caller, old.secret)["code"] == "VALID"
    assert verify(client, caller, new.secret)["code"] == "VALID"
    # the grace ends 5 s after the regeneration; a loaded machine may see it late
    ended = verify_until(client, caller, old.secret, code_is("REVOKED"), timeout=30.0)
    assert ended == {"valid": False, "code": "REVOKED"}
    assert verify(client, caller, new.secret)["code"] == "VALID"


def test_regenerate_without_grace_after_a_grace_ends_every_old_secret(
    factory: Factory, client: TestClient
) -> None:
    factory.tenant()
    first = create_key(factory)
    caller = verifier(factory)
    second = regenerate(factory, first, grace=timedelta(hours=1))
    assert verify(client, caller, first.secret)["code"] == "VALID"
    assert verify(client, caller, second.secret)["code"] == "VALID"

    third = regenerate(factory, second)

    for old in (first, second):
        assert verify_until(client, caller, old.secret, code_is("REVOKED"))["code"] == "REVOKED"
    assert verify(client, caller, third.secret)["code"] == "VALID"


def test_regenerate_refuses_a_revoked_key_and_a_bad_grace(factory: Factory) -> None:
    factory.tenant()
    key = create_key(factory)
    for grace in (timedelta(seconds=-1), timedelta(days=31)):
        with pytest.raises(InvalidInputError, match="grace"):
            regenerate(factory, key, grace=grace)
    revoke(factory, key)
    with pytest.raises(InvalidInputError, match="revoked"):
        regenerate(factory, key)
    assert len(stored_key(factory, key).secrets) == 1


def test_revoke_all_revokes_every_key_of_the_tenant_only(
    factory: Factory, client: TestClient
) -> None:
    factory.tenant("acme")
    factory.tenant("globex")
    mine = [create_key(factory, name=f"key {n}") for n in range(3)]
    theirs = create_key(factory, "globex")
    caller = verifier(factory)
    for key in mine:
        assert verify(client, caller, key.secret)["code"] == "VALID"

    with tenant_session(factory, "acme") as (session, tenant):
        assert revoking.revoke_all(session, tenant, API_KEY, actor=ACTOR) == 3

    for key in mine:
        assert verify_until(client, caller, key.secret, code_is("REVOKED"))["code"] == "REVOKED"
    assert verify(client, verifier(factory, "globex"), theirs.secret)["code"] == "VALID"


def test_revocation_racing_the_first_verification_still_takes_effect(
    factory: Factory, client: TestClient
) -> None:
    """The key is revoked, and the app's cache applies the change, while the app is loading the
    key for its first verification; the loaded (stale) answer must not stay cached."""
    factory.tenant()
    key, probe = create_key(factory, name="raced"), create_key(factory, name="probe")
    caller = verifier(factory)
    drain_changes(factory, client, "acme")  # no earlier change can drop the probe's entry now
    assert verify(client, caller, probe.secret)["code"] == "VALID"  # now cached
    services: Any = client.app.services  # type: ignore[attr-defined]
    tenant_id = stored_key(factory, probe).tenant_id
    probe_digest = services.hasher.digest(probe.secret)
    applied: list[Any] = []  # what the cache held for the probe once the changes were applied

    def revoke_during_load(conn: Connection, _c: Any, statement: str, *_: Any) -> None:
        if applied or "FROM api_keys" not in statement:
            return
        # The key's row (and so its status) has just been read: revoke it now, then wait until
        # the cache thread has applied that change (the probe, revoked after it, is dropped).
        applied.append(None)
        revoke(factory, key)
        revoke(factory, probe)
        applied[0] = poll(
            lambda: services.cache.cached_api_key(tenant_id, probe_digest),
            lambda cached: cached == (False, None),
        )

    engine = services.db.engine
    event.listen(engine, "after_cursor_execute", revoke_during_load)
    try:
        verify(client, caller, key.secret)  # VALID or REVOKED: it raced the revocation
    finally:
        event.remove(engine, "after_cursor_execute", revoke_during_load)
    assert applied == [(False, None)]

    answer = verify_until(client, caller, key.secret, code_is("REVOKED"))
    assert answer == {"valid": False, "code": "REVOKED"}
