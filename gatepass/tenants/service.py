"""Creating, finding and configuring tenants."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gatepass.audit.service import Actor, record
from gatepass.changes import feed
from gatepass.errors import ConflictError, InvalidInputError, NotFoundError
from gatepass.permissions.models import Permission
from gatepass.signing_keys import service as signing_keys
from gatepass.signing_keys.material import ALGORITHMS, KeyCipher
from gatepass.tenants.models import Tenant
from gatepass.text import check_plain

SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\Z")
MIN_LIFETIME, MAX_LIFETIME = 30, 86400

BUILTIN_PERMISSIONS = (
    ("api_keys:verify", "Verify API keys", "Call the API-key verify endpoint."),
    (
        "credentials:read",
        "Read API credentials",
        "Read credentials and the audit log through the management API.",
    ),
    (
        "credentials:manage",
        "Manage API credentials",
        "Manage credentials through the management API.",
    ),
    (
        "tenant:admin",
        "Administer the tenant",
        "Everything, including users and tenant settings, through the management API.",
    ),
)


@dataclass(frozen=True)
class TenantSettings:
    """Changes to a tenant's token settings; ``None`` leaves a value as it is."""

    name: str | None = None
    token_lifetime: int | None = None
    audience: str | None = None
    allowed_audiences: tuple[str, ...] | None = None
    signing_alg: str | None = None


def create_tenant(
    session: Session,
    *,
    slug: str,
    name: str | None,
    actor: Actor,
    cipher: KeyCipher,
    audience: str | None = None,
    signing_alg: str = "ES256",
    token_lifetime: int = 600,
) -> Tenant:
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
    _check_alg(signing_alg)
    tenant = Tenant(
        slug=slug,
        name=name or slug,
        audience=audience,
        allowed_audiences=[audience],
        signing_alg=signing_alg,
        token_lifetime=token_lifetime,
    )
    session.add(tenant)
    session.flush()
    for perm_name, label, description in BUILTIN_PERMISSIONS:
        session.add(
            Permission(
                tenant_id=tenant.id,
                name=perm_name,
                label=label,
                description=description,
                builtin=True,
            )
        )
    signing_keys.create_keys(session, tenant, cipher)
    feed.publish(session, tenant.id, feed.KIND_TENANT)  # drops "no such realm" cache entries
    record(
        session,
        tenant_id=tenant.id,
        actor=actor,
        action="tenant.create",
        target_type="tenant",
        target=slug,
    )
    return tenant


def get_tenant(session: Session, slug: str) -> Tenant:
    tenant = session.scalar(select(Tenant).where(Tenant.slug == slug))
    if tenant is None:
        raise NotFoundError(f"tenant '{slug}' does not exist")
    return tenant


def list_tenants(session: Session) -> list[Tenant]:
    return list(session.scalars(select(Tenant).order_by(Tenant.slug)))


def count_tenants(session: Session) -> int:
    return session.scalar(select(func.count(Tenant.id))) or 0


def update_settings(
    session: Session, tenant: Tenant, changes: TenantSettings, *, actor: Actor, cipher: KeyCipher
) -> Tenant:
    if changes.name is not None:
        tenant.name = check_plain(changes.name, "tenant name").strip() or tenant.name
    if changes.token_lifetime is not None:
        if not MIN_LIFETIME <= changes.token_lifetime <= MAX_LIFETIME:
            raise InvalidInputError(f"token lifetime must be {MIN_LIFETIME}-{MAX_LIFETIME} seconds")
        tenant.token_lifetime = changes.token_lifetime
    _apply_audiences(tenant, changes)
    rotate = changes.signing_alg is not None and changes.signing_alg != tenant.signing_alg
    if changes.signing_alg is not None:
        _check_alg(changes.signing_alg)
        tenant.signing_alg = changes.signing_alg
    feed.publish(session, tenant.id, feed.KIND_TENANT)
    record(
        session,
        tenant_id=tenant.id,
        actor=actor,
        action="tenant.update",
        target_type="tenant",
        target=tenant.slug,
        details={k: v for k, v in vars(changes).items() if v is not None},
    )
    if rotate:
        signing_keys.rotate(session, tenant, cipher, actor=actor)
    return tenant


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


def _check_alg(alg: str) -> None:
    if alg not in ALGORITHMS:
        raise InvalidInputError(f"signing algorithm must be one of {', '.join(ALGORITHMS)}")
