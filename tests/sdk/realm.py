"""One Gatepass tenant on a running ``gatepass serve``, and the credentials the SDK tests need.

Each test gets its own tenant (a fresh slug) on a server shared by the package: tenants share
nothing, so tests stay independent while the suite starts one server per database backend.
Data is made through Gatepass's own service functions (``tests.factories``); tokens through
its real token endpoint.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx

from gatepass import provisioning
from gatepass.apikeys import service as apikeys
from gatepass.apikeys.kind import API_KEY
from gatepass.credentials import lifecycle
from gatepass.signing_keys import service as signing_keys
from gatepass.tenants import service as tenants
from gatepass.users import service as users
from gatepass_sdk import GatepassVerifier
from gatepass_sdk.sync_verifier import SyncGatepassVerifier
from tests.e2e.conftest import Server
from tests.factories import ACTOR, Credential, Factory

# Seed 000's catalog, as the demo tenant has it: spark is listed but cannot be granted.
CATALOG = ("remote_actions", "enrichment", "data_management", "workflows", "campaigns", "nql")
GROUPS = ("emea", "americas")
VERIFY = "api_keys:verify"


@dataclass(frozen=True)
class ApiKey:
    key_id: str
    key: str


@dataclass
class Realm:
    slug: str
    server: Server
    factory: Factory
    verify_client: Credential

    @classmethod
    def create(cls, server: Server, factory: Factory, *, signing_alg: str = "ES256") -> Realm:
        slug = "t-" + secrets.token_hex(5)
        factory.tenant(
            slug, catalog=CATALOG, unavailable=("spark",), groups_=GROUPS, signing_alg=signing_alg
        )
        verify_client = factory.client(slug, scopes=(VERIFY,), name="platform api")
        return cls(slug, server, factory, verify_client)

    @property
    def issuer(self) -> str:
        return self.server.issuer(self.slug)

    @property
    def audience(self) -> str:
        return f"api://{self.slug}"

    def client(
        self,
        *,
        scopes: tuple[str, ...] = CATALOG,
        groups: tuple[str, ...] = (),
        token_lifetime: int | None = None,
    ) -> Credential:
        return self.factory.client(
            self.slug, scopes=scopes, groups_=groups, token_lifetime=token_lifetime
        )

    def token(self, client: Credential, **form: str) -> str:
        response = httpx.post(
            self.server.token_url(self.slug),
            data={"grant_type": "client_credentials", **form},
            auth=(client.client_id, client.secret),
            timeout=10,
        )
        assert response.status_code == 200, response.text
        value: str = response.json()["access_token"]
        return value

    def api_key(
        self,
        *,
        scopes: tuple[str, ...] = ("nql",),
        groups: tuple[str, ...] = (),
        owner: str | None = None,
        expires_at: datetime | None = None,
        rate_limit: apikeys.RateLimit | None = None,
        allowed_ips: tuple[str, ...] = (),
    ) -> ApiKey:
        spec = apikeys.NewApiKey(
            name="integration key",
            scopes=list(scopes),
            groups=list(groups),
            owner_email=owner,
            expires_at=expires_at,
            rate_limit=rate_limit,
            allowed_ips=list(allowed_ips),
        )
        with self.factory.db.transaction() as session:
            tenant = tenants.get_tenant(session, self.slug)
            key, secret = apikeys.create_key(
                session, tenant, spec, actor=ACTOR, hasher=self.factory.hasher
            )
            return ApiKey(key.key_id, secret.reveal())

    def revoke_key(self, key_id: str) -> None:
        with self.factory.db.transaction() as session:
            lifecycle.revoke(
                session, tenants.get_tenant(session, self.slug), API_KEY, key_id, actor=ACTOR
            )

    def user(self, email: str, role: str = "credentials_manager") -> str:
        with self.factory.db.transaction() as session:
            tenant = tenants.get_tenant(session, self.slug)
            users.create_user(
                session, tenant, email=email, role=role, password="p" * 16, actor=ACTOR
            )
        return email

    def disable_user(self, email: str) -> None:
        with self.factory.db.transaction() as session:
            tenant = tenants.get_tenant(session, self.slug)
            provisioning.set_status(session, tenant, email, active=False, actor=ACTOR)

    def rotate_signing_key(self) -> str:
        with self.factory.db.transaction() as session:
            tenant = tenants.get_tenant(session, self.slug)
            key = signing_keys.rotate(session, tenant, self.factory.cipher, actor=ACTOR)
            return key.kid

    def verifier(self, **options: Any) -> GatepassVerifier:
        return GatepassVerifier(**{**self.verifier_options(), **options})

    def sync_verifier(self, **options: Any) -> SyncGatepassVerifier:
        return SyncGatepassVerifier(**{**self.verifier_options(), **options})

    def verifier_options(self) -> dict[str, Any]:
        return {
            "issuer": self.issuer,
            "audience": self.audience,
            "verify_client": (self.verify_client.client_id, self.verify_client.secret),
        }


def altered(secret: str) -> str:
    """The same secret with its last character changed (never to itself)."""
    return secret[:-1] + ("y" if secret.endswith("x") else "x")


class Counter:
    """Counts the requests an ``httpx`` client sends, by path ending."""

    def __init__(self) -> None:
        self.paths: list[str] = []

    async def __call__(self, request: httpx.Request) -> None:
        self.record(request)

    def record(self, request: httpx.Request) -> None:
        self.paths.append(request.url.path)

    def count(self, ending: str) -> int:
        return sum(1 for path in self.paths if path.endswith(ending))

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(timeout=10, event_hooks={"request": [self]})

    def sync_client(self) -> httpx.Client:
        return httpx.Client(timeout=10, event_hooks={"request": [self.record]})


async def eventually(check: Callable[[], Any], *, within: float = 10.0) -> Any:
    """Poll an async ``check`` until it returns something truthy; fail after ``within`` s."""
    deadline = time.monotonic() + within
    while True:
        result = await check()
        if result or time.monotonic() > deadline:
            assert result, f"not true within {within} s"
            return result
        await asyncio.sleep(0.05)
