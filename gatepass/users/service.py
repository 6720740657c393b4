"""Console users: creation with an argon2id password hash."""

from __future__ import annotations

import re

from argon2 import PasswordHasher
from sqlalchemy import select
from sqlalchemy.orm import Session

from gatepass.audit.service import Actor, record
from gatepass.errors import ConflictError, InvalidInputError
from gatepass.tenants.models import Tenant
from gatepass.users.models import ROLES, User

EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,255}\.[^@\s]{2,}\Z")
MIN_PASSWORD = 12
MAX_PASSWORD = 1024


def create_user(
    session: Session,
    tenant: Tenant,
    *,
    email: str,
    role: str,
    password: str,
    actor: Actor,
    display_name: str = "",
    hasher: PasswordHasher | None = None,
) -> User:
    email = email.strip().lower()
    if not EMAIL.match(email):
        raise InvalidInputError(f"invalid email address '{email[:100]}'")
    if role not in ROLES:
        raise InvalidInputError(f"role must be one of {', '.join(ROLES)}")
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise InvalidInputError(f"password must be {MIN_PASSWORD}-{MAX_PASSWORD} characters")
    if session.scalar(select(User.id).where(User.tenant_id == tenant.id, User.email == email)):
        raise ConflictError(f"user '{email}' already exists in tenant '{tenant.slug}'")
    user = User(
        tenant_id=tenant.id,
        email=email,
        display_name=display_name.strip(),
        role=role,
        password_hash=(hasher or PasswordHasher()).hash(password),
    )
    session.add(user)
    session.flush()
    record(
        session,
        tenant_id=tenant.id,
        actor=actor,
        action="user.create",
        target_type="user",
        target=email,
        details={"role": role},
    )
    return user


def list_users(session: Session, tenant: Tenant) -> list[User]:
    return list(session.scalars(select(User).where(User.tenant_id == tenant.id).order_by(User.id)))
