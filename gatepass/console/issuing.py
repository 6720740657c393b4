"""Issuing a new secret from the console: shown once to its creator, or emailed as a link.

Either way the secret leaves the server once. Shown: it travels in the sealed reveal cookie to the
next page (``web.set_reveal``). Emailed: the credential and a sealed one-time link are stored in
one transaction, then the mail is sent; if the mail server refuses, the link is erased, the failure
audited, and the secret shown to the creator instead, with a warning, so that nothing is lost.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from email.message import EmailMessage

from fastapi import Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from gatepass.api.auth import threaded
from gatepass.console.web import Viewer, actor_of, redirect, services, set_reveal
from gatepass.deliveries import mail
from gatepass.deliveries import service as deliveries
from gatepass.errors import InvalidInputError
from gatepass.tenants import service as tenants
from gatepass.tenants.models import Tenant

LINK_PATH = "/console/link"


@dataclass(frozen=True)
class Issued:
    """A credential with a new secret: what the reveal dialog shows, and what a link hands over."""

    kind: str  # "client" or "api_key": which reveal dialog
    target_type: str  # the audit target type: "oauth_client" or "api_key"
    target: str
    name: str
    secret: str
    event: str = "created"  # or "rotated" (a client's secret), "regenerated" (a key)
    shown: dict[str, str] = field(default_factory=dict)  # more fields of the dialog

    @property
    def what(self) -> str:
        return "API key" if self.kind == "api_key" else "OAuth client credentials"

    def payload(self) -> dict[str, str]:
        return {
            "kind": self.kind,
            "name": self.name,
            "secret": self.secret,
            "event": self.event,
            "ref": self.target,
            **self.shown,
        }


def check_email_to(request: Request, email_to: str) -> str | None:
    """The recipient, validated before anything is created; ``None`` when not emailing."""
    if not email_to:
        return None
    if not mail.configured(services(request).settings):
        raise InvalidInputError("email is not configured on this server (GATEPASS_SMTP_HOST)")
    return deliveries.check_recipient(email_to)


def delivery_keys(request: Request) -> deliveries.DeliveryKeys:
    found: deliveries.DeliveryKeys = request.app.state.delivery_keys
    return found


async def issue(
    request: Request,
    viewer: Viewer,
    work: Callable[[Session, Tenant], Issued],
    *,
    email_to: str | None,
    then: str,
) -> Response:
    """Run ``work`` (which makes a secret) and hand the secret over; redirect to ``then``."""
    svc = services(request)
    actor = actor_of(request, viewer)
    lifetime = timedelta(seconds=svc.settings.email_link_lifetime)
    keys = delivery_keys(request)

    def store() -> tuple[Issued, deliveries.Link | None, EmailMessage | None]:
        with svc.db.transaction() as session:
            tenant = tenants.get_tenant(session, viewer.tenant_slug)
            issued = work(session, tenant)
            if email_to is None:
                return issued, None, None
            link = deliveries.create_delivery(
                session,
                tenant,
                recipient=email_to,
                target_type=issued.target_type,
                target=issued.target,
                payload=issued.payload(),
                lifetime=lifetime,
                actor=actor,
                keys=keys,
            )
            # Built inside the transaction: a mail that cannot be built rolls everything back.
            message = mail.link_message(
                svc.settings,
                recipient=email_to,
                link=f"{svc.settings.public_url}{LINK_PATH}#{link.token}",
                credential=mail.Credential(
                    what=issued.what, name=issued.name, ref=issued.target, event=issued.event
                ),
                organisation=tenant.name or tenant.slug,
                sender=viewer.name,
                expires=_expires(link),
            )
            return issued, link, message

    try:
        issued, link, message = await threaded(store)
    except mail.MailError as exc:
        raise InvalidInputError(f"{exc}; nothing was created") from None
    response = redirect(then)
    if link is None or message is None or email_to is None:
        set_reveal(request, response, viewer, issued.payload())
        return response
    token = link.token
    expires = _expires(link)
    try:
        await threaded(lambda: mail.send(svc.settings, message))
    except mail.MailError as exc:
        reason = str(exc)

        def cancel() -> None:
            with svc.db.transaction() as session:
                deliveries.cancel_delivery(session, token, keys=keys, actor=actor, reason=reason)

        await threaded(cancel)
        warning = (
            f"The email to {email_to} could not be sent ({reason}). Copy the secret now instead."
        )
        set_reveal(request, response, viewer, {**issued.payload(), "warning": warning})
        return response
    set_reveal(
        request,
        response,
        viewer,
        {"kind": "emailed", "name": issued.name, "recipient": email_to, "expires": expires},
    )
    return response


def _expires(link: deliveries.Link) -> str:
    return link.expires_at.strftime("%Y-%m-%d %H:%M UTC")
