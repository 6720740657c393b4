"""Helpers shared by the API-key tests: keys made through Gatepass's own service functions, and
calls of the verify endpoint through the real app."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx2
from argon2 import PasswordHasher
from starlette.testclient import TestClient

from gatepass import provisioning
from gatepass.apikeys import service as apikeys
from gatepass.apikeys.kind import API_KEY
from gatepass.apikeys.models import ApiKey
from gatepass.credentials import lifecycle
from gatepass.users import service as users
from tests.factories import ACTOR, Credential, Factory
from tests.http.support import poll, tenant_session

VERIFY_SCOPE = "api_keys:verify"
PASSWORD = "correct horse battery staple"
# Console users are not what these tests are about: the cheapest argon2id parameters will do.
CHEAP_PASSWORDS = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


@dataclass(frozen=True)
class Key:
    """An API key as its holder knows it: the tenant, the key's id and the secret itself."""

    tenant: str
    key_id: str
    secret: str


def verify_path(tenant: str = "acme") -> str:
    return f"/realms/{tenant}/api-keys/verify"


def verifier(factory: Factory, tenant: str = "acme", *, scopes: tuple[str, ...] = ()) -> Credential:
    """A client of ``tenant`` allowed to call the verify endpoint (plus ``scopes``)."""
    return factory.client(tenant, scopes=(VERIFY_SCOPE, *scopes), name="resource server")


def call_verify(
    client: TestClient,
    authorization: str | None,
    *,
    key: str | None = None,
    body: bytes | None = None,
    tenant: str = "acme",
) -> httpx2.Response:
    """POST to the verify endpoint: ``{"key": key}``, or the raw ``body`` when given."""
    headers = {"Authorization": authorization} if authorization is not None else {}
    if body is not None:
        return client.post(verify_path(tenant), content=body, headers=headers)
    return client.post(verify_path(tenant), json={"key": key}, headers=headers)


def verify(client: TestClient, caller: Credential, key: str, *, tenant: str | None = None) -> Any:
    """The verify answer for ``key``, asked by ``caller`` with HTTP Basic (must be a 200)."""
    response = call_verify(client, caller.basic, key=key, tenant=tenant or caller.tenant)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert response.headers["cache-control"] == "no-store"
    return response.json()


def verify_until(
    client: TestClient,
    caller: Credential,
    key: str,
    done: Callable[[Any], bool],
    *,
    timeout: float = 3.0,
) -> Any:
    """Ask until ``done`` holds for the answer or the deadline passes; return the last answer."""
    return poll(lambda: verify(client, caller, key), done, timeout=timeout)


def code_is(code: str) -> Callable[[Any], bool]:
    return lambda answer: answer["code"] == code


def create_key(
    factory: Factory,
    tenant: str = "acme",
    *,
    name: str = "billing sync",
    scopes: tuple[str, ...] = (),
    groups: tuple[str, ...] = (),
    owner: str | None = None,
    expires_at: datetime | None = None,
    rate_limit: apikeys.RateLimit | None = None,
    allowed_ips: tuple[str, ...] = (),
) -> Key:
    spec = apikeys.NewApiKey(
        name=name,
        scopes=list(scopes),
        groups=list(groups),
        owner_email=owner,
        expires_at=expires_at,
        rate_limit=rate_limit,
        allowed_ips=list(allowed_ips),
    )
    with tenant_session(factory, tenant) as (session, t):
        key, secret = apikeys.create_key(session, t, spec, actor=ACTOR, hasher=factory.hasher)
        return Key(tenant, key.key_id, secret.reveal())


def regenerate(factory: Factory, key: Key, grace: timedelta | None = None) -> Key:
    with tenant_session(factory, key.tenant) as (session, t):
        _, secret = lifecycle.rotate(
            session, t, API_KEY, key.key_id, grace=grace, actor=ACTOR, hasher=factory.hasher
        )
        return Key(key.tenant, key.key_id, secret.reveal())


def revoke(factory: Factory, key: Key) -> None:
    with tenant_session(factory, key.tenant) as (session, t):
        lifecycle.revoke(session, t, API_KEY, key.key_id, actor=ACTOR)


def delete(factory: Factory, key: Key) -> None:
    with tenant_session(factory, key.tenant) as (session, t):
        lifecycle.delete(session, t, API_KEY, key.key_id, actor=ACTOR)


def stored_key(factory: Factory, key: Key) -> ApiKey:
    """The key's row as stored now (with its secrets), read in a fresh session."""
    with tenant_session(factory, key.tenant) as (session, t):
        return lifecycle.get(session, t, API_KEY, key.key_id)


def create_user(factory: Factory, email: str, role: str, tenant: str = "acme") -> str:
    with tenant_session(factory, tenant) as (session, t):
        users.create_user(
            session,
            t,
            email=email,
            role=role,
            password=PASSWORD,
            actor=ACTOR,
            hasher=CHEAP_PASSWORDS,
        )
    return email


def set_active(factory: Factory, email: str, *, active: bool, tenant: str = "acme") -> None:
    with tenant_session(factory, tenant) as (session, t):
        provisioning.set_status(session, t, email, active=active, actor=ACTOR)


def set_role(factory: Factory, email: str, role: str, *, tenant: str = "acme") -> None:
    with tenant_session(factory, tenant) as (session, t):
        provisioning.set_role(session, t, email, role=role, actor=ACTOR)


def in_one_window(run: Callable[[], list[Any]]) -> list[Any]:
    """The answers of ``run`` (which creates a fresh key and verifies it several times), all
    within one rate-limit window.

    Should a window end between two calls (rare, but possible), ``run`` starts over with a new
    key. Answers must carry ``rate_limit``.
    """
    for _ in range(3):
        answers = run()
        if len({a["rate_limit"]["reset"] for a in answers}) == 1:
            return answers
    raise AssertionError("the rate-limit window changed during every attempt")
