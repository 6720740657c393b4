"""The one lifecycle of every credential kind: create, rotate, suspend, resume, revoke, revoke
all, delete, find, list (editing is in ``credentials.editing``).

Each function runs inside the caller's transaction, writes its audit event there, and publishes
a change so that every process drops the credential from its cache (at once with Redis, within
a poll interval without). What differs between an OAuth client and an API key is said by its
``Kind`` (``clients.kind.CLIENT``, ``apikeys.kind.API_KEY``), never by a second copy of a rule.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Generic, Protocol, TypeVar

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.orm.interfaces import LoaderOption

from gatepass import credential_secrets as cs
from gatepass.audit.service import Actor, record
from gatepass.changes import feed
from gatepass.credentials import policy as policies
from gatepass.credentials import rules
from gatepass.credentials.columns import CredentialColumns
from gatepass.db import utcnow
from gatepass.errors import ConflictError, InvalidInputError, NotFoundError
from gatepass.groups import service as groups
from gatepass.groups.models import ClientGroup
from gatepass.pagination import Page, PageRequest, fetch
from gatepass.permissions import service as permissions
from gatepass.permissions.models import Permission
from gatepass.permissions.service import check_may_reveal
from gatepass.tenants.models import Tenant
from gatepass.webhooks import outbox
from gatepass.webhooks.events import BY_ACTION

MAX_GRACE = timedelta(days=30)
STATUSES = ("active", "expired", "suspended", "revoked")
# What a credential's ``status`` column holds: ``suspended`` is reversible (``resume``),
# ``revoked`` is final. ``expired`` (and a kind's own, e.g. ``disabled``) are derived.
REVOCABLE = ("active", "suspended")


class SecretVersion(Protocol):
    expires_at: datetime | None


C = TypeVar("C", bound=CredentialColumns)


@dataclass(frozen=True)
class Kind(Generic[C]):
    """One kind of credential, as the lifecycle sees it."""

    label: str  # in messages: "client", "API key"
    plural: str  # "OAuth clients", "API keys"
    target_type: str  # in audit records: "oauth_client", "api_key"
    audit: str  # audit action prefix: "client", "apikey"
    rotate_action: str  # "rotate_secret", "regenerate"
    rotate_words: str  # "rotate its secret", "regenerate it"
    feed_kind: str
    secret_kind: cs.SecretKind
    model: type[C]
    ref: str  # the column users name it by: "client_id", "key_id"
    # the relationships loaded with a credential, beyond permissions, groups and secrets
    loads: tuple[str, ...] = ()
    # a reason a credential that is not revoked or expired still does not work (or None)
    inactive: Callable[[C], str | None] = lambda row: None
    # the SQL for the statuses ``inactive`` adds to STATUSES, and for the others if they change
    status_sql: Callable[[str, datetime], ColumnElement[bool] | None] = lambda status, now: None
    statuses: tuple[str, ...] = STATUSES
    # refuses to show ``actor`` a new secret of the credential (beyond the permission rule)
    check_reveal: Callable[[Actor, C], None] = lambda actor, row: None
    # what the audit record of its creation says beyond name, scopes and groups
    create_details: Callable[[C], dict[str, Any]] = lambda row: {}

    def ref_of(self, row: C) -> str:
        return str(getattr(row, self.ref))

    def ref_column(self) -> Any:
        return getattr(self.model, self.ref)

    def eager(self) -> tuple[LoaderOption, ...]:
        names = ("permissions", "groups", "secrets", *self.loads)
        return tuple(selectinload(getattr(self.model, name)) for name in names)

    def new_secret(self, **columns: Any) -> Any:
        """A secret version of this kind (the model its ``secrets`` relationship holds)."""
        model: Any = self.model
        return model.secrets.property.mapper.class_(**columns)


@dataclass(frozen=True)
class CredentialFilter:
    """Narrows a listing; every field given must match."""

    status: str | None = None  # one of the kind's statuses
    name: str | None = None  # part of the name, any case
    created_by: str | None = None
    permission: str | None = None
    group: str | None = None
    # dormant since: last used before it, or never used and created before it
    last_used_before: datetime | None = None
    extra: Sequence[ColumnElement[bool]] = field(default_factory=tuple)  # the kind's own filters


@dataclass(frozen=True)
class NewCredential:
    """What every new credential is given; each kind's spec adds its own fields."""

    name: str
    description: str = ""
    scopes: list[str] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)
    expires_at: datetime | None = None
    allowed_ips: list[str] = field(default_factory=list)  # CIDR ranges; none: anywhere


def create(
    session: Session,
    tenant: Tenant,
    kind: Kind[C],
    spec: NewCredential,
    *,
    actor: Actor,
    hasher: cs.SecretHasher,
    own: Callable[[], dict[str, Any]],
    check_granted: Callable[[list[Permission]], None] = lambda granted: None,
    with_secret: bool = True,
) -> tuple[C, cs.Plaintext | None]:
    """Check ``spec``, make a credential of ``kind`` with its first secret, publish and audit it.

    After the fields every kind shares are checked, ``own()`` checks the kind's own and returns
    its columns; ``check_granted`` may refuse the permissions ``actor`` may grant. Without
    ``with_secret`` (a client with public keys) it has no secret, and none is returned.
    """
    name = rules.name(spec.name)
    description = rules.description(spec.description)
    if spec.expires_at is not None and spec.expires_at <= utcnow():
        raise InvalidInputError("expiry must be in the future")
    policy = policies.CredentialPolicy.of(tenant.credential_policy)
    allowed_ips = rules.allowlist(policies.default_allowlist(policy, spec.allowed_ips))
    policies.check(policy, expires_at=spec.expires_at, allowed_ips=allowed_ips, now=utcnow())
    columns = own()
    granted = permissions.resolve_grantable(session, tenant, spec.scopes, actor=actor)
    check_granted(granted)
    model: Any = kind.model
    row: C = model(
        tenant_id=tenant.id,
        name=name,
        description=description,
        created_by=actor.label,
        expires_at=spec.expires_at,
        permissions=granted,
        groups=groups.resolve(session, tenant, spec.groups),
        allowed_ips=allowed_ips,
        **columns,
    )
    secret = add_secret(kind, row, hasher) if with_secret else None
    details = {"name": name, "scopes": spec.scopes, "groups": spec.groups}
    if allowed_ips:
        details["allowed_ips"] = allowed_ips.split()
    details.update(kind.create_details(row))
    session.add(row)
    session.flush()
    publish_change(session, tenant, kind, kind.ref_of(row))
    record_action(
        session, tenant, kind, action="create", ref=kind.ref_of(row), actor=actor, details=details
    )
    return row, secret


def get(session: Session, tenant: Tenant, kind: Kind[C], ref: str) -> C:
    row = find(session, tenant.id, kind, ref)
    if row is None:
        raise NotFoundError(
            f"{kind.label} '{cs.mask(ref)}' does not exist in tenant '{tenant.slug}'"
        )
    return row


def find(session: Session, tenant_id: int, kind: Kind[C], ref: str) -> C | None:
    return session.scalar(
        select(kind.model)
        .where(kind.model.tenant_id == tenant_id, kind.ref_column() == ref)
        .options(*kind.eager())
    )


def list_all(session: Session, tenant: Tenant, kind: Kind[C]) -> list[C]:
    return list(
        session.scalars(
            select(kind.model)
            .where(kind.model.tenant_id == tenant.id)
            .options(*kind.eager())
            .order_by(kind.model.id)
        )
    )


def search(
    session: Session, tenant: Tenant, kind: Kind[C], where: CredentialFilter, page: PageRequest
) -> Page[C]:
    model: Any = kind.model
    stmt = select(model).where(model.tenant_id == tenant.id).options(*kind.eager())
    if where.status is not None:
        stmt = stmt.where(status_condition(kind, where.status, utcnow()))
    if where.name:
        stmt = stmt.where(func.lower(model.name).contains(where.name.lower(), autoescape=True))
    if where.created_by is not None:
        stmt = stmt.where(model.created_by == where.created_by)
    if where.permission is not None:
        stmt = stmt.where(model.permissions.any(Permission.name == where.permission))
    if where.group is not None:
        stmt = stmt.where(model.groups.any(ClientGroup.name == where.group))
    if where.last_used_before is not None:
        stmt = stmt.where(unused_since(model, where.last_used_before))
    return fetch(session, stmt.where(*where.extra), model.id, page)


def unused_since(model: Any, when: datetime) -> ColumnElement[bool]:
    """SQL: not used since ``when`` (never used counts from its creation)."""
    return or_(
        model.last_used_at < when,
        and_(model.last_used_at.is_(None), model.created_at < when),
    )


def status_of(kind: Kind[C], row: C, now: datetime | None = None) -> str:
    """``active``, ``revoked``, ``expired`` (or a kind's own, e.g. ``disabled``) as an
    administrator would read it."""
    if row.status != "active":
        return row.status
    reason = kind.inactive(row)
    if reason is not None:
        return reason
    if row.expires_at is not None and row.expires_at <= (now or utcnow()):
        return "expired"
    return "active"


def status_condition(kind: Kind[C], status: str, now: datetime) -> ColumnElement[bool]:
    """SQL for ``status_of(kind, row) == status``."""
    if status not in kind.statuses:
        raise InvalidInputError(f"unknown status '{status}'")
    own = kind.status_sql(status, now)
    if own is not None:
        return own
    model: Any = kind.model
    never_expires = or_(model.expires_at.is_(None), model.expires_at > now)
    if status == "active":
        return and_(model.status == "active", never_expires)
    if status == "expired":
        return and_(model.status == "active", model.expires_at <= now)
    return model.status == status  # type: ignore[no-any-return] # suspended, revoked


def add_secret(kind: Kind[C], row: C, hasher: cs.SecretHasher) -> cs.Plaintext:
    """A new secret version on ``row``; the plaintext is returned once and never stored."""
    secret = cs.generate(kind.secret_kind)
    held(row).secrets.append(
        kind.new_secret(digest=hasher.digest(secret), hint=cs.hint(secret), created_at=utcnow())
    )
    return secret


def rotate(
    session: Session,
    tenant: Tenant,
    kind: Kind[C],
    ref: str,
    *,
    grace: timedelta | None,
    actor: Actor,
    hasher: cs.SecretHasher,
) -> tuple[C, cs.Plaintext]:
    """Issue a new secret; older secrets keep working for ``grace`` (or stop at once).

    The new secret is shown to ``actor``, so only to one who could grant all the credential
    holds (and who passes the kind's own check: a personal key's owner only). A suspended
    credential may be rotated (suspend, rotate, resume is how a suspected leak is handled).
    """
    row = get(session, tenant, kind, ref)
    kind.check_reveal(actor, row)
    check_may_reveal(actor, (p.name for p in held(row).permissions))
    if row.status not in REVOCABLE:
        raise InvalidInputError(f"{kind.label} '{ref}' is {row.status}: cannot {kind.rotate_words}")
    policy = policies.CredentialPolicy.of(tenant.credential_policy)
    policies.check(policy, expires_at=row.expires_at, allowed_ips=row.allowed_ips, now=utcnow())
    end_secrets(held(row).secrets, grace)
    secret = add_secret(kind, row, hasher)
    publish_change(session, tenant, kind, ref)
    record_action(
        session,
        tenant,
        kind,
        action=kind.rotate_action,
        ref=ref,
        actor=actor,
        details=grace_details(grace),
    )
    return row, secret


def suspend(session: Session, tenant: Tenant, kind: Kind[C], ref: str, *, actor: Actor) -> C:
    """Stop a credential until it is resumed: its secrets, its tokens (at introspection and
    the gateway check) and its key stop working in every process, as on revocation."""
    return _set_status(session, tenant, kind, ref, actor=actor, to="suspended", came="active")


def resume(session: Session, tenant: Tenant, kind: Kind[C], ref: str, *, actor: Actor) -> C:
    """Undo ``suspend``; an expired credential stays expired."""
    return _set_status(session, tenant, kind, ref, actor=actor, to="active", came="suspended")


def _set_status(
    session: Session, tenant: Tenant, kind: Kind[C], ref: str, *, actor: Actor, to: str, came: str
) -> C:
    """Move ``came`` to ``to``; a credential already ``to`` is left as it is (a retry)."""
    row = get(session, tenant, kind, ref)
    if row.status == to:
        return row
    if row.status != came:
        action = "suspend" if to == "suspended" else "resume"
        raise ConflictError(f"{kind.label} '{ref}' is {row.status}: cannot {action} it")
    row.status = to
    publish_change(session, tenant, kind, ref)
    record_action(
        session,
        tenant,
        kind,
        action="suspend" if to == "suspended" else "resume",
        ref=ref,
        actor=actor,
    )
    return row


def revoke(session: Session, tenant: Tenant, kind: Kind[C], ref: str, *, actor: Actor) -> C:
    row = get(session, tenant, kind, ref)
    if row.status != "revoked":
        row.status, row.revoked_at = "revoked", utcnow()
        publish_change(session, tenant, kind, ref)
        record_action(session, tenant, kind, action="revoke", ref=ref, actor=actor)
    return row


def delete(session: Session, tenant: Tenant, kind: Kind[C], ref: str, *, actor: Actor) -> None:
    row = get(session, tenant, kind, ref)
    session.delete(row)
    publish_change(session, tenant, kind, ref)
    record_action(
        session, tenant, kind, action="delete", ref=ref, actor=actor, details={"name": row.name}
    )


def end_secrets(versions: Iterable[SecretVersion], grace: timedelta | None) -> None:
    """Older secrets stop now, or when ``grace`` runs out; an earlier end is kept."""
    if grace is not None and not timedelta(0) <= grace <= MAX_GRACE:
        raise InvalidInputError("grace period must be between 0 and 30 days")
    ends = utcnow() + (grace or timedelta(0))
    for version in versions:
        if version.expires_at is None or version.expires_at > ends:
            version.expires_at = ends


def grace_details(grace: timedelta | None) -> dict[str, int]:
    return {"grace_seconds": int(grace.total_seconds()) if grace else 0}


def held(row: CredentialColumns) -> Any:
    """The row with what each kind's model maps on its own (permissions, groups, secrets)."""
    return row


def publish_change(session: Session, tenant: Tenant, kind: Kind[C], ref: str) -> None:
    feed.publish(session, tenant.id, kind.feed_kind, ref)


def record_action(
    session: Session,
    tenant: Tenant,
    kind: Kind[C],
    *,
    action: str,
    ref: str,
    actor: Actor,
    details: Any = None,
) -> None:
    record(
        session,
        tenant_id=tenant.id,
        actor=actor,
        action=f"{kind.audit}.{action}",
        target_type=kind.target_type,
        target=ref,
        details=details,
    )
    event = BY_ACTION.get(action)
    if event is not None:  # and its webhooks, in the same transaction
        model: Any = kind.model
        stored = select(model.name).where(model.tenant_id == tenant.id, kind.ref_column() == ref)
        outbox.announce(
            session,
            tenant.id,
            event,
            subject=(kind.target_type, ref, stored),
            actor=actor,
            details=details or {},
        )
