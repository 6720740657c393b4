"""Roles, what each may do, and which permissions each may hand out.

Three roles per tenant, for people and for automation alike:

- ``admin``: everything, including users, the permission catalog and tenant settings;
- ``credentials_manager`` ("Manage API credentials"): create, regenerate, rotate, revoke and
  delete credentials, and read everything a viewer reads;
- ``viewer``: read-only.

A console user has a role. An OAuth client acting on the management API gets the role its
access token's scopes name (``tenant:admin``, ``credentials:manage``, ``credentials:read``).

Nobody hands out more than they hold: only an admin may grant ``tenant:admin``, and a personal
API key never carries a permission its owner's role could not grant (viewers: none).

Seeing a secret is holding the credential: whoever reads a new client secret or API key can act
with every permission of that credential. So creating, rotating or regenerating a credential (each
shows its secret) is for a role that could grant every permission the credential holds.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import Enum

ROLES = ("admin", "credentials_manager", "viewer")

ADMIN_SCOPE = "tenant:admin"
MANAGE_SCOPE = "credentials:manage"
READ_SCOPE = "credentials:read"

# The role a management-API token acts with, strongest scope first.
SCOPE_ROLES = (
    (ADMIN_SCOPE, "admin"),
    (MANAGE_SCOPE, "credentials_manager"),
    (READ_SCOPE, "viewer"),
)


class Capability(Enum):
    """What a route needs; each role holds a set of these."""

    READ = "read"  # credentials, catalog, groups, settings, audit log
    MANAGE = "manage"  # the lifecycle of OAuth clients and API keys
    ADMINISTER = "administer"  # users, catalog, groups, tenant settings


CAPABILITIES = {
    "admin": frozenset(Capability),
    "credentials_manager": frozenset({Capability.READ, Capability.MANAGE}),
    "viewer": frozenset({Capability.READ}),
}


def role_has(role: str, capability: Capability) -> bool:
    return capability in CAPABILITIES.get(role, frozenset())


def role_for_scopes(scopes: tuple[str, ...] | list[str]) -> str | None:
    """The role of a management-API token with these scopes, or ``None`` if it has none."""
    for scope, role in SCOPE_ROLES:
        if scope in scopes:
            return role
    return None


def role_can_grant(role: str, permission: str) -> bool:
    if role == "admin":
        return True
    if role == "credentials_manager":
        return permission != ADMIN_SCOPE
    return False


def ungrantable(role: str | None, permissions: Iterable[str]) -> list[str]:
    """The permissions ``role`` may not grant, in order; none for the operator (``None``)."""
    if role is None:
        return []
    return [p for p in permissions if not role_can_grant(role, p)]


def ceiling(role: str, scopes: tuple[str, ...]) -> tuple[str, ...]:
    """The part of ``scopes`` that an owner with ``role`` may hold right now."""
    return tuple(s for s in scopes if role_can_grant(role, s))
