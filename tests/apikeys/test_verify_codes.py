"""One test per verify code: VALID, NOT_FOUND, REVOKED, SUSPENDED, EXPIRED, DISABLED,
RATE_LIMITED."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

from starlette.testclient import TestClient

from gatepass import credential_secrets as cs
from gatepass.apikeys.kind import API_KEY
from gatepass.apikeys.service import RateLimit
from gatepass.credentials import lifecycle
from tests.apikeys.support import (
    Key,
    code_is,
    create_key,
    create_user,
    delete,
    in_one_window,
    regenerate,
    revoke,
    set_active,
    verifier,
    verify,
    verify_until,
)
from tests.factories import ACTOR, Factory
from tests.http.support import drain_changes, tenant_session

REFUSED = {"valid": False, "code": "NOT_FOUND"}


def test_valid_personal_key_answers_who_and_what(factory: Factory, client: TestClient) -> None:
    factory.tenant()
    owner = create_user(factory, "Dev@Acme.Example", "admin")
    key = create_key(
        factory,
        name="deploy bot",
        scopes=("workflows", "nql"),
        groups=("emea",),
        owner=owner,
        rate_limit=RateLimit(limit=10, period=60),
    )
    before = time.time()

    answer = verify(client, verifier(factory), key.secret)

    assert answer["valid"] is True
    assert answer["code"] == "VALID"
    assert answer["key_id"] == key.key_id
    assert answer["name"] == "deploy bot"
    assert sorted(answer["scopes"]) == ["nql", "workflows"]
    assert answer["groups"] == ["emea"]
    assert answer["kind"] == "personal"
    assert answer["owner"] == {"email": "dev@acme.example"}
    assert answer["expires_at"] is None
    rate = answer["rate_limit"]
    assert (rate["limit"], rate["remaining"]) == (10, 9)
    assert before < rate["reset"] <= before + 61
    assert key.secret not in str(answer)


def test_valid_service_key_has_no_owner_and_no_rate_limit(
    factory: Factory, client: TestClient
) -> None:
    factory.tenant()
    expires = datetime.now(UTC) + timedelta(days=30)
    key = create_key(factory, name="nightly export", scopes=("campaigns",), expires_at=expires)

    answer = verify(client, verifier(factory), key.secret)

    assert answer == {
        "valid": True,
        "code": "VALID",
        "key_id": key.key_id,
        "name": "nightly export",
        "kind": "service",
        "owner": None,
        "scopes": ["campaigns"],
        "groups": [],
        "expires_at": int(expires.timestamp()),
        "allowed_ips": [],
        "rate_limit": None,
    }


def test_not_found(factory: Factory, client: TestClient) -> None:
    factory.tenant("acme")
    factory.tenant("globex")
    real = create_key(factory, scopes=("nql",))
    deleted = create_key(factory, name="deleted")
    theirs = create_key(factory, "globex")
    caller = verifier(factory)
    flipped = "A" if real.secret[-1] != "A" else "B"
    candidates = {
        "unknown well-formed key": cs.generate(cs.SecretKind.API_KEY).reveal(),
        "malformed key": "gpk_not-a-key",
        "bad checksum": real.secret[:-1] + flipped,
        "oversized key": real.secret + "0" * 300,
        "empty key": "",
        "key of another tenant": theirs.secret,
        "oauth client secret": factory.client(name="sync").secret,
    }
    assert verify(client, caller, deleted.secret)["code"] == "VALID"
    assert verify(client, verifier(factory, "globex"), theirs.secret)["code"] == "VALID"

    delete(factory, deleted)

    answers = {label: verify(client, caller, key) for label, key in candidates.items()}
    answers["deleted key"] = verify_until(client, caller, deleted.secret, code_is("NOT_FOUND"))
    assert answers == dict.fromkeys([*candidates, "deleted key"], REFUSED)
    # The tenant's real key still works: each refusal is about the candidate alone.
    assert verify(client, caller, real.secret)["code"] == "VALID"


def test_revoked(factory: Factory, client: TestClient) -> None:
    factory.tenant()
    revoked = create_key(factory, scopes=("nql",))
    replaced = create_key(factory, name="replaced")
    caller = verifier(factory)
    for key in (revoked, replaced):
        assert verify(client, caller, key.secret)["code"] == "VALID"

    revoke(factory, revoked)
    regenerated = regenerate(factory, replaced)

    for key in (revoked, replaced):
        answer = verify_until(client, caller, key.secret, code_is("REVOKED"))
        assert answer == {"valid": False, "code": "REVOKED"}
    assert verify(client, caller, regenerated.secret)["code"] == "VALID"
    drain_changes(factory, client, "acme")  # answers from storage, not from the cache
    assert verify(client, caller, revoked.secret)["code"] == "REVOKED"
    assert verify(client, caller, replaced.secret)["code"] == "REVOKED"


def test_suspended(factory: Factory, client: TestClient) -> None:
    factory.tenant()
    key = create_key(factory, scopes=("nql",))
    caller = verifier(factory)
    assert verify(client, caller, key.secret)["code"] == "VALID"

    with tenant_session(factory, "acme") as (session, tenant):
        lifecycle.suspend(session, tenant, API_KEY, key.key_id, actor=ACTOR)

    answer = verify_until(client, caller, key.secret, code_is("SUSPENDED"))
    assert answer == {"valid": False, "code": "SUSPENDED"}
    drain_changes(factory, client, "acme")  # answers from storage, not from the cache
    assert verify(client, caller, key.secret)["code"] == "SUSPENDED"


def test_key_past_its_expiry_is_expired(factory: Factory, client: TestClient) -> None:
    factory.tenant()
    # Long enough for a busy machine to make the verifier and verify once before it passes.
    expires = datetime.now(UTC) + timedelta(seconds=4)
    key = create_key(factory, expires_at=expires)
    caller = verifier(factory)
    first = verify(client, caller, key.secret)
    assert first["code"] == "VALID"
    assert first["expires_at"] == int(expires.timestamp())

    answer = verify_until(client, caller, key.secret, code_is("EXPIRED"), timeout=8.0)

    assert answer == {"valid": False, "code": "EXPIRED"}
    assert time.time() >= expires.timestamp()


def test_personal_key_of_a_disabled_owner_is_disabled_until_enabled(
    factory: Factory, client: TestClient
) -> None:
    factory.tenant()
    owner = create_user(factory, "dev@acme.example", "credentials_manager")
    key = create_key(factory, owner=owner, scopes=("nql",))
    service_key = create_key(factory, name="service")
    caller = verifier(factory)
    assert verify(client, caller, key.secret)["code"] == "VALID"

    set_active(factory, owner, active=False)

    answer = verify_until(client, caller, key.secret, code_is("DISABLED"))
    assert answer == {"valid": False, "code": "DISABLED"}
    assert verify(client, caller, service_key.secret)["code"] == "VALID"

    set_active(factory, owner, active=True)

    answer = verify_until(client, caller, key.secret, code_is("VALID"))
    assert answer["code"] == "VALID"
    assert answer["scopes"] == ["nql"]


def test_third_call_within_a_limit_of_two_is_rate_limited(
    factory: Factory, client: TestClient
) -> None:
    factory.tenant()
    caller = verifier(factory)
    keys: list[Key] = []

    def three_calls() -> list[Any]:
        keys.append(create_key(factory, rate_limit=RateLimit(limit=2, period=60)))
        return [verify(client, caller, keys[-1].secret) for _ in range(3)]

    answers = in_one_window(three_calls)

    codes = [(a["code"], a["valid"], a["rate_limit"]["remaining"]) for a in answers]
    assert codes == [("VALID", True, 1), ("VALID", True, 0), ("RATE_LIMITED", False, 0)]
    limited = answers[2]
    assert limited["key_id"] == keys[-1].key_id
    assert limited["rate_limit"]["limit"] == 2
