"""Console users: creation with an argon2id password hash."""

from __future__ import annotations

import re
from dataclasses import dataclass

from argon2 import PasswordHasher
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from gatepass.apikeys.models import ApiKey
from gatepass.audit.service import Actor, record
from gatepass.changes import feed
from gatepass.credential_secrets import mask
from gatepass.errors import ConflictError, InvalidInputError, NotFoundError
from gatepass.pagination import Page, PageRequest, fetch
from gatepass.sessions.models import ConsoleSession
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
    record(
        session,
        tenant_id=tenant.id,
        actor=actor,
        action="user.update",
        target_type="user",
        target=user.email,
        details={"display_name": name},
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


def set_status(session: Session, tenant: Tenant, email: str, *, active: bool, actor: Actor) -> User:
    """Disable or enable a user; their personal API keys and sessions follow at once."""
    user = get_user(session, tenant, email)
    if not active:
        _keep_an_admin(session, tenant, user, actor)
        session.execute(delete(ConsoleSession).where(ConsoleSession.user_id == user.id))
    user.status = "active" if active else "disabled"
    _republish_personal_keys(session, tenant, user)
    record(
        session,
        tenant_id=tenant.id,
        actor=actor,
        action="user.enable" if active else "user.disable",
        target_type="user",
        target=user.email,
    )
    return user


def set_role(session: Session, tenant: Tenant, email: str, *, role: str, actor: Actor) -> User:
    if role not in ROLES:
        raise InvalidInputError(f"role must be one of {', '.join(ROLES)}")
    user = get_user(session, tenant, email)
    if role != "admin":
        _keep_an_admin(session, tenant, user, actor)
    user.role = role
    _republish_personal_keys(session, tenant, user)
    record(
        session,
        tenant_id=tenant.id,
        actor=actor,
        action="user.set_role",
        target_type="user",
        target=user.email,
        details={"role": role},
    )
    return user


def _keep_an_admin(session: Session, tenant: Tenant, leaving: User, actor: Actor) -> None:
    """Within a tenant, refuse to disable or demote its last active admin: nobody there could
    undo it. The operator (CLI) is not held back; it can always create another admin."""
    if actor.role is None or leaving.role != "admin" or leaving.status != "active":
        return
    admins = session.scalar(
        select(func.count(User.id)).where(
            User.tenant_id == tenant.id, User.role == "admin", User.status == "active"
        )
    )
    if (admins or 0) <= 1:
        raise ConflictError(f"'{leaving.email}' is the last active admin of tenant '{tenant.slug}'")


def _republish_personal_keys(session: Session, tenant: Tenant, user: User) -> None:
    for key_id in session.scalars(select(ApiKey.key_id).where(ApiKey.owner_id == user.id)):
        feed.publish(session, tenant.id, feed.KIND_APIKEY, key_id)
