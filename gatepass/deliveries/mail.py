"""Sending the one-time link by SMTP (``GATEPASS_SMTP_*``)."""

from __future__ import annotations

import smtplib
import ssl
import unicodedata
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid

from gatepass.settings import Settings


class MailError(Exception):
    """The mail could not be handed to the SMTP server; the message says why, without secrets."""


def configured(settings: Settings) -> bool:
    return bool(settings.smtp_host)


@dataclass(frozen=True)
class Credential:
    """The credential a link hands over, as the mail names it: never its secret."""

    what: str  # "API key", "OAuth client credentials"
    name: str
    ref: str  # its client ID or key ID
    event: str  # "created", "rotated" or "regenerated"

    @classmethod
    def of(cls, about: dict[str, str]) -> Credential:
        """From what a link hands over (``service.describe_delivery``, or the opened payload)."""
        what = "API key" if about.get("kind") == "api_key" else "OAuth client credentials"
        ref = about.get("ref") or about.get("key_id") or about.get("client_id") or ""
        return cls(what, about.get("name", ""), ref, about.get("event", "created"))

    def summary(self) -> str:
        """What a link is for, on its page: which credential, new or with a new secret."""
        named = f"“{self.name}” ({self.ref_label} {self.ref})"
        if self.event == "rotated":
            return f"A new secret of the OAuth client {named}: its secret was rotated."
        if self.event == "regenerated":
            return f"The {self.what} {named}, regenerated: it replaces the key before it."
        return f"New {self.what} {named}, just created."

    @property
    def ref_label(self) -> str:
        return "key ID" if self.what == "API key" else "client ID"

    def told(self, sender: str) -> str:
        """What happened, in one sentence: "Ada created OAuth client credentials “Billing”
        (client ID billing-sync)", "Ada regenerated the API key “Export” (key ID k_1)"."""
        named = f"“{self.name}” ({self.ref_label} {self.ref})"
        if self.event == "rotated":
            return f"{sender} rotated the secret of the OAuth client {named}"
        if self.event == "regenerated":
            return f"{sender} regenerated the {self.what} {named}"
        return f"{sender} created {self.what} {named}"


def link_message(
    settings: Settings,
    *,
    recipient: str,
    link: str,
    credential: Credential,
    organisation: str,
    sender: str,
    expires: str,
) -> EmailMessage:
    """The whole mail, built before anything is stored; ``MailError`` if it cannot be.

    It names the credential (name and ID) and says whether it is new or has a new secret, so
    the recipient knows what the link is for before opening it; the secret is behind the link.
    """
    message = EmailMessage()
    fresh = "New" if credential.event == "created" else credential.event.capitalize()
    try:
        message["Subject"] = header_text(
            f"{fresh} {credential.what} “{credential.name}” for {organisation}"
        )
        message["From"] = header_text(settings.smtp_from)
        message["To"] = header_text(recipient)
        message["Message-ID"] = make_msgid(domain="gatepass")
        message.set_content(
            f"{credential.told(sender)} for you in {organisation}.\n\n"
            f"Open this link to see {_new_secret(credential)}."
            f" The link works once, until {expires}:\n\n"
            f"{link}\n\n"
            "After you open it, the link stops working; copy the secret then and keep it safe.\n"
            "If you did not expect this mail, do not open the link and tell the sender.\n"
        )
        message.as_bytes()  # serialise now: a header the policy refuses fails here, not later
    except (ValueError, TypeError, IndexError, UnicodeError) as exc:
        raise MailError(f"the mail could not be built: {type(exc).__name__}") from None
    return message


def _new_secret(credential: Credential) -> str:
    if credential.event == "created":
        return "its secret"
    return "the new secret" if credential.what != "API key" else "the new key"


def header_text(text: str) -> str:
    """``text`` fit for one mail header line: control characters and line or paragraph
    separators (U+0085, U+2028, ...) become spaces; the policy then encodes non-ASCII itself."""
    return " ".join("".join(" " if _breaks_header(c) else c for c in text).split())


def _breaks_header(char: str) -> bool:
    return unicodedata.category(char) in {"Cc", "Cf", "Zl", "Zp", "Cs"}


def send(settings: Settings, message: EmailMessage) -> None:
    """Hand ``message`` to the configured SMTP server, or raise ``MailError``."""
    _session(settings, message)


def probe(settings: Settings) -> None:
    """Connect, secure and log in as ``send`` would, then leave without sending (doctor)."""
    _session(settings, None)


def _session(settings: Settings, message: EmailMessage | None) -> None:
    host = settings.smtp_host
    if not host:
        raise MailError("email is not configured (GATEPASS_SMTP_HOST)")
    timeout = settings.smtp_timeout
    try:
        smtp: smtplib.SMTP
        if settings.smtp_security == "tls":
            smtp = smtplib.SMTP_SSL(
                host, settings.smtp_port, timeout=timeout, context=ssl.create_default_context()
            )
        else:
            smtp = smtplib.SMTP(host, settings.smtp_port, timeout=timeout)
        with smtp:
            smtp.ehlo()
            if settings.smtp_security == "starttls":
                smtp.starttls(context=ssl.create_default_context())
            if settings.smtp_username and settings.smtp_password is not None:
                smtp.login(settings.smtp_username, settings.smtp_password.get_secret_value())
            if message is not None:
                smtp.send_message(message)
    except (OSError, smtplib.SMTPException, ValueError, UnicodeError) as exc:
        raise MailError(
            f"the mail server at {host}:{settings.smtp_port} refused: {_why(exc)}"
        ) from None


def _why(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPResponseException):
        said = exc.smtp_error
        text = said.decode(errors="replace") if isinstance(said, bytes) else str(said)
        return f"{exc.smtp_code} {text[:200]}"
    return type(exc).__name__ if not str(exc) else str(exc)[:200]
