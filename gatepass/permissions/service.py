"""The permission catalog of a tenant."""

from __future__ import annotations

import re
from collections.abc import Iterable

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from gatepass import text
from gatepass.audit.service import Actor, record_change
from gatepass.changes import feed
from gatepass.credential_secrets import mask
from gatepass.errors import ConflictError, ForbiddenError, InvalidInputError, NotFoundError
from gatepass.permissions.models import Permission
from gatepass.tenants.models import Tenant
from gatepass.users.roles import ungrantable

# A scope token (RFC 6749 §3.3) restricted to characters that read well in URLs and shells.
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:/-]{0,99}\Z")
OPENID_SCOPES = frozenset({"openid", "profile", "email"})
MAX_LABEL = 200
# The permissions of Gatepass itself (verify API keys, read or manage credentials, administer
# the tenant), as against the product's own: every tenant has them built in.
MANAGEMENT = Permission.builtin.is_(True)


def create_permission(
    session: Session,
    tenant: Tenant,
    *,
    name: str,
    label: str | None,
    description: str,
    available: bool,
    unavailable_reason: str = "",
    actor: Actor,
) -> Permission:
    if not NAME.match(name) or name in OPENID_SCOPES:
        raise InvalidInputError(
            f"invalid permission name '{mask(name)}': use letters, digits and _ . : / -"
            " (openid, profile and email are reserved)"
        )
    if label is not None and len(label.strip()) > MAX_LABEL:
        raise InvalidInputError(f"label must be at most {MAX_LABEL} characters")
    if _find(session, tenant.id, name) is not None:
        raise ConflictError(f"permission '{name}' already exists in tenant '{tenant.slug}'")
    permission = Permission(
        tenant_id=tenant.id,
        name=name,
        label=(label or name).strip(),
        description=description.strip(),
        available=available,
        unavailable_reason="" if available else (unavailable_reason or "Not available"),
    )
    session.add(permission)
    session.flush()
    feed.publish(session, tenant.id, feed.KIND_TENANT)
    record_change(
        session, tenant.id, actor, "permission.create", name, details={"available": available}
    )
    return permission


def set_availability(
    session: Session, tenant: Tenant, name: str, *, available: bool, reason: str, actor: Actor
) -> Permission:
    permission = get_permission(session, tenant, name)
    if permission.builtin and not available:
        raise InvalidInputError(f"built-in permission '{name}' is always available")
    permission.available = available
    permission.unavailable_reason = "" if available else (reason or "Not available")
    feed.publish(session, tenant.id, feed.KIND_TENANT)
    record_change(
        session, tenant.id, actor, "permission.update", name, details={"available": available}
    )
    return permission


def get_permission(session: Session, tenant: Tenant, name: str) -> Permission:
    permission = _find(session, tenant.id, name)
    if permission is None:
        raise NotFoundError(f"permission '{mask(name)}' does not exist in tenant '{tenant.slug}'")
    return permission


def list_permissions(session: Session, tenant: Tenant) -> list[Permission]:
    return list(session.scalars(catalog_query(tenant).order_by(Permission.id)))


def catalog_query(tenant: Tenant) -> Select[Permission]:
    return select(Permission).where(Permission.tenant_id == tenant.id)


def update_permission(
    session: Session,
    tenant: Tenant,
    name: str,
    *,
    label: str | None,
    description: str | None,
    actor: Actor,
) -> Permission:
    """Change how a permission reads in the console; its name (the scope) never changes."""
    permission = get_permission(session, tenant, name)
    changes: dict[str, str] = {}
    if label is not None:
        if not label.strip() or len(label) > 200:
            raise InvalidInputError("label must be 1-200 characters")
        permission.label = changes["label"] = label.strip()
    if description is not None:
        permission.description = changes["description"] = text.description(description)
    record_change(session, tenant.id, actor, "permission.update", name, details=changes)
    return permission


def resolve_grantable(
    session: Session, tenant: Tenant, names: list[str], *, actor: Actor
) -> list[Permission]:
    """The permissions named: each must exist, be available, and be the actor's to grant."""
    wanted = list(dict.fromkeys(names))
    found = {
        p.name: p
        for p in session.scalars(
            select(Permission).where(Permission.tenant_id == tenant.id, Permission.name.in_(wanted))
        )
    }
    for name in wanted:
        permission = found.get(name)
        if permission is None:
            raise InvalidInputError(f"unknown permission '{mask(name)}'")
        if not permission.available:
            raise InvalidInputError(
                f"permission '{name}' cannot be granted: {permission.unavailable_reason}"
            )
    check_may_reveal(actor, wanted)
    return [found[name] for name in wanted]


def check_may_reveal(actor: Actor, permission_names: Iterable[str]) -> None:
    """Refuse to show ``actor`` the secret of a credential holding ``permission_names`` unless
    their role could grant every one of them (the operator at the CLI always may).

    The one rule for every way a secret appears: creating a credential, rotating or regenerating
    its secret, emailing it, and replaying a stored answer that holds it.
    """
    refused = ungrantable(actor.role, permission_names)
    if refused:
        raise ForbiddenError(
            f"a {actor.role} cannot grant permission '{mask(refused[0])}', so may not create a"
            " credential that holds it or see its secret"
        )


def _find(session: Session, tenant_id: int, name: str) -> Permission | None:
    return session.scalar(
        select(Permission).where(Permission.tenant_id == tenant_id, Permission.name == name)
    )
