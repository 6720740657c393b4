"""What each console role may do with permissions.

A personal API key never carries a permission its owner's role could not grant: admins and
API credentials managers can grant any available permission, viewers none.
"""

from __future__ import annotations

GRANTING_ROLES = frozenset({"admin", "credentials_manager"})


def role_can_grant(role: str, permission: str) -> bool:
    return role in GRANTING_ROLES


def ceiling(role: str, scopes: tuple[str, ...]) -> tuple[str, ...]:
    """The part of ``scopes`` that an owner with ``role`` may hold right now."""
    return tuple(s for s in scopes if role_can_grant(role, s))
