"""The lifecycle of API keys: create, regenerate, revoke, delete.

As for OAuth clients, each function runs in the caller's transaction, writes its audit event
there and publishes a change so every process drops the key from its cache.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.orm.interfaces import LoaderOption

from gatepass import credential_secrets as cs
from gatepass.apikeys.models import ApiKey, ApiKeySecret
from gatepass.audit.service import Actor, record
from gatepass.changes import feed
from gatepass.credentials import rules
from gatepass.db import utcnow
from gatepass.errors import ForbiddenError, InvalidInputError, NotFoundError
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
from gatepass.users.models import User
from gatepass.users.roles import role_can_grant

MAX_RATE_PERIOD = rules.MAX_RATE_PERIOD
CREATE_REFUSAL = (
    "a personal API key is created by its owner only, signed in as that user (or by an operator"
    " at the CLI); an OAuth client never creates one"
)


@dataclass(frozen=True)
class RateLimit:
    limit: int
    period: int  # seconds

    def __post_init__(self) -> None:
        rules.check_rate_limit(self.limit, self.period)


@dataclass(frozen=True)
class NewApiKey:
    name: str
    description: str = ""
    scopes: list[str] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)
    owner_email: str | None = None
    expires_at: datetime | None = None
    rate_limit: RateLimit | None = None


def create_key(
    session: Session, tenant: Tenant, spec: NewApiKey, *, actor: Actor, hasher: cs.SecretHasher
) -> tuple[ApiKey, cs.Plaintext]:
    name = rules.name(spec.name)
    description = rules.description(spec.description)
    if spec.expires_at is not None and spec.expires_at <= utcnow():
        raise InvalidInputError("expiry must be in the future")
    if spec.owner_email is not None:
        check_owner_acts(actor, spec.owner_email, refusal=CREATE_REFUSAL)
    granted = permissions.resolve_grantable(session, tenant, spec.scopes, actor=actor)
    owner = _owner(session, tenant, spec.owner_email)
    if owner is not None:
        refused = [p.name for p in granted if not role_can_grant(owner.role, p.name)]
        if refused:
            raise InvalidInputError(
                f"a personal key of a {owner.role} cannot carry permission '{refused[0]}'"
            )
    key = ApiKey(
        tenant_id=tenant.id,
        key_id="ak_" + secrets.token_hex(8),
        name=name,
        description=description,
        owner=owner,
        created_by=actor.label,
        expires_at=spec.expires_at,
        rate_limit=spec.rate_limit.limit if spec.rate_limit else None,
        rate_period=spec.rate_limit.period if spec.rate_limit else None,
        permissions=granted,
        groups=groups.resolve(session, tenant, spec.groups),
    )
    secret = _add_secret(key, hasher)
    session.add(key)
    session.flush()
    feed.publish(session, tenant.id, feed.KIND_APIKEY, key.key_id)
    record(
        session,
        tenant_id=tenant.id,
        actor=actor,
        action="apikey.create",
        target_type="api_key",
        target=key.key_id,
        details={
            "name": name,
            "scopes": spec.scopes,
            "groups": spec.groups,
            "owner": owner.email if owner else None,
        },
    )
    return key, secret


def regenerate(
    session: Session,
    tenant: Tenant,
    key_id: str,
    *,
    grace: timedelta | None,
    actor: Actor,
    hasher: cs.SecretHasher,
) -> tuple[ApiKey, cs.Plaintext]:
    """The same key with a new secret; the old secret stops now or after ``grace``.

    The new secret is shown to ``actor``: for a personal key, only its owner; for any key, only
    one who could grant every permission it holds.
    """
    key = get_key(session, tenant, key_id)
    if key.owner is not None:
        check_owner_acts(
            actor,
            key.owner.email,
            refusal=f"API key '{key_id}' is a personal key of another user: only its owner can"
            " regenerate it (revoking or deleting it is allowed)",
        )
    permissions.check_may_reveal(actor, (p.name for p in key.permissions))
    if key.status != "active":
        raise InvalidInputError(f"API key '{key_id}' is {key.status}: cannot regenerate it")
    end_secrets(key.secrets, grace)
    secret = _add_secret(key, hasher)
    feed.publish(session, tenant.id, feed.KIND_APIKEY, key_id)
    record(
        session,
        tenant_id=tenant.id,
        actor=actor,
        action="apikey.regenerate",
        target_type="api_key",
        target=key_id,
        details=grace_details(grace),
    )
    return key, secret


def check_owner_acts(actor: Actor, owner_email: str, *, refusal: str) -> None:
    """Refuse (with ``refusal``) unless ``actor`` is the console user ``owner_email`` or the
    operator: whoever sees a personal key's secret acts as its owner, with the owner's role."""
    if actor.role is None:  # the operator at the CLI
        return
    if actor.kind == "user" and actor.id == owner_email.strip().lower():
        return
    raise ForbiddenError(refusal)


def revoke_key(session: Session, tenant: Tenant, key_id: str, *, actor: Actor) -> ApiKey:
    key = get_key(session, tenant, key_id)
    if key.status != "revoked":
        key.status, key.revoked_at = "revoked", utcnow()
        feed.publish(session, tenant.id, feed.KIND_APIKEY, key_id)
        record(
            session,
            tenant_id=tenant.id,
            actor=actor,
            action="apikey.revoke",
            target_type="api_key",
            target=key_id,
        )
    return key


def revoke_all(session: Session, tenant: Tenant, *, actor: Actor) -> int:
    """Revoke every active API key of the tenant in one statement; one change entry tells
    every process to drop all of the tenant's cached keys (100k keys: one row, one notice)."""
    count = revoke_every(session, ApiKey, tenant.id)
    if count:
        feed.publish(session, tenant.id, feed.KIND_APIKEY, feed.EVERY)
    record(
        session,
        tenant_id=tenant.id,
        actor=actor,
        action="apikey.revoke_all",
        target_type="tenant",
        target=tenant.slug,
        details={"count": count},
    )
    return count


def delete_key(session: Session, tenant: Tenant, key_id: str, *, actor: Actor) -> None:
    key = get_key(session, tenant, key_id)
    session.delete(key)
    feed.publish(session, tenant.id, feed.KIND_APIKEY, key_id)
    record(
        session,
        tenant_id=tenant.id,
        actor=actor,
        action="apikey.delete",
        target_type="api_key",
        target=key_id,
        details={"name": key.name},
    )


def get_key(session: Session, tenant: Tenant, key_id: str) -> ApiKey:
    key = session.scalar(
        select(ApiKey)
        .where(ApiKey.tenant_id == tenant.id, ApiKey.key_id == key_id)
        .options(*_eager())
    )
    if key is None:
        raise NotFoundError(f"API key '{cs.mask(key_id)}' does not exist in tenant '{tenant.slug}'")
    return key


def list_keys(session: Session, tenant: Tenant) -> list[ApiKey]:
    return list(
        session.scalars(
            select(ApiKey)
            .where(ApiKey.tenant_id == tenant.id)
            .options(*_eager())
            .order_by(ApiKey.id)
        )
    )


@dataclass(frozen=True)
class ApiKeyFilter:
    """Narrows a listing; every field given must match."""

    status: str | None = None  # active, expired, revoked or disabled
    name: str | None = None  # part of the name, any case
    created_by: str | None = None
    permission: str | None = None
    group: str | None = None
    owner: str | None = None  # the owner's email: personal keys of one user
    personal: bool | None = None  # True: personal keys only; False: service keys only


def search_keys(
    session: Session, tenant: Tenant, where: ApiKeyFilter, page: PageRequest
) -> Page[ApiKey]:
    stmt = select(ApiKey).where(ApiKey.tenant_id == tenant.id).options(*_eager())
    if where.status is not None:
        stmt = stmt.where(_key_status(where.status))
    stmt = stmt.where(
        *listing_conditions(
            ApiKey,
            name=where.name,
            created_by=where.created_by,
            permission=where.permission,
            group=where.group,
        )
    )
    if where.owner is not None:
        stmt = stmt.where(ApiKey.owner.has(User.email == where.owner.strip().lower()))
    if where.personal is not None:
        stmt = stmt.where(
            ApiKey.owner_id.is_not(None) if where.personal else ApiKey.owner_id.is_(None)
        )
    return fetch(session, stmt, ApiKey.id, page)


def _key_status(status: str) -> ColumnElement[bool]:
    owner_active = or_(ApiKey.owner_id.is_(None), ApiKey.owner.has(User.status == "active"))
    if status == "disabled":
        return and_(ApiKey.status == "active", ~owner_active)
    condition = status_condition(ApiKey, status, utcnow())
    return and_(condition, owner_active) if status in ("active", "expired") else condition


def status_of(key: ApiKey, now: datetime | None = None) -> str:
    if key.status != "active":
        return key.status
    if key.owner is not None and key.owner.status != "active":
        return "disabled"
    if key.expires_at is not None and key.expires_at <= (now or utcnow()):
        return "expired"
    return "active"


def _owner(session: Session, tenant: Tenant, email: str | None) -> User | None:
    if email is None:
        return None
    owner = session.scalar(
        select(User).where(User.tenant_id == tenant.id, User.email == email.strip().lower())
    )
    if owner is None:
        raise InvalidInputError(f"no user '{cs.mask(email)}' in tenant '{tenant.slug}'")
    return owner


def _eager() -> tuple[LoaderOption, ...]:
    return (
        selectinload(ApiKey.permissions),
        selectinload(ApiKey.groups),
        selectinload(ApiKey.secrets),
        selectinload(ApiKey.owner),
    )


def _add_secret(key: ApiKey, hasher: cs.SecretHasher) -> cs.Plaintext:
    secret = cs.generate(cs.SecretKind.API_KEY)
    key.secrets.append(
        ApiKeySecret(digest=hasher.digest(secret), hint=cs.hint(secret), created_at=utcnow())
    )
    return secret
