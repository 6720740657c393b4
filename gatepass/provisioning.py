"""Changes that reach across domain packages, so they sit above them all.

A new tenant gets its built-in permissions and first signing keys; new token settings with a new
algorithm rotate the keys; a user's new role or status reaches their personal API keys at once,
and a disabled user's console sessions end. Each function works in the caller's transaction,
which commits the change, its change-feed rows and its audit record together.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from gatepass.apikeys.models import ApiKey
from gatepass.audit.service import Actor, record_change
from gatepass.changes import feed
from gatepass.clients import federation
from gatepass.credentials.policy import CredentialPolicy
from gatepass.destinations import Rules
from gatepass.errors import ConflictError, InvalidInputError
from gatepass.permissions.models import Permission
from gatepass.sessions.models import ConsoleSession
from gatepass.signing_keys import service as signing_keys
from gatepass.signing_keys.material import ALGORITHMS, KeyCipher
from gatepass.tenants import service as tenants
from gatepass.tenants.models import Tenant
from gatepass.tenants.service import TenantSettings
from gatepass.users import service as users
from gatepass.users.models import ROLES, User

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
    tenant = tenants.new_tenant(
        session,
        slug=slug,
        name=name,
        audience=audience,
        signing_alg=signing_alg,
        token_lifetime=token_lifetime,
    )
    _check_alg(signing_alg)
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
    record_change(session, tenant.id, actor, "tenant.create", slug)
    return tenant


STRICT_KEYS = Rules()  # https to public addresses only


def update_settings(
    session: Session,
    tenant: Tenant,
    changes: TenantSettings,
    *,
    actor: Actor,
    cipher: KeyCipher,
    key_rules: Rules = STRICT_KEYS,
) -> Tenant:
    """Apply new settings; ``key_rules``: where a trusted issuer's keys may be fetched from
    (``Rules.for_keys`` of the settings)."""
    tenants.apply_settings(tenant, changes)
    details: dict[str, Any] = {}
    if changes.trusted_issuers is not None:
        tenant.trusted_issuers = federation.checked_issuers(changes.trusted_issuers, key_rules)
        details["trusted_issuers"] = federation.issuers_summary(tenant.trusted_issuers)
    if changes.credential_policy is not None:
        policy = CredentialPolicy.of(changes.credential_policy).checked()
        tenant.credential_policy = policy.stored()
    rotate = changes.signing_alg is not None and changes.signing_alg != tenant.signing_alg
    if changes.signing_alg is not None:
        _check_alg(changes.signing_alg)
        tenant.signing_alg = changes.signing_alg
    feed.publish(session, tenant.id, feed.KIND_TENANT)
    record_change(
        session,
        tenant.id,
        actor,
        "tenant.update",
        tenant.slug,
        details={
            **{k: v for k, v in vars(changes).items() if v is not None},
            **details,
            **(
                {"credential_policy": tenant.credential_policy} if changes.credential_policy else {}
            ),
        },
    )
    if rotate:
        signing_keys.rotate(session, tenant, cipher, actor=actor)
    return tenant


def set_status(session: Session, tenant: Tenant, email: str, *, active: bool, actor: Actor) -> User:
    """Disable or enable a user; their personal API keys and sessions follow at once."""
    user = users.get_user(session, tenant, email)
    if not active:
        _keep_an_admin(session, tenant, user, actor)
        session.execute(delete(ConsoleSession).where(ConsoleSession.user_id == user.id))
    user.status = "active" if active else "disabled"
    _republish_personal_keys(session, tenant, user)
    record_change(
        session, tenant.id, actor, "user.enable" if active else "user.disable", user.email
    )
    return user


def set_role(session: Session, tenant: Tenant, email: str, *, role: str, actor: Actor) -> User:
    if role not in ROLES:
        raise InvalidInputError(f"role must be one of {', '.join(ROLES)}")
    user = users.get_user(session, tenant, email)
    if role != "admin":
        _keep_an_admin(session, tenant, user, actor)
    user.role = role
    _republish_personal_keys(session, tenant, user)
    record_change(session, tenant.id, actor, "user.set_role", user.email, details={"role": role})
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


def _check_alg(alg: str) -> None:
    if alg not in ALGORITHMS:
        raise InvalidInputError(f"signing algorithm must be one of {', '.join(ALGORITHMS)}")
