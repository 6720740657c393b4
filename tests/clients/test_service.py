"""The OAuth client service on a migrated database: each outcome of create, rotate, revoke and
delete, its audit event and the change it publishes for every process's cache."""

from __future__ import annotations

from datetime import timedelta

import pytest

from gatepass import credential_secrets as cs
from gatepass.changes import feed
from gatepass.clients import service as clients
from gatepass.clients.kind import CLIENT
from gatepass.credentials import lifecycle
from gatepass.db import utcnow
from gatepass.errors import ConflictError, InvalidInputError
from tests.credentials.support import actions, changes_after, in_acme, newest_change
from tests.factories import ACTOR, Factory


def create(factory: Factory, spec: clients.NewClient) -> tuple[str, cs.Plaintext]:
    with in_acme(factory) as (session, tenant):
        client, secret = clients.create_client(
            session, tenant, spec, actor=ACTOR, hasher=factory.hasher
        )
        return client.client_id, secret


def test_create_stores_only_the_secret_s_digest_audits_and_publishes(acme: Factory) -> None:
    before = newest_change(acme)
    client_id, secret = create(acme, clients.NewClient(name="Billing", scopes=["nql"]))
    with in_acme(acme) as (session, tenant):
        client = lifecycle.get(session, tenant, CLIENT, client_id)
        assert client.name == "Billing"
        assert [p.name for p in client.permissions] == ["nql"]
        assert [s.digest for s in client.secrets] == [acme.hasher.digest(secret)]
        assert lifecycle.status_of(CLIENT, client) == "active"
    assert client_id.startswith("gp-")
    assert actions(acme, client_id) == ["client.create"]
    assert changes_after(acme, before) == [(feed.KIND_CLIENT, client_id)]


def test_a_client_id_taken_in_the_tenant_is_a_conflict(acme: Factory) -> None:
    create(acme, clients.NewClient(name="One", client_id="billing"))
    with pytest.raises(ConflictError):
        create(acme, clients.NewClient(name="Two", client_id="billing"))


@pytest.mark.parametrize(
    "spec",
    [
        clients.NewClient(name="Colon", client_id="bad:id"),
        clients.NewClient(name="Short", client_id="ab"),
        clients.NewClient(name="Secret-shaped", client_id="gpcs_lookslikeasecret"),
        clients.NewClient(name="Past", expires_at=utcnow() - timedelta(minutes=1)),
        clients.NewClient(name="Lifetime", token_lifetime=1),
    ],
    ids=["colon", "short", "secret-shaped", "expired", "lifetime"],
)
def test_invalid_specs_make_nothing(acme: Factory, spec: clients.NewClient) -> None:
    with pytest.raises(InvalidInputError):
        create(acme, spec)
    with in_acme(acme) as (session, tenant):
        assert lifecycle.list_all(session, tenant, CLIENT) == []
