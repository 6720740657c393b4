"""A tenant's permissions as the console's pages show them: by label, the product's own apart
from Gatepass's management permissions (verify API keys, read or manage credentials, administer
the tenant), which a page marks so that nobody takes one for an API of the product."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from gatepass.credentials import lifecycle, revoking
from gatepass.permissions import service as permissions
from gatepass.permissions.models import Permission
from gatepass.tenants.models import Tenant


@dataclass(frozen=True)
class Shown:
    """One permission a credential holds: ``label`` to read, ``name`` (the scope) on hover."""

    name: str
    label: str
    management: bool


@dataclass(frozen=True)
class Catalog:
    """The tenant's permissions by name."""

    by_name: dict[str, Shown]

    @classmethod
    def of(cls, listed: Iterable[Permission]) -> Catalog:
        return cls({p.name: Shown(p.name, p.label, p.builtin) for p in listed})

    def shown(self, scopes: Iterable[str]) -> list[Shown]:
        """``scopes`` by label, the product's first and the management ones after; a scope no
        longer in the catalog shows as its name."""
        found = [self.by_name.get(s, Shown(s, s, False)) for s in scopes]
        return [p for p in found if not p.management] + [p for p in found if p.management]


@dataclass(frozen=True)
class RevokeAll:
    """What "Revoke all" would revoke now: every active or suspended credential (``every``), or
    all but the management ones (``kept``), as the dialog's checkbox says."""

    every: int
    kept: int


def load(session: Session, tenant: Tenant) -> Catalog:
    return Catalog.of(permissions.list_permissions(session, tenant))


def revoke_all(session: Session, tenant: Tenant, kind: lifecycle.Kind[Any]) -> RevokeAll:
    count = revoking.count_revocable
    return RevokeAll(
        every=count(session, tenant, kind),
        kept=count(session, tenant, kind, keep_management=True),
    )
