"""A notice about one credential, and the mail that tells one recipient about it.

The mail names the credential (kind, name and ID), its tenant and the date, and links to its
page in the console; it never holds a secret (the job never reads one).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import make_msgid

from gatepass.deliveries.mail import MailError, header_text
from gatepass.settings import Settings

EXPIRY, DORMANT = "expiry", "dormant"
# target type -> what the mail calls it, what its ID is called, its console page
KINDS = {
    "oauth_client": ("OAuth client", "client ID", "credentials"),
    "api_key": ("API key", "key ID", "api-keys"),
}


@dataclass(frozen=True)
class Notice:
    tenant_id: int
    tenant_slug: str
    tenant_name: str
    kind: str  # target type: "oauth_client", "api_key"
    credential_id: int  # its row
    ref: str  # its client ID or key ID
    name: str
    reason: str  # EXPIRY or DORMANT
    threshold: int  # days
    about: datetime  # the expiry, or the last use (the creation, if never used)
    recipients: tuple[str, ...]
    suspend: bool = False  # dormant, and the tenant's policy suspends dormant credentials
    never_used: bool = False

    @property
    def about_key(self) -> str:
        return self.about.isoformat()

    @property
    def event(self) -> str:
        """The webhook event this notice is: ``credential.expiring``, ``credential.dormant``."""
        return "credential.expiring" if self.reason == EXPIRY else "credential.dormant"

    def named(self) -> str:
        what, id_label, _ = KINDS[self.kind]
        return f"{what} “{self.name}” ({id_label} {self.ref})"

    def link(self, public_url: str) -> str:
        return f"{public_url}/console/{self.tenant_slug}/{KINDS[self.kind][2]}"


def subject(notice: Notice) -> str:
    what = KINDS[notice.kind][0]
    if notice.reason == EXPIRY:
        return f"{what} “{notice.name}” expires on {_day(notice.about)}"
    done = ", suspended" if notice.suspend else ""
    return f"{what} “{notice.name}” unused for {notice.threshold} days{done}"


def body(notice: Notice, link: str) -> str:
    if notice.reason == EXPIRY:
        told = (
            f"The {notice.named()} of {notice.tenant_name} expires on {_when(notice.about)},"
            f" in {notice.threshold} day{'s' if notice.threshold > 1 else ''} or less."
            " After that it stops working: give it a later expiry, or replace it, before then."
        )
    else:
        told = (
            f"The {notice.named()} of {notice.tenant_name} has not been used for"
            f" {notice.threshold} days ({_last_use(notice)})."
            + (
                " The tenant's credential policy suspends dormant credentials: it was"
                " suspended and works again once resumed."
                if notice.suspend
                else " If nothing needs it any more, suspend or revoke it."
            )
        )
    return (
        f"{told}\n\nSee it in the Gatepass console:\n\n{link}\n\n"
        "You get this mail because you created or own this credential, or administer"
        f" {notice.tenant_name} in Gatepass.\n"
    )


def message(settings: Settings, notice: Notice, recipient: str) -> EmailMessage:
    """The mail to ``recipient``; ``MailError`` if it cannot be built."""
    mail = EmailMessage()
    try:
        mail["Subject"] = header_text(f"{subject(notice)} ({notice.tenant_name})")
        mail["From"] = header_text(settings.smtp_from)
        mail["To"] = header_text(recipient)
        mail["Message-ID"] = make_msgid(domain="gatepass")
        mail.set_content(body(notice, notice.link(settings.public_url)))
        mail.as_bytes()
    except (ValueError, TypeError, IndexError, UnicodeError) as exc:
        raise MailError(f"the mail could not be built: {type(exc).__name__}") from None
    return mail


def _day(at: datetime) -> str:
    return at.strftime("%Y-%m-%d")


def _when(at: datetime) -> str:
    return at.strftime("%Y-%m-%d %H:%M UTC")


def _last_use(notice: Notice) -> str:
    if notice.never_used:
        return f"never used; created {_when(notice.about)}"
    return f"last used {_when(notice.about)}"
