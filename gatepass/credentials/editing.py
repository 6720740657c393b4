"""Editing a credential, for every kind alike: its name, description, permissions, groups and
expiry here; each kind's own fields (an API key's rate limit) through ``own``.

An edit reaches every process like a revocation does (one change entry); the audit record says
which fields changed and their new values (never a secret: an edit makes none).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from gatepass.audit.service import Actor
from gatepass.credentials import lifecycle, rules
from gatepass.credentials import policy as policies
from gatepass.credentials.columns import CredentialColumns
from gatepass.db import utcnow
from gatepass.errors import ConflictError, InvalidInputError
from gatepass.groups import service as groups
from gatepass.permissions import service as permissions
from gatepass.permissions.models import Permission
from gatepass.tenants.models import Tenant

C = TypeVar("C", bound=CredentialColumns)


@dataclass(frozen=True)
class CredentialChanges:
    """An edit of what every credential shares; ``None`` leaves a field as it is. ``scopes``
    and ``groups`` replace the lists; ``clear_expiry`` removes the expiry."""

    name: str | None = None
    description: str | None = None
    scopes: list[str] | None = None
    groups: list[str] | None = None
    expires_at: datetime | None = None
    clear_expiry: bool = False
    allowed_ips: list[str] | None = None  # replaces the allowlist; [] allows anywhere


def edit(
    session: Session,
    tenant: Tenant,
    kind: lifecycle.Kind[C],
    ref: str,
    changes: CredentialChanges,
    *,
    actor: Actor,
    own: Callable[[C], dict[str, Any]] = lambda row: {},
    check_granted: Callable[[C, list[Permission]], None] = lambda row, granted: None,
) -> C:
    """Apply ``changes`` to a credential that is not revoked; publish and audit what changed.

    A permission the credential already holds may be kept by an editor who could not grant it;
    one it gains must be the editor's to grant (as on create). ``own(row)`` applies the kind's
    own changes and returns them, as ``{field: new value}``, for the audit record.
    """
    row = lifecycle.get(session, tenant, kind, ref)
    if row.status == "revoked":
        raise ConflictError(f"{kind.label} '{ref}' is revoked: it cannot be edited")
    changed = _shared_changes(
        session,
        tenant,
        row,
        changes,
        actor=actor,
        check=lambda granted: check_granted(row, granted),
    )
    changed.update(own(row))
    policy = policies.CredentialPolicy.of(tenant.credential_policy)
    if "expires_at" in changed:
        policies.check_expiry(policy, row.expires_at, utcnow())
    if "allowed_ips" in changed:
        policies.check_allowlist(policy, row.allowed_ips)
    if changed:
        lifecycle.publish_change(session, tenant, kind, ref)
        lifecycle.record_action(
            session, tenant, kind, action="update", ref=ref, actor=actor, details=changed
        )
    return row


def _shared_changes(
    session: Session,
    tenant: Tenant,
    row: CredentialColumns,
    changes: CredentialChanges,
    *,
    actor: Actor,
    check: Callable[[list[Permission]], None],
) -> dict[str, Any]:
    held = lifecycle.held(row)
    changed: dict[str, Any] = {}
    if changes.name is not None and rules.name(changes.name) != row.name:
        row.name = changed["name"] = rules.name(changes.name)
    if changes.description is not None:
        description = rules.description(changes.description)
        if description != row.description:
            row.description, changed["description"] = description, "changed"
    if changes.scopes is not None:
        granted = _regranted(session, tenant, held.permissions, changes.scopes, actor=actor)
        check(granted)
        if {p.name for p in granted} != {p.name for p in held.permissions}:
            held.permissions, changed["scopes"] = granted, sorted(p.name for p in granted)
    if changes.allowed_ips is not None:
        allowed = rules.allowlist(changes.allowed_ips)
        if allowed != row.allowed_ips:
            row.allowed_ips, changed["allowed_ips"] = allowed, allowed.split()
    if changes.groups is not None:
        resolved = groups.resolve(session, tenant, changes.groups)
        if {g.name for g in resolved} != {g.name for g in held.groups}:
            held.groups, changed["groups"] = resolved, sorted(g.name for g in resolved)
    expires_at = None if changes.clear_expiry else (changes.expires_at or row.expires_at)
    if changes.expires_at is not None and changes.expires_at <= utcnow():
        raise InvalidInputError("expiry must be in the future")
    if expires_at != row.expires_at:
        row.expires_at = expires_at
        changed["expires_at"] = expires_at.isoformat() if expires_at else None
    return changed


def _regranted(
    session: Session, tenant: Tenant, held: list[Permission], names: list[str], *, actor: Actor
) -> list[Permission]:
    """The permissions ``names``: those already held as they are, the others checked as
    grantable by ``actor``."""
    kept = {p.name: p for p in held if p.name in names}
    added = [n for n in dict.fromkeys(names) if n not in kept]
    new = {p.name: p for p in permissions.resolve_grantable(session, tenant, added, actor=actor)}
    return [kept.get(n) or new[n] for n in dict.fromkeys(names)]
