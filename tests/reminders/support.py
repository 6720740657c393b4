"""Helpers of the reminder tests: credentials made by console users, the job run at a chosen
instant, and the mails a real SMTP server (aiosmtpd) received."""

from __future__ import annotations

from datetime import datetime, timedelta
from email.message import EmailMessage

from sqlalchemy import select

from gatepass.apikeys import service as apikeys
from gatepass.audit.service import Actor
from gatepass.clients import service as clients
from gatepass.db import Database, utcnow
from gatepass.jobs.runner import JobContext
from gatepass.reminders import job
from gatepass.reminders.models import SentReminder
from gatepass.settings import Settings
from tests.console.conftest import Mailbox, started_mailbox
from tests.factories import Factory
from tests.http.support import tenant_session

__all__ = ["Mailbox", "started_mailbox"]


def mailing(settings: Settings, box: Mailbox) -> Settings:
    """``settings`` sending mail to ``box`` (plain SMTP on its port)."""
    return settings.model_copy(
        update={"smtp_host": "127.0.0.1", "smtp_port": box.port, "smtp_security": "none"}
    )


def run_at(settings: Settings, at: datetime) -> int:
    """One run of the reminder job as if it were ``at``; how many things it did."""
    db = Database(settings.effective_database_url)
    try:
        return job.run(JobContext(db=db, settings=settings, now=at))
    finally:
        db.dispose()


def later(days: float) -> datetime:
    return utcnow() + timedelta(days=days)


def user_actor(email: str, role: str = "admin") -> Actor:
    return Actor(kind="user", id=email, role=role)


def make_client(
    factory: Factory, *, by: Actor, expires_at: datetime | None = None, name: str = "billing"
) -> str:
    """An OAuth client of acme created by ``by``; its client ID."""
    spec = clients.NewClient(name=name, scopes=["nql"], expires_at=expires_at)
    with tenant_session(factory, "acme") as (session, t):
        row, _ = clients.create_client(session, t, spec, actor=by, hasher=factory.hasher)
        return row.client_id


def make_key(
    factory: Factory,
    *,
    by: Actor,
    expires_at: datetime | None = None,
    owner: str | None = None,
    name: str = "export",
) -> str:
    """An API key of acme created by ``by`` (owned by ``owner``); its key ID."""
    spec = apikeys.NewApiKey(name=name, scopes=[], expires_at=expires_at, owner_email=owner)
    with tenant_session(factory, "acme") as (session, t):
        row, _ = apikeys.create_key(session, t, spec, actor=by, hasher=factory.hasher)
        return row.key_id


def sent_to(box: Mailbox) -> list[str]:
    return sorted(str(m["To"]) for m in box.messages)


def about(box: Mailbox, ref: str) -> list[EmailMessage]:
    return [m for m in box.messages if ref in m.get_content()]


def recorded(factory: Factory) -> list[tuple[str, int, str]]:
    """(reason, threshold, recipient) of every recorded notice and mail."""
    with factory.db.read() as session:
        rows = session.scalars(select(SentReminder).order_by(SentReminder.id))
        return [(r.reason, r.threshold, r.recipient) for r in rows]
