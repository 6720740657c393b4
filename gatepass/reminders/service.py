"""Which notices are due, and telling them: once per notice, once per recipient.

- Expiry: an active credential expiring within 30 days gets the notice of the nearest of the
  thresholds 30, 7 and 1 days it has reached (one created with 5 days left gets the 7-day one
  only). A new expiry date is a new notice.
- Dormancy, when the tenant's policy sets ``dormant_after_days``: an active credential unused
  that long (the rule of ``credentials.dormancy``) gets one notice per dormant period, and is
  suspended then if the policy says so, by the system actor, audited and announced to every
  process as a suspension by hand is. Resumed, it is not suspended again until it has been
  used and gone unused again.

Recipients are the credential's creator (when ``created_by`` is the email of an active user of
the tenant), an API key's owner (if active) and the tenant's active administrators, each once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from gatepass.apikeys.kind import API_KEY
from gatepass.audit.service import Actor
from gatepass.clients.kind import CLIENT
from gatepass.credentials import dormancy, lifecycle
from gatepass.credentials.answerable import admins, answerable
from gatepass.credentials.policy import CredentialPolicy
from gatepass.db import Database
from gatepass.deliveries import mail
from gatepass.reminders.models import SentReminder
from gatepass.reminders.notices import DORMANT, EXPIRY, Notice, message
from gatepass.settings import Settings
from gatepass.tenants.models import Tenant
from gatepass.webhooks import outbox

log = logging.getLogger(__name__)
EXPIRY_DAYS = (1, 7, 30)  # nearest first
SYSTEM = Actor(kind="system", id="jobs")
KINDS: dict[str, lifecycle.Kind[Any]] = {kind.target_type: kind for kind in (CLIENT, API_KEY)}


def nearest_threshold(left: timedelta) -> int | None:
    """The nearest threshold (in days) a credential expiring in ``left`` has reached, if any."""
    return next((days for days in EXPIRY_DAYS if left <= timedelta(days=days)), None)


def due_notices(session: Session, tenant: Tenant, now: datetime) -> list[Notice]:
    """Every notice ``tenant``'s credentials call for now, told already or not."""
    policy = CredentialPolicy.of(tenant.credential_policy)
    scan = _Scan(session, tenant, now, admins(session, tenant.id))
    found: list[Notice] = []
    for kind in KINDS.values():
        for row in _expiring(session, tenant, kind, now):
            left = nearest_threshold(row.expires_at - now)
            if left is not None:
                found.append(scan.notice(kind, row, EXPIRY, left, about=row.expires_at))
        days = policy.dormant_after_days
        if days is not None:
            since = now - timedelta(days=days)
            found.extend(
                scan.notice(
                    kind,
                    row,
                    DORMANT,
                    days,
                    about=row.last_used_at or row.created_at,
                    suspend=policy.auto_suspend_dormant,
                )
                for row in dormancy.dormant(session, tenant, kind, since=since, now=now)
            )
    return found


def _expiring(
    session: Session, tenant: Tenant, kind: lifecycle.Kind[Any], now: datetime
) -> list[Any]:
    model: Any = kind.model
    horizon = now + timedelta(days=max(EXPIRY_DAYS))
    return list(
        session.scalars(
            select(model)
            .where(
                model.tenant_id == tenant.id,
                lifecycle.status_condition(kind, "active", now),
                model.expires_at <= horizon,
            )
            .options(*kind.eager())
        )
    )


@dataclass(frozen=True)
class _Scan:
    """One tenant's look for due notices."""

    session: Session
    tenant: Tenant
    now: datetime
    admins: set[str]

    def notice(
        self,
        kind: lifecycle.Kind[Any],
        row: Any,
        reason: str,
        threshold: int,
        *,
        about: datetime,
        suspend: bool = False,
    ) -> Notice:
        return Notice(
            tenant_id=self.tenant.id,
            tenant_slug=self.tenant.slug,
            tenant_name=self.tenant.name,
            kind=kind.target_type,
            credential_id=row.id,
            ref=kind.ref_of(row),
            name=row.name,
            reason=reason,
            threshold=threshold,
            about=about,
            recipients=self.recipients(row),
            suspend=suspend,
            never_used=row.last_used_at is None,
        )

    def recipients(self, row: Any) -> tuple[str, ...]:
        return answerable(self.session, self.tenant.id, row, admins_=self.admins)


# --- telling ---------------------------------------------------------------------------------


def deliver(db: Database, settings: Settings, notice: Notice) -> int:
    """Tell ``notice``: record it (and suspend) the first time, then mail each recipient not
    mailed yet. Returns how many things it did (a suspension, mails sent). A mail that fails
    is logged and tried again on the next run; without SMTP configured nobody is mailed."""
    with db.transaction() as session:
        told = _told(session, notice)
        did = 0 if "" in told else announce(session, notice)
    if not mail.configured(settings):
        return did
    for recipient in notice.recipients:
        if recipient not in told and _mail(db, settings, notice, recipient):
            did += 1
    return did


def announce(session: Session, notice: Notice) -> int:
    """The one place a notice happens, once, in the transaction that records it: the
    suspension of a dormant credential, and the webhook event ``notice.event``."""
    _record(session, notice, "")
    outbox.emit(
        session,
        tenant_id=notice.tenant_id,
        event=notice.event,
        credential=outbox.Subject(kind=notice.kind, id=notice.ref, name=notice.name),
        data=event_data(notice),
        actor=SYSTEM,
    )
    if not notice.suspend:
        return 0
    tenant = session.get_one(Tenant, notice.tenant_id)
    lifecycle.suspend(session, tenant, KINDS[notice.kind], notice.ref, actor=SYSTEM)
    return 1


def event_data(notice: Notice) -> dict[str, Any]:
    """What the webhook event says beyond the credential: its expiry and the days left, or its
    last use (none: never used) and the days unused, and whether it was suspended."""
    when = outbox.iso(notice.about)
    if notice.reason == EXPIRY:
        return {"expires_at": when, "days_left": notice.threshold}
    last_used = None if notice.never_used else when
    return {"last_used_at": last_used, "days_unused": notice.threshold, "suspended": notice.suspend}


def _mail(db: Database, settings: Settings, notice: Notice, recipient: str) -> bool:
    try:
        mail.send(settings, message(settings, notice, recipient))
    except mail.MailError as exc:  # says why, never a secret (the mail holds none)
        log.warning(
            "reminders: a %s mail about %s %s was not sent (tried again next run): %s",
            notice.reason,
            notice.kind,
            notice.ref,
            exc,
        )
        return False
    with db.transaction() as session:
        _record(session, notice, recipient)
    return True


def _told(session: Session, notice: Notice) -> set[str]:
    """Who was told about ``notice`` already (``""``: the notice itself was recorded)."""
    return set(
        session.scalars(
            select(SentReminder.recipient).where(
                SentReminder.credential_kind == notice.kind,
                SentReminder.credential_id == notice.credential_id,
                SentReminder.reason == notice.reason,
                SentReminder.threshold == notice.threshold,
                SentReminder.about == notice.about_key,
            )
        )
    )


def _record(session: Session, notice: Notice, recipient: str) -> None:
    session.add(
        SentReminder(
            tenant_id=notice.tenant_id,
            credential_kind=notice.kind,
            credential_id=notice.credential_id,
            reason=notice.reason,
            threshold=notice.threshold,
            about=notice.about_key,
            recipient=recipient,
        )
    )
