"""The lifecycle of OAuth clients: create, rotate the secret, revoke, delete.

Each function runs inside the caller's transaction, writes its audit event there, and publishes
a change so that every process drops the client from its cache within a poll interval.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.orm.interfaces import LoaderOption

from gatepass import credential_secrets as cs
from gatepass.audit.service import Actor, record
from gatepass.changes import feed
from gatepass.clients.models import ClientSecret, OAuthClient
from gatepass.credentials import rules
from gatepass.db import utcnow
from gatepass.errors import ConflictError, InvalidInputError, NotFoundError
from gatepass.groups import service as groups
from gatepass.lifecycle import (
    end_secrets,
    grace_details,
    listing_conditions,
    revoke_every,
    status_condition,
)
from gatepass.pagination import Page, PageRequest, fetch
from gatepass.permissions import service as permissions
from gatepass.tenants.models import Tenant
from gatepass.tenants.service import MAX_LIFETIME, MIN_LIFETIME

# No ':' (it separates id and secret in HTTP Basic) and nothing that needs quoting in a URL.
CLIENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._~-]{2,99}\Z")


@dataclass(frozen=True)
class NewClient:
    name: str
    description: str = ""
    scopes: list[str] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)
    client_id: str | None = None
    expires_at: datetime | None = None
    token_lifetime: int | None = None


def create_client(
    session: Session, tenant: Tenant, spec: NewClient, *, actor: Actor, hasher: cs.SecretHasher
) -> tuple[OAuthClient, cs.Plaintext]:
    name = rules.name(spec.name)
    description = rules.description(spec.description)
    client_id = spec.client_id or _generate_client_id()
    if not CLIENT_ID.match(client_id):
        raise InvalidInputError(
            "client ID must be 3-100 letters, digits or . _ ~ -, starting with a letter or digit"
        )
    if client_id.startswith(tuple(kind.value for kind in cs.SecretKind)):
        raise InvalidInputError("a client ID must not look like a Gatepass secret (gpcs_, gpk_)")
    if _find(session, tenant.id, client_id) is not None:
        raise ConflictError(f"client ID '{client_id}' is already used in tenant '{tenant.slug}'")
    _check_expiry_and_lifetime(spec)
    client = OAuthClient(
        tenant_id=tenant.id,
        client_id=client_id,
        name=name,
        description=description,
        created_by=actor.label,
        expires_at=spec.expires_at,
        token_lifetime=spec.token_lifetime,
        permissions=permissions.resolve_grantable(session, tenant, spec.scopes, actor=actor),
        groups=groups.resolve(session, tenant, spec.groups),
    )
    secret = _add_secret(client, hasher)
    session.add(client)
    session.flush()
    feed.publish(session, tenant.id, feed.KIND_CLIENT, client_id)
    record(
        session,
        tenant_id=tenant.id,
        actor=actor,
        action="client.create",
        target_type="oauth_client",
        target=client_id,
        details={"name": name, "scopes": spec.scopes, "groups": spec.groups},
    )
    return client, secret


def rotate_secret(
    session: Session,
    tenant: Tenant,
    client_id: str,
    *,
    grace: timedelta | None,
    actor: Actor,
    hasher: cs.SecretHasher,
) -> tuple[OAuthClient, cs.Plaintext]:
    """Issue a new secret; older secrets keep working for ``grace`` (or stop at once).

    The new secret is shown to ``actor``, so only to one who could grant all the client holds.
    """
    client = get_client(session, tenant, client_id)
    permissions.check_may_reveal(actor, (p.name for p in client.permissions))
    if client.status != "active":
        raise InvalidInputError(
            f"client '{client_id}' is {client.status}: cannot rotate its secret"
        )
    end_secrets(client.secrets, grace)
    secret = _add_secret(client, hasher)
    feed.publish(session, tenant.id, feed.KIND_CLIENT, client_id)
    record(
        session,
        tenant_id=tenant.id,
        actor=actor,
        action="client.rotate_secret",
        target_type="oauth_client",
        target=client_id,
        details=grace_details(grace),
    )
    return client, secret


def revoke_client(session: Session, tenant: Tenant, client_id: str, *, actor: Actor) -> OAuthClient:
    client = get_client(session, tenant, client_id)
    if client.status != "revoked":
        _revoke(client)
        feed.publish(session, tenant.id, feed.KIND_CLIENT, client_id)
        record(
            session,
            tenant_id=tenant.id,
            actor=actor,
            action="client.revoke",
            target_type="oauth_client",
            target=client_id,
        )
    return client


def revoke_all(session: Session, tenant: Tenant, *, actor: Actor) -> int:
    """Revoke every active client of the tenant; returns how many were revoked."""
    count = revoke_every(session, OAuthClient, tenant.id)
    if count:
        feed.publish(session, tenant.id, feed.KIND_CLIENT, feed.EVERY)
    record(
        session,
        tenant_id=tenant.id,
        actor=actor,
        action="client.revoke_all",
        target_type="tenant",
        target=tenant.slug,
        details={"count": count},
    )
    return count


def delete_client(session: Session, tenant: Tenant, client_id: str, *, actor: Actor) -> None:
    client = get_client(session, tenant, client_id)
    session.delete(client)
    feed.publish(session, tenant.id, feed.KIND_CLIENT, client_id)
    record(
        session,
        tenant_id=tenant.id,
        actor=actor,
        action="client.delete",
        target_type="oauth_client",
        target=client_id,
        details={"name": client.name},
    )


def get_client(session: Session, tenant: Tenant, client_id: str) -> OAuthClient:
    client = _find(session, tenant.id, client_id)
    if client is None:
        raise NotFoundError(
            f"client '{cs.mask(client_id)}' does not exist in tenant '{tenant.slug}'"
        )
    return client


def list_clients(session: Session, tenant: Tenant) -> list[OAuthClient]:
    return list(
        session.scalars(
            select(OAuthClient)
            .where(OAuthClient.tenant_id == tenant.id)
            .options(*_eager())
            .order_by(OAuthClient.id)
        )
    )


@dataclass(frozen=True)
class ClientFilter:
    """Narrows a listing; every field given must match."""

    status: str | None = None  # active, expired or revoked
    name: str | None = None  # part of the name, any case
    created_by: str | None = None
    permission: str | None = None
    group: str | None = None


def search_clients(
    session: Session, tenant: Tenant, where: ClientFilter, page: PageRequest
) -> Page[OAuthClient]:
    stmt = select(OAuthClient).where(OAuthClient.tenant_id == tenant.id).options(*_eager())
    if where.status is not None:
        stmt = stmt.where(status_condition(OAuthClient, where.status, utcnow()))
    stmt = stmt.where(
        *listing_conditions(
            OAuthClient,
            name=where.name,
            created_by=where.created_by,
            permission=where.permission,
            group=where.group,
        )
    )
    return fetch(session, stmt, OAuthClient.id, page)


def status_of(client: OAuthClient, now: datetime | None = None) -> str:
    """``active``, ``revoked`` or ``expired`` as an administrator would read it."""
    if client.status != "active":
        return client.status
    if client.expires_at is not None and client.expires_at <= (now or utcnow()):
        return "expired"
    return "active"


def _find(session: Session, tenant_id: int, client_id: str) -> OAuthClient | None:
    return session.scalar(
        select(OAuthClient)
        .where(OAuthClient.tenant_id == tenant_id, OAuthClient.client_id == client_id)
        .options(*_eager())
    )


def _eager() -> tuple[LoaderOption, ...]:
    return (
        selectinload(OAuthClient.permissions),
        selectinload(OAuthClient.groups),
        selectinload(OAuthClient.secrets),
    )


def _revoke(client: OAuthClient) -> None:
    client.status = "revoked"
    client.revoked_at = utcnow()


def _add_secret(client: OAuthClient, hasher: cs.SecretHasher) -> cs.Plaintext:
    secret = cs.generate(cs.SecretKind.CLIENT_SECRET)
    client.secrets.append(
        ClientSecret(secret_hash=hasher.digest(secret), hint=cs.hint(secret), created_at=utcnow())
    )
    return secret


def _generate_client_id() -> str:
    return "gp-" + secrets.token_hex(10)


def _check_expiry_and_lifetime(spec: NewClient) -> None:
    if spec.expires_at is not None and spec.expires_at <= utcnow():
        raise InvalidInputError("expiry must be in the future")
    if spec.token_lifetime is not None and not MIN_LIFETIME <= spec.token_lifetime <= MAX_LIFETIME:
        raise InvalidInputError(f"token lifetime must be {MIN_LIFETIME}-{MAX_LIFETIME} seconds")
