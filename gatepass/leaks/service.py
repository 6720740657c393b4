"""What a report of leaked secrets does, token by token.

A token is first checked for the shape and checksum of a Gatepass secret: one that fails is a
false positive, found without a database lookup. A well-formed one is looked up by its keyed hash
(one indexed lookup among the secret versions of its kind). It is a true positive if it is a
secret Gatepass issued, whatever has become of it since (rotated out, expired, revoked): it is
real, and it leaked. Only a deleted credential's secrets are forgotten, and read as unknown.

What happens to the credential, with the ``system`` actor naming the reporter:

- its current secret leaked, and it is active or suspended: the tenant's ``leak_action``
  (``revoke``, the default, or ``suspend``) through the credential lifecycle, so that the audit
  record, the change feed and every process's cache see it as they see an administrator's;
- an older secret still working in a rotation's grace period leaked: that secret stops now, and
  the credential keeps its current one (which did not leak);
- anything else (already revoked, already suspended under ``suspend``, a secret already ended):
  nothing more. A report acts once; a repeat is still a true positive, and changes nothing.

Each action is told by ``announce``: an audit record holding where the secret was found and its
hint, never the secret, and a mail to the people answerable for the credential, sent after the
transaction commits (``gatepass.leaks.notify``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from gatepass import credential_secrets as cs
from gatepass.apikeys.kind import API_KEY
from gatepass.audit.models import AuditEvent
from gatepass.audit.service import Actor
from gatepass.clients.kind import CLIENT
from gatepass.credentials import lifecycle
from gatepass.credentials.answerable import answerable
from gatepass.credentials.policy import CredentialPolicy
from gatepass.db import Database, utcnow
from gatepass.leaks.notify import LeakNotice
from gatepass.leaks.reports import Report
from gatepass.tenants.models import Tenant

KINDS: dict[cs.SecretKind, lifecycle.Kind[Any]] = {
    cs.SecretKind.CLIENT_SECRET: CLIENT,
    cs.SecretKind.API_KEY: API_KEY,
}


@dataclass(frozen=True)
class Found:
    """A reported secret Gatepass issued: the credential, and the version of its secret."""

    kind: lifecycle.Kind[Any]
    row: Any
    version: Any

    @property
    def ref(self) -> str:
        return self.kind.ref_of(self.row)


def system_actor(reporter: str) -> Actor:
    """The actor of what a report does: ``leak-report:github``, ``leak-report:api``."""
    return Actor(kind="system", id=f"leak-report:{reporter}")


def assess(
    db: Database, hasher: cs.SecretHasher, reports: Sequence[Report], *, actor: Actor
) -> tuple[list[dict[str, str]], list[LeakNotice]]:
    """Label every reported token and act on the live ones, in one transaction; returns the
    labels (in the order reported) and the notices to mail once it has committed."""
    labels: dict[int, dict[str, str]] = {}
    notices = []
    # In one order whatever the request's, so that two reports lock credentials alike.
    ordered = sorted(enumerate(reports), key=lambda item: item[1].token_hash())
    with db.transaction() as session:
        for index, report in ordered:
            issued, notice = _assess_one(session, hasher, report, actor)
            labels[index] = report.feedback(issued)
            notices.extend([notice] if notice is not None else [])
    return [labels[index] for index in range(len(reports))], notices


def _assess_one(
    session: Session, hasher: cs.SecretHasher, report: Report, actor: Actor
) -> tuple[bool, LeakNotice | None]:
    secret_kind = cs.kind_of(report.token.reveal())
    if secret_kind is None:
        return False, None
    found = _lookup(session, KINDS[secret_kind], hasher.digest(report.token))
    if found is None:
        return False, None
    tenant = session.get_one(Tenant, found.row.tenant_id)
    action = _act(session, tenant, found, actor=actor)
    if action is None:
        return True, None
    return True, announce(session, tenant, found, report, action=action, actor=actor)


def _lookup(session: Session, kind: lifecycle.Kind[Any], digest: bytes) -> Found | None:
    """The credential and secret version ``digest`` is the keyed hash of, if any."""
    version_model = kind.model.secrets.property.mapper.class_
    found = session.execute(
        select(kind.model, version_model)
        .join(kind.model.secrets)
        .where(version_model.digest == digest)
        # Two reports of one secret at once: the second waits, then finds it already acted on.
        .with_for_update(of=kind.model)
    ).first()
    return None if found is None else Found(kind, found[0], found[1])


def _act(session: Session, tenant: Tenant, found: Found, *, actor: Actor) -> str | None:
    """Do what the leak of ``found.version`` calls for; returns what was done (or None)."""
    kind, row, ref, now = found.kind, found.row, found.ref, utcnow()
    if row.status not in lifecycle.REVOCABLE:
        return None
    if found.version is not max(row.secrets, key=lambda v: v.id):
        if not _works(found.version, now):
            return None
        found.version.expires_at = now
        lifecycle.publish_change(session, tenant, kind, ref)
        return "secret_ended"
    if CredentialPolicy.of(tenant.credential_policy).leak_action == "suspend":
        if row.status == "suspended":  # it would work again if resumed: tell them, once
            return None if _reported_before(session, tenant, found) else "already_suspended"
        lifecycle.suspend(session, tenant, kind, ref, actor=actor)
        return "suspended"
    lifecycle.revoke(session, tenant, kind, ref, actor=actor)
    return "revoked"


def _reported_before(session: Session, tenant: Tenant, found: Found) -> bool:
    """Whether a leak of this credential was reported (and told) already."""
    earlier = select(AuditEvent.id).where(
        AuditEvent.tenant_id == tenant.id,
        AuditEvent.action == f"{found.kind.audit}.leak_reported",
        AuditEvent.target == found.ref,
    )
    return session.scalar(earlier.limit(1)) is not None


def _works(version: Any, now: datetime) -> bool:
    ends = version.expires_at
    return ends is None or ends.replace(tzinfo=now.tzinfo) > now


def announce(
    session: Session, tenant: Tenant, found: Found, report: Report, *, action: str, actor: Actor
) -> LeakNotice:
    """Tell of one leak Gatepass acted on: its audit record now, and the mail to send once the
    transaction commits. Where the secret was found is masked if it holds a secret itself."""
    where = {"url": cs.mask(report.url, 500), "source": cs.mask(report.source)}
    hint = found.version.hint
    details = {**where, "type": cs.mask(report.type), "hint": hint, "action": action}
    lifecycle.record_action(
        session,
        tenant,
        found.kind,
        action="leak_reported",
        ref=found.ref,
        actor=actor,
        details={**details, "secret_version": found.version.id},
    )
    return LeakNotice(
        recipients=recipients(session, tenant, found.row),
        organisation=tenant.name,
        what=found.kind.label,
        name=found.row.name,
        ref=found.ref,
        hint=hint,
        url=where["url"],
        action=action,
    )


def recipients(session: Session, tenant: Tenant, row: Any) -> tuple[str, ...]:
    """Who answers for a credential (``answerable``): never a user who has left."""
    return answerable(session, tenant.id, row)
