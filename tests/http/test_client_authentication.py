"""Client authentication: one answer for every failure, secret rotation, last-used times."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial

import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from gatepass import credential_secrets as cs
from gatepass.clients.models import ClientSecret, OAuthClient
from gatepass.db import utcnow
from gatepass.oauth.context import AUTH_FAILED
from tests.factories import Credential, Factory
from tests.http.support import (
    delete,
    poll,
    request_token,
    request_token_by_post,
    revoke,
    rotate,
    status_is,
)

Setup = Callable[[Factory, TestClient], Credential]


def wrong_secret(factory: Factory, client: TestClient) -> Credential:
    cred = factory.client()
    return Credential("acme", cred.client_id, cs.generate(cs.SecretKind.CLIENT_SECRET).reveal())


def unknown_client(factory: Factory, client: TestClient) -> Credential:
    cred = factory.client()
    return Credential("acme", "no-such-client", cred.secret)


def malformed_secret(factory: Factory, client: TestClient) -> Credential:
    cred = factory.client()
    last = "A" if cred.secret[-1] != "A" else "B"
    return Credential("acme", cred.client_id, cred.secret[:-1] + last)


def revoked_client(factory: Factory, client: TestClient) -> Credential:
    cred = factory.client()
    assert request_token(client, cred).status_code == 200
    revoke(factory, cred)
    return cred


def expired_client(factory: Factory, client: TestClient) -> Credential:
    # Cached while it still works (a token, unless the machine is too busy to answer within the
    # 5 s), then refused once the expiry passes, from the cache as from storage.
    cred = factory.client(expires_at=utcnow() + timedelta(seconds=5))
    request_token(client, cred)
    return cred


def deleted_client(factory: Factory, client: TestClient) -> Credential:
    cred = factory.client()
    assert request_token(client, cred).status_code == 200
    delete(factory, cred)
    return cred


FAILURES: dict[str, Setup] = {
    "wrong-secret": wrong_secret,
    "unknown-client": unknown_client,
    "malformed-secret": malformed_secret,
    "revoked": revoked_client,
    "expired": expired_client,
    "deleted": deleted_client,
}


@pytest.mark.parametrize("failure", list(FAILURES))
def test_every_authentication_failure_gets_the_same_answer(
    factory: Factory, client: TestClient, failure: str
) -> None:
    factory.tenant()
    cred = FAILURES[failure](factory, client)
    response = poll(lambda: request_token(client, cred), status_is(401), timeout=10.0)
    assert response.status_code == 401
    assert response.json() == {"error": "invalid_client", "error_description": AUTH_FAILED}
    assert response.headers["www-authenticate"] == 'Basic realm="acme", charset="UTF-8"'
    assert response.headers["cache-control"] == "no-store"


def test_client_secret_post_failures_get_the_same_answer_as_basic(
    factory: Factory, client: TestClient
) -> None:
    factory.tenant()
    for setup in (wrong_secret, unknown_client, malformed_secret, revoked_client):
        cred = setup(factory, client)
        by_post = poll(partial(request_token_by_post, client, cred), status_is(401))
        by_basic = request_token(client, cred)
        assert by_post.status_code == by_basic.status_code == 401, setup.__name__
        assert by_post.json() == by_basic.json(), setup.__name__
        assert by_post.headers["www-authenticate"] == by_basic.headers["www-authenticate"]


def test_failure_description_does_not_echo_the_client_id(
    factory: Factory, client: TestClient
) -> None:
    factory.tenant()
    cred = Credential("acme", "probe-client-id", cs.generate(cs.SecretKind.CLIENT_SECRET).reveal())
    response = request_token(client, cred)
    assert response.status_code == 401
    assert "probe-client-id" not in response.text
    assert cred.secret not in response.text


# -- secret rotation ------------------------------------------------------------------------


def test_rotation_with_grace_keeps_both_secrets_working(
    factory: Factory, client: TestClient
) -> None:
    factory.tenant()
    old = factory.client()
    assert request_token(client, old).status_code == 200
    new = rotate(factory, old, timedelta(hours=1))
    assert new.secret != old.secret
    assert poll(lambda: request_token(client, new), status_is(200)).status_code == 200
    assert request_token(client, old).status_code == 200


def test_rotation_without_grace_stops_the_old_secret(factory: Factory, client: TestClient) -> None:
    factory.tenant()
    old = factory.client()
    assert request_token(client, old).status_code == 200
    new = rotate(factory, old, None)
    refused = poll(lambda: request_token(client, old), status_is(401))
    assert refused.status_code == 401
    assert refused.json()["error"] == "invalid_client"
    assert request_token(client, new).status_code == 200


def test_a_second_rotation_without_grace_ends_the_grace_of_the_first(
    factory: Factory, client: TestClient
) -> None:
    factory.tenant()
    first = factory.client()
    second = rotate(factory, first, timedelta(hours=1))
    third = rotate(factory, second, None)
    assert poll(lambda: request_token(client, third), status_is(200)).status_code == 200
    assert request_token(client, first).status_code == 401
    assert request_token(client, second).status_code == 401


def test_last_used_is_recorded_for_each_secret_version(
    factory: Factory, client: TestClient
) -> None:
    factory.tenant()
    old = factory.client()
    before = utcnow() - timedelta(seconds=1)
    assert request_token(client, old).status_code == 200
    new = rotate(factory, old, timedelta(hours=1))
    assert poll(lambda: request_token(client, new), status_is(200)).status_code == 200
    client.app.services.cache.flush_uses()  # type: ignore[attr-defined]
    after = utcnow() + timedelta(seconds=1)
    with factory.db.read() as session:
        record = session.scalar(select(OAuthClient).where(OAuthClient.client_id == old.client_id))
        assert record is not None
        versions = session.scalars(
            select(ClientSecret)
            .where(ClientSecret.client_pk == record.id)
            .order_by(ClientSecret.id)
        ).all()
        client_last_used = record.last_used_at
    assert len(versions) == 2
    used: list[datetime | None] = [v.last_used_at for v in versions]
    assert all(when is not None and before <= when <= after for when in used), used
    assert client_last_used is not None
    assert before <= client_last_used <= after


def test_an_unused_secret_version_has_no_last_used(factory: Factory, client: TestClient) -> None:
    factory.tenant()
    old = factory.client()
    assert request_token(client, old).status_code == 200
    rotate(factory, old, timedelta(hours=1))
    client.app.services.cache.flush_uses()  # type: ignore[attr-defined]
    with factory.db.read() as session:
        record = session.scalar(select(OAuthClient).where(OAuthClient.client_id == old.client_id))
        assert record is not None
        versions = session.scalars(
            select(ClientSecret)
            .where(ClientSecret.client_pk == record.id)
            .order_by(ClientSecret.id)
        ).all()
        used = [v.last_used_at is not None for v in versions]
    assert used == [True, False]
