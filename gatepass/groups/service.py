"""Client groups of a tenant."""

from __future__ import annotations

import re

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from gatepass.audit.service import Actor, record_change
from gatepass.credential_secrets import mask
from gatepass.errors import ConflictError, InvalidInputError
from gatepass.groups.models import ClientGroup
from gatepass.tenants.models import Tenant

NAME = re.compile(r"^[\w][\w .:/-]{0,99}\Z")


def create_group(session: Session, tenant: Tenant, *, name: str, actor: Actor) -> ClientGroup:
    name = name.strip()
    if not NAME.match(name):
        raise InvalidInputError(f"invalid group name '{mask(name)}'")
    if _find(session, tenant.id, [name]):
        raise ConflictError(f"group '{name}' already exists in tenant '{tenant.slug}'")
    group = ClientGroup(tenant_id=tenant.id, name=name)
    session.add(group)
    session.flush()
    record_change(session, tenant.id, actor, "group.create", name)
    return group


def list_groups(session: Session, tenant: Tenant) -> list[ClientGroup]:
    return list(session.scalars(groups_query(tenant).order_by(ClientGroup.name)))


def groups_query(tenant: Tenant) -> Select[ClientGroup]:
    return select(ClientGroup).where(ClientGroup.tenant_id == tenant.id)


def resolve(session: Session, tenant: Tenant, names: list[str]) -> list[ClientGroup]:
    wanted = list(dict.fromkeys(n.strip() for n in names))
    found = {g.name: g for g in _find(session, tenant.id, wanted)}
    missing = [n for n in wanted if n not in found]
    if missing:
        raise InvalidInputError(f"unknown client group '{mask(missing[0])}'")
    return [found[n] for n in wanted]


def _find(session: Session, tenant_id: int, names: list[str]) -> list[ClientGroup]:
    return list(
        session.scalars(
            select(ClientGroup).where(
                ClientGroup.tenant_id == tenant_id, ClientGroup.name.in_(names)
            )
        )
    )
