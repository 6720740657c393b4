"""The API key service on a migrated database: each outcome of create, regenerate, revoke and
delete, its audit event and the change it publishes for every process's cache."""

from __future__ import annotations

from datetime import timedelta

import pytest

from gatepass import credential_secrets as cs
from gatepass.apikeys import service as apikeys
from gatepass.apikeys.kind import API_KEY
from gatepass.audit.service import Actor
from gatepass.changes import feed
from gatepass.credentials import lifecycle
from gatepass.db import utcnow
from gatepass.errors import ForbiddenError, InvalidInputError
from tests.credentials.support import actions, changes_after, in_acme, newest_change
from tests.factories import ACTOR, Factory


def create(factory: Factory, spec: apikeys.NewApiKey) -> tuple[str, cs.Plaintext]:
    with in_acme(factory) as (session, tenant):
        key, secret = apikeys.create_key(session, tenant, spec, actor=ACTOR, hasher=factory.hasher)
        return key.key_id, secret


def test_create_stores_only_the_secret_s_digest_audits_and_publishes(acme: Factory) -> None:
    before = newest_change(acme)
    spec = apikeys.NewApiKey(name="Scanner", rate_limit=apikeys.RateLimit(limit=600, period=60))
    key_id, secret = create(acme, spec)
    with in_acme(acme) as (session, tenant):
        key = lifecycle.get(session, tenant, API_KEY, key_id)
        assert (key.name, key.rate_limit, key.rate_period) == ("Scanner", 600, 60)
        assert [s.digest for s in key.secrets] == [acme.hasher.digest(secret)]
        assert lifecycle.status_of(API_KEY, key) == "active"
    assert key_id.startswith("ak_")
    assert actions(acme, key_id) == ["apikey.create"]
    assert changes_after(acme, before) == [(feed.KIND_APIKEY, key_id)]


def test_a_past_expiry_makes_nothing(acme: Factory) -> None:
    with pytest.raises(InvalidInputError):
        create(acme, apikeys.NewApiKey(name="Late", expires_at=utcnow() - timedelta(seconds=1)))
    with in_acme(acme) as (session, tenant):
        assert lifecycle.list_all(session, tenant, API_KEY) == []


@pytest.mark.parametrize(
    "actor",
    [ACTOR, Actor(kind="user", id="ada@example.com", role="viewer")],
    ids=["operator", "owner"],
)
def test_the_operator_and_the_owner_act_for_a_personal_key(actor: Actor) -> None:
    apikeys.check_owner_acts(actor, " Ada@Example.com ", refusal="refused")


@pytest.mark.parametrize(
    "actor",
    [
        Actor(kind="user", id="bob@example.com", role="admin"),
        Actor(kind="client", id="ada@example.com", role="admin"),
    ],
    ids=["another user", "a client"],
)
def test_no_one_else_acts_for_a_personal_key(actor: Actor) -> None:
    with pytest.raises(ForbiddenError, match=r"^refused$"):
        apikeys.check_owner_acts(actor, "ada@example.com", refusal="refused")
