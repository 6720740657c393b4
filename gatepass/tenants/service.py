"""Tenants: checking a new one or new settings, and finding them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gatepass.errors import ConflictError, InvalidInputError, NotFoundError
from gatepass.tenants.models import Tenant
from gatepass.text import check_plain

SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\Z")
MIN_LIFETIME, MAX_LIFETIME = 30, 86400
MIN_EXCHANGE_LIFETIME, MAX_EXCHANGE_LIFETIME = 30, 3600  # of a token got by token exchange


@dataclass(frozen=True)
class TenantSettings:
    """Changes to a tenant's token settings; ``None`` leaves a value as it is."""

    name: str | None = None
    token_lifetime: int | None = None
    audience: str | None = None
    allowed_audiences: tuple[str, ...] | None = None
    signing_alg: str | None = None
    # the new credential policy, replacing the old (``credentials.policy``; ``provisioning``
    # checks it)
    credential_policy: dict[str, Any] | None = None
    # the external issuers to trust, replacing the list (``gatepass.federation``; checked by
    # ``provisioning``, which knows where keys may be fetched from)
    trusted_issuers: list[Any] | None = None
    require_dpop_nonce: bool | None = None  # DPoP proofs must carry a server nonce
    # token exchange: the longest an exchanged token lives (seconds), or 0 to turn exchange off
    token_exchange_lifetime: int | None = None


def new_tenant(
    session: Session,
    *,
    slug: str,
    name: str | None,
    audience: str | None,
    signing_alg: str,
    token_lifetime: int,
) -> Tenant:
    """The tenant row alone, checked but not added (``provisioning`` checks the algorithm)."""
    if not SLUG.match(slug):
        raise InvalidInputError(
            "tenant slug must be 1-63 lowercase letters, digits or '-', not starting or ending"
            " with '-'"
        )
    check_plain(name or "", "tenant name")
    if session.scalar(select(Tenant.id).where(Tenant.slug == slug)) is not None:
        raise ConflictError(f"tenant '{slug}' already exists")
    audience = audience or f"api://{slug}"
    _check_audience(audience)
    return Tenant(
        slug=slug,
        name=name or slug,
        audience=audience,
        allowed_audiences=[audience],
        signing_alg=signing_alg,
        token_lifetime=token_lifetime,
    )


def get_tenant(session: Session, slug: str) -> Tenant:
    tenant = session.scalar(select(Tenant).where(Tenant.slug == slug))
    if tenant is None:
        raise NotFoundError(f"tenant '{slug}' does not exist")
    return tenant


def list_tenants(session: Session) -> list[Tenant]:
    return list(session.scalars(select(Tenant).order_by(Tenant.slug)))


def count_tenants(session: Session) -> int:
    return session.scalar(select(func.count(Tenant.id))) or 0


def apply_settings(tenant: Tenant, changes: TenantSettings) -> None:
    """Check and apply new token settings but the algorithm (``provisioning`` rotates keys)."""
    if changes.name is not None:
        tenant.name = check_plain(changes.name, "tenant name").strip() or tenant.name
    if changes.token_lifetime is not None:
        if not MIN_LIFETIME <= changes.token_lifetime <= MAX_LIFETIME:
            raise InvalidInputError(f"token lifetime must be {MIN_LIFETIME}-{MAX_LIFETIME} seconds")
        tenant.token_lifetime = changes.token_lifetime
    if changes.require_dpop_nonce is not None:
        tenant.require_dpop_nonce = changes.require_dpop_nonce
    if changes.token_exchange_lifetime is not None:
        tenant.token_exchange_lifetime = _exchange_lifetime(changes.token_exchange_lifetime)
    _apply_audiences(tenant, changes)


def _exchange_lifetime(seconds: int) -> int | None:
    if seconds == 0:
        return None
    if not MIN_EXCHANGE_LIFETIME <= seconds <= MAX_EXCHANGE_LIFETIME:
        raise InvalidInputError(
            f"an exchanged token's lifetime must be {MIN_EXCHANGE_LIFETIME}-"
            f"{MAX_EXCHANGE_LIFETIME} seconds (0 turns token exchange off)"
        )
    return seconds


def _apply_audiences(tenant: Tenant, changes: TenantSettings) -> None:
    allowed = list(changes.allowed_audiences or tenant.allowed_audiences)
    audience = changes.audience or tenant.audience
    for value in [audience, *allowed]:
        _check_audience(value)
    if audience not in allowed:
        allowed.insert(0, audience)
    tenant.audience = audience
    tenant.allowed_audiences = allowed


def _check_audience(value: str) -> None:
    try:
        parts = urlsplit(value)
    except ValueError:  # e.g. an unbalanced '[' in the host
        raise InvalidInputError(f"audience '{value}' is not a valid URI") from None
    if not parts.scheme or parts.fragment or len(value) > 500 or " " in value:
        raise InvalidInputError(f"audience '{value}' must be an absolute URI without a fragment")
