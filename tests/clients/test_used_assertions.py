"""The used-assertion ledger in the database (``private_key_jwt`` without Redis): a ``jti`` is
taken once per client, and expired ones are forgotten now and then with an insert (at most every
``PURGE_EVERY`` seconds per process, whatever the client) and by the job."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from gatepass.clients import keys
from gatepass.clients.keys import purge_used_assertions, remember_assertion
from gatepass.clients.models import OAuthClient, UsedAssertion
from gatepass.db import utcnow
from gatepass.jobs.runner import JobContext
from gatepass.settings import Settings
from tests.factories import Factory
from tests.keypairs import key_pair


def client_pks(factory: Factory, count: int) -> list[int]:
    ids = [factory.client(jwks=key_pair("ES256").jwks()).client_id for _ in range(count)]
    with factory.db.read() as session:
        rows = session.scalars(select(OAuthClient).where(OAuthClient.client_id.in_(ids)))
        return sorted(row.id for row in rows)


def stored(factory: Factory) -> list[tuple[int, str]]:
    with factory.db.read() as session:
        rows = session.scalars(select(UsedAssertion).order_by(UsedAssertion.id))
        return [(row.client_pk, row.jti) for row in rows]


def test_a_jti_is_taken_once_per_client(acme: Factory) -> None:
    first, second = client_pks(acme, 2)
    later = utcnow() + timedelta(minutes=5)

    assert remember_assertion(acme.db, first, "j1", later)
    assert not remember_assertion(acme.db, first, "j1", later)
    assert remember_assertion(acme.db, second, "j1", later)  # another client's is its own

    assert stored(acme) == [(first, "j1"), (second, "j1")]


def test_expired_ones_are_forgotten_now_and_then(
    acme: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = client_pks(acme, 2)
    past, later = utcnow() - timedelta(seconds=1), utcnow() + timedelta(minutes=5)
    for pk in (first, second):
        assert remember_assertion(acme.db, pk, "old", past)
    assert remember_assertion(acme.db, first, "kept", later)
    assert len(stored(acme)) == 3  # purged just now: not again so soon

    monkeypatch.setattr(keys, "_last_purge", [float("-inf")])  # PURGE_EVERY has passed
    assert remember_assertion(acme.db, second, "new", later)

    assert stored(acme) == [(first, "kept"), (second, "new")]  # every client's expired rows


def test_the_job_forgets_expired_ones(acme: Factory, settings: Settings) -> None:
    first, second = client_pks(acme, 2)
    past, later = utcnow() - timedelta(seconds=1), utcnow() + timedelta(minutes=5)
    assert remember_assertion(acme.db, first, "new", later)
    for pk in (first, second):
        assert remember_assertion(acme.db, pk, "old", past)

    ctx = JobContext(db=acme.db, settings=settings, now=utcnow())
    assert purge_used_assertions(ctx) == 2
    assert purge_used_assertions(ctx) == 0
    assert stored(acme) == [(first, "new")]
