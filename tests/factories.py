"""Small helpers that create data through Gatepass's own service functions, on the real store."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from gatepass import credential_secrets as cs
from gatepass import provisioning
from gatepass.audit.service import Actor
from gatepass.clients import service as clients
from gatepass.destinations import Rules
from gatepass.groups import service as groups
from gatepass.permissions import service as permissions
from gatepass.settings import Settings
from gatepass.signing_keys.material import KeyCipher
from gatepass.tenants import service as tenants
from gatepass.users import passwords
from gatepass.users import service as users
from tests import engines

ACTOR = Actor(kind="operator", id="tests")
CATALOG = ("nql", "workflows", "campaigns")


@dataclass(frozen=True)
class Credential:
    tenant: str
    client_id: str
    secret: str

    @property
    def basic(self) -> str:
        raw = f"{self.client_id}:{self.secret}".encode()
        return "Basic " + base64.b64encode(raw).decode()


LOCAL_KEYS = Rules(allow_http=True, allow_private=True)


class Factory:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        passwords.configure(passwords.HashCost.of(settings))
        self.db = engines.database(settings.effective_database_url)
        self.hasher = cs.SecretHasher.from_master_key(settings.master_key())
        self.cipher = KeyCipher.from_master_key(settings.master_key())

    def tenant(
        self,
        slug: str = "acme",
        *,
        name: str | None = None,
        catalog: tuple[str, ...] = CATALOG,
        unavailable: tuple[str, ...] = (),
        groups_: tuple[str, ...] = ("emea",),
        signing_alg: str = "ES256",
    ) -> str:
        with self.db.transaction() as session:
            tenant = provisioning.create_tenant(
                session,
                slug=slug,
                name=name or slug.title(),
                actor=ACTOR,
                cipher=self.cipher,
                signing_alg=signing_alg,
            )
            for scope in (*catalog, *unavailable):
                permissions.create_permission(
                    session,
                    tenant,
                    name=scope,
                    label=scope.upper(),
                    description="",
                    available=scope not in unavailable,
                    unavailable_reason="preview",
                    actor=ACTOR,
                )
            for group in groups_:
                groups.create_group(session, tenant, name=group, actor=ACTOR)
        return slug

    def client(
        self,
        tenant: str = "acme",
        *,
        scopes: tuple[str, ...] = CATALOG,
        groups_: tuple[str, ...] = (),
        client_id: str | None = None,
        expires_at: datetime | None = None,
        token_lifetime: int | None = None,
        name: str = "integration",
        allowed_ips: tuple[str, ...] = (),
        jwks: dict[str, Any] | None = None,
        jwks_uri: str | None = None,
    ) -> Credential:
        """A client and its secret; given ``jwks`` or ``jwks_uri``, a client with keys, and no
        secret (""). A ``jwks_uri`` may be on loopback over http here (the test's key server)."""
        spec = clients.NewClient(
            name=name,
            scopes=list(scopes),
            groups=list(groups_),
            client_id=client_id,
            expires_at=expires_at,
            token_lifetime=token_lifetime,
            allowed_ips=list(allowed_ips),
            jwks=jwks,
            jwks_uri=jwks_uri,
        )
        with self.db.transaction() as session:
            t = tenants.get_tenant(session, tenant)
            client, secret = clients.create_client(
                session, t, spec, actor=ACTOR, hasher=self.hasher, key_rules=LOCAL_KEYS
            )
            return Credential(tenant, client.client_id, secret.reveal() if secret else "")

    def user(
        self,
        tenant: str = "acme",
        *,
        email: str = "ada@example.com",
        role: str = "admin",
        password: str = "correct horse battery",  # noqa: S107 - a test account
    ) -> str:
        with self.db.transaction() as session:
            t = tenants.get_tenant(session, tenant)
            users.create_user(session, t, email=email, role=role, password=password, actor=ACTOR)
        return email

    def close(self) -> None:
        self.db.dispose()
