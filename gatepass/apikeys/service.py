"""What is an API key's own: its owner (personal keys), its rate limit, and creating one.

The rest of its lifecycle (regenerate, revoke, revoke all, delete, find, list, status) is the
one every credential shares: ``credentials.lifecycle`` with ``apikeys.kind.API_KEY``.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from gatepass import credential_secrets as cs
from gatepass.apikeys.kind import API_KEY, check_owner_acts
from gatepass.apikeys.models import ApiKey
from gatepass.audit.service import Actor
from gatepass.credentials import lifecycle, rules
from gatepass.db import utcnow
from gatepass.errors import InvalidInputError
from gatepass.groups import service as groups
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
    secret = lifecycle.add_secret(API_KEY, key, hasher)
    details = {
        "name": name,
        "scopes": spec.scopes,
        "groups": spec.groups,
        "owner": owner.email if owner else None,
    }
    lifecycle.created(session, tenant, API_KEY, key, actor=actor, details=details)
    return key, secret


def owner_filters(
    *, owner: str | None = None, personal: bool | None = None
) -> tuple[ColumnElement[bool], ...]:
    """Listing filters of keys alone: one user's personal keys; personal or service keys."""
    found: list[ColumnElement[bool]] = []
    if owner is not None:
        found.append(ApiKey.owner.has(User.email == owner.strip().lower()))
    if personal is not None:
        found.append(ApiKey.owner_id.is_not(None) if personal else ApiKey.owner_id.is_(None))
    return tuple(found)


def _owner(session: Session, tenant: Tenant, email: str | None) -> User | None:
    if email is None:
        return None
    owner = session.scalar(
        select(User).where(User.tenant_id == tenant.id, User.email == email.strip().lower())
    )
    if owner is None:
        raise InvalidInputError(f"no user '{cs.mask(email)}' in tenant '{tenant.slug}'")
    return owner
