"""Console users: creation with an argon2id password hash."""

from __future__ import annotations

import re
from dataclasses import dataclass

from argon2 import PasswordHasher
from sqlalchemy import select
from sqlalchemy.orm import Session

from gatepass.audit.service import Actor, record_change
from gatepass.credential_secrets import mask
from gatepass.errors import ConflictError, InvalidInputError, NotFoundError
from gatepass.pagination import Page, PageRequest, fetch
from gatepass.tenants.models import Tenant
from gatepass.text import check_plain
from gatepass.users.models import ROLES, User
from gatepass.users.passwords import MAX_PASSWORD, hash_password

EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,255}\.[^@\s]{2,}\Z")
MIN_PASSWORD = 12
MAX_EMAIL = 320
MAX_NAME = 200


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
    # Checked before anything is hashed or stored: a NUL would fail in the database, with
    # the new password's hash among the statement's parameters.
    check_plain(email, "an email address")
    check_plain(display_name, "display name")
    if len(email) > MAX_EMAIL or not EMAIL.match(email):
        raise InvalidInputError(f"invalid email address '{mask(email[:MAX_EMAIL])}'")
    if len(display_name.strip()) > MAX_NAME:
        raise InvalidInputError(f"display name must be at most {MAX_NAME} characters")
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
        password_hash=hasher.hash(password) if hasher else hash_password(password),
    )
    session.add(user)
    session.flush()
    record_change(session, tenant.id, actor, "user.create", email, details={"role": role})
    return user


@dataclass(frozen=True)
class UserFilter:
    status: str | None = None  # active or disabled
    role: str | None = None
    email: str | None = None  # part of the address, any case


def search_users(
    session: Session, tenant: Tenant, where: UserFilter, page: PageRequest
) -> Page[User]:
    stmt = select(User).where(User.tenant_id == tenant.id)
    if where.status is not None:
        stmt = stmt.where(User.status == where.status)
    if where.role is not None:
        stmt = stmt.where(User.role == where.role)
    if where.email:
        stmt = stmt.where(User.email.contains(where.email.strip().lower(), autoescape=True))
    return fetch(session, stmt, User.id, page)


def get_user_by_id(session: Session, tenant: Tenant, user_id: int) -> User:
    user = session.scalar(select(User).where(User.tenant_id == tenant.id, User.id == user_id))
    if user is None:
        raise NotFoundError(f"user {user_id} does not exist in tenant '{tenant.slug}'")
    return user


def set_display_name(
    session: Session, tenant: Tenant, user: User, name: str, *, actor: Actor
) -> User:
    name = check_plain(name, "display name").strip()
    if len(name) > 200:
        raise InvalidInputError("display name must be at most 200 characters")
    user.display_name = name
    record_change(
        session, tenant.id, actor, "user.update", user.email, details={"display_name": name}
    )
    return user


def list_users(session: Session, tenant: Tenant) -> list[User]:
    return list(session.scalars(select(User).where(User.tenant_id == tenant.id).order_by(User.id)))


def get_user(session: Session, tenant: Tenant, email: str) -> User:
    user = session.scalar(
        select(User).where(User.tenant_id == tenant.id, User.email == email.strip().lower())
    )
    if user is None:
        raise NotFoundError(f"user '{mask(email)}' does not exist in tenant '{tenant.slug}'")
    return user
