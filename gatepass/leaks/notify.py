"""The mail that tells the people answerable for a credential that its secret leaked.

Sent after the transaction that acted has committed, by the SMTP settings every mail of Gatepass
uses (``GATEPASS_SMTP_*``). A mail that cannot be sent is logged and dropped: the credential is
revoked all the same, and the reporter gets its answer all the same.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid

from gatepass.deliveries import mail
from gatepass.settings import Settings

log = logging.getLogger("gatepass.leaks")

DONE = {
    "revoked": "Gatepass revoked it: it no longer works, and cannot be brought back. Create a new"
    " credential for the integration that used it.",
    "suspended": "Gatepass suspended it, as your organisation's policy asks: it does not work"
    " until an administrator resumes it. Give it a new secret before you resume it, or the"
    " leaked secret works again.",
    "already_suspended": "It was already suspended, and stays so: the leaked secret is its current"
    " one, so it works again if the credential is resumed. Give it a new secret before anyone"
    " resumes it.",
    "secret_ended": "The leaked secret was an older one, still working in a rotation's grace"
    " period: Gatepass ended it. The credential's current secret did not leak and still works.",
}


@dataclass(frozen=True)
class LeakNotice:
    """One leak Gatepass acted on, as its mail tells it: never the secret, only its hint."""

    recipients: tuple[str, ...]
    organisation: str
    what: str  # the kind's label: "client", "API key"
    name: str
    ref: str
    hint: str
    url: str
    action: str  # a key of DONE

    def message(self, settings: Settings, recipient: str) -> EmailMessage:
        """The mail to one recipient: each gets their own, so none sees who else was told."""
        what = "OAuth client" if self.what == "client" else self.what
        message = EmailMessage()
        message["Subject"] = mail.header_text(
            f"Leaked secret: {what} “{self.name}” of {self.organisation}"
        )
        message["From"] = mail.header_text(settings.smtp_from)
        message["To"] = mail.header_text(recipient)
        message["Message-ID"] = make_msgid(domain="gatepass")
        message.set_content(
            f"A secret of the {what} “{self.name}” ({self.ref}) in {self.organisation} was"
            f" reported leaked: the secret {self.hint}.\n\n"
            f"Where it was found: {self.url or 'not said'}\n\n"
            f"{DONE[self.action]}\n\n"
            "Find out how the secret came to be there, remove it, and check the audit log for"
            " what the credential did since.\n"
        )
        return message


def send_all(settings: Settings, notices: Sequence[LeakNotice]) -> None:
    """Mail each notice to each of its recipients; a failure is logged, never raised."""
    if not mail.configured(settings):
        return
    for notice in notices:
        for recipient in notice.recipients:
            try:
                mail.send(settings, notice.message(settings, recipient))
            except (mail.MailError, ValueError, TypeError) as exc:
                log.warning("leak notice for %s not mailed: %s", notice.ref, exc)
