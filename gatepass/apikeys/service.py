"""What is an API key's own: its owner (personal keys), its rate limit, and creating one.

Editing one adds the rate limit to ``credentials.editing``. The rest of its lifecycle
(regenerate, suspend, resume, revoke, revoke all, delete, find, list, status) is the one every
credential shares: ``credentials.lifecycle`` with ``apikeys.kind.API_KEY``.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from gatepass import credential_secrets as cs
from gatepass.apikeys.kind import API_KEY, check_owner_acts
from gatepass.apikeys.models import ApiKey
from gatepass.audit.service import Actor
from gatepass.credentials import editing, lifecycle, rules
from gatepass.credentials import policy as policies
from gatepass.errors import InvalidInputError
from gatepass.permissions.models import Permission
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
class NewApiKey(lifecycle.NewCredential):
    owner_email: str | None = None
    rate_limit: RateLimit | None = None


def create_key(
    session: Session, tenant: Tenant, spec: NewApiKey, *, actor: Actor, hasher: cs.SecretHasher
) -> tuple[ApiKey, cs.Plaintext]:
    owner: User | None = None

    def own() -> dict[str, Any]:
        nonlocal owner
        if spec.owner_email is not None:
            check_owner_acts(actor, spec.owner_email, refusal=CREATE_REFUSAL)
            owner = _owner(session, tenant, spec.owner_email)
        limit = spec.rate_limit or _default_rate_limit(tenant)
        return {
            "key_id": "ak_" + secrets.token_hex(8),
            "owner": owner,
            "rate_limit": limit.limit if limit else None,
            "rate_period": limit.period if limit else None,
        }

    key, secret = lifecycle.create(
        session,
        tenant,
        API_KEY,
        spec,
        actor=actor,
        hasher=hasher,
        own=own,
        check_granted=lambda granted: _check_owner_may_hold(owner, granted),
    )
    if secret is None:  # never: only a client with public keys is made without a secret
        raise RuntimeError("an API key was made without a secret")
    return key, secret


@dataclass(frozen=True)
class ApiKeyChanges(editing.CredentialChanges):
    rate_limit: RateLimit | None = None
    clear_rate_limit: bool = False


def edit_key(
    session: Session, tenant: Tenant, key_id: str, changes: ApiKeyChanges, *, actor: Actor
) -> ApiKey:
    """Edit a key (``credentials.editing``), its rate limit included. A personal key keeps to
    what its owner's role may hold."""

    def own(key: ApiKey) -> dict[str, Any]:
        limit = None if changes.clear_rate_limit else changes.rate_limit
        if limit is None and not changes.clear_rate_limit:
            return {}
        new = (limit.limit, limit.period) if limit else (None, None)
        if new == (key.rate_limit, key.rate_period):
            return {}
        key.rate_limit, key.rate_period = new
        return {"rate_limit": f"{new[0]}/{new[1]}s" if limit else None}

    return editing.edit(
        session,
        tenant,
        API_KEY,
        key_id,
        changes,
        actor=actor,
        own=own,
        check_granted=lambda key, granted: _check_owner_may_hold(key.owner, granted),
    )


def _default_rate_limit(tenant: Tenant) -> RateLimit | None:
    """The tenant's default for a key created without a rate limit (its credential policy)."""
    policy = policies.CredentialPolicy.of(tenant.credential_policy)
    if policy.default_rate_limit is None or policy.default_rate_period is None:
        return None
    return RateLimit(policy.default_rate_limit, policy.default_rate_period)


def _check_owner_may_hold(owner: User | None, granted: list[Permission]) -> None:
    refused = [p.name for p in granted if owner and not role_can_grant(owner.role, p.name)]
    if owner and refused:
        raise InvalidInputError(
            f"a personal key of a {owner.role} cannot carry permission '{refused[0]}'"
        )


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
